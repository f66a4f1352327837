"""The plugin's metadata.txt, read once: inside the plugin folder in the release zip, beside it in a source
checkout."""
from configparser import ConfigParser
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent

_metadata = ConfigParser()
_metadata.read(next(path for path in (PLUGIN_DIR / "metadata.txt", PLUGIN_DIR.parent / "metadata.txt")
                    if path.is_file()), encoding="utf-8")

VERSION = _metadata.get("general", "version")
ICON_PATH = str(PLUGIN_DIR / _metadata.get("general", "icon"))
