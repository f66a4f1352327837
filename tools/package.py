"""Build dist/geoseg_qgis-<version>.zip, installable through Plugin Manager › Install from ZIP.

The zip holds one folder, geoseg_qgis/, with the plugin, metadata.txt, LICENSE and the training package.
"""
import sys
import zipfile
from configparser import ConfigParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = "geoseg_qgis"
SKIP = {"__pycache__", ".pytest_cache"}


def _files(folder: Path):
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not SKIP & set(path.relative_to(ROOT).parts) and path.suffix != ".pyc":
            yield path


def build_zip(dist_dir: str | Path) -> Path:
    metadata = ConfigParser()
    metadata.read(ROOT / "metadata.txt", encoding="utf-8")
    target = Path(dist_dir) / f"{PLUGIN}-{metadata.get('general', 'version')}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _files(ROOT / PLUGIN):
            archive.write(path, f"{PLUGIN}/{path.relative_to(ROOT / PLUGIN)}")
        for path in _files(ROOT / "training"):
            archive.write(path, f"{PLUGIN}/{path.relative_to(ROOT)}")
        for name in ("metadata.txt", "LICENSE"):
            archive.write(ROOT / name, f"{PLUGIN}/{name}")
    return target


if __name__ == "__main__":
    print(build_zip(sys.argv[1] if len(sys.argv) > 1 else ROOT / "dist"))
