"""A local package index for tests of the environment set-up: wheels the tests make, no network.

``stand_in_wheel`` makes a tiny wheel with the given modules (TensorFlow's stand-in: its real wheel is
270 MB); ``wheel_of_installed`` packs a distribution installed in this Python into a real wheel again.
"""
from __future__ import annotations

import zipfile
from importlib import metadata
from pathlib import Path

# A stand-in TensorFlow with what GeoSeg's environment check asks of it.
FAKE_TENSORFLOW = '''__version__ = "2.21.0"


class config:
    @staticmethod
    def list_physical_devices(device_type=None):
        return []
'''


def stand_in_wheel(folder: Path, name: str, version: str, modules: dict[str, str]) -> Path:
    """A pure-Python wheel of distribution ``name`` holding ``modules`` (path in the wheel → source)."""
    stem = f"{name.replace('-', '_')}-{version}"
    files = {**modules,
             f"{stem}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{stem}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: geoseg-tests\nRoot-Is-Purelib: true\n"
                                        "Tag: py3-none-any\n"}
    files[f"{stem}.dist-info/RECORD"] = "".join(f"{path},,\n" for path in [*files, f"{stem}.dist-info/RECORD"])
    path = Path(folder) / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for arcname, text in files.items():
            wheel.writestr(arcname, text)
    return path


def wheel_of_installed(folder: Path, name: str) -> Path:
    """The installed distribution ``name`` packed as a wheel again (its own files and WHEEL tags)."""
    distribution = metadata.distribution(name)
    tags = [line.split(": ", 1)[1] for line in distribution.read_text("WHEEL").splitlines()
            if line.startswith("Tag: ")]
    stem = f"{distribution.metadata['Name'].replace('-', '_')}-{distribution.version}"
    path = Path(folder) / f"{stem}-{tags[0]}.whl"
    with zipfile.ZipFile(path, "w") as wheel:  # stored, not compressed: fast
        for file in distribution.files:
            source = Path(distribution.locate_file(file))
            if source.is_file() and "__pycache__" not in file.parts and ".." not in file.parts:  # not bin/
                wheel.write(source, file.as_posix())
    return path
