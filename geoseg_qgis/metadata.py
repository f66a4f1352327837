"""The plugin's metadata.txt, read once."""
from configparser import ConfigParser
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent

_metadata = ConfigParser()
_metadata.read(PLUGIN_DIR / "metadata.txt", encoding="utf-8")

VERSION = _metadata.get("general", "version")
ICON_PATH = str(PLUGIN_DIR / _metadata.get("general", "icon"))
