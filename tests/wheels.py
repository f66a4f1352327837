"""A local package index for tests of the environment set-up: wheels the tests make, no network.

``stand_in_wheel`` makes a tiny wheel with the given modules (TensorFlow's stand-in: its real wheel is
270 MB); ``wheel_of_installed`` packs a distribution installed in this Python into a real wheel again.
"""
from __future__ import annotations

import zipfile
from importlib import metadata
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent.parent / "training" / "requirements.txt"


def fake_tensorflow(version: str) -> str:
    """A stand-in TensorFlow ``version`` with what GeoSeg's environment check asks of it."""
    return f'''__version__ = "{version}"


class config:
    @staticmethod
    def list_physical_devices(device_type=None):
        return []
'''


FAKE_TENSORFLOW = fake_tensorflow("2.21.0")


def required_version(name: str) -> str:
    """The lowest version of ``name`` that training/requirements.txt (with the list it includes) accepts on this
    Python (the line whose marker matches): 2.21.0 for ``tensorflow-cpu==2.21.*``, 2.22.0rc0 for
    ``>=2.22.0rc0,<2.23`` on 3.14."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from training.host.environment import expanded

    for line in expanded(REQUIREMENTS).splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        if canonicalize_name(requirement.name) == canonicalize_name(name) and (
                requirement.marker is None or requirement.marker.evaluate()):
            for specifier in requirement.specifier:
                if specifier.operator in ("==", ">=", "~="):
                    return specifier.version.replace(".*", ".0")
    raise LookupError(f"{name} has no lower bound for this Python in {REQUIREMENTS}")


def pip_installed(name: str) -> bool:
    """Whether ``name`` was installed by pip (it has a RECORD); Debian's packages have none."""
    return metadata.distribution(name).files is not None


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
    tag = "-".join(".".join(dict.fromkeys(parts)) for parts in zip(*(t.split("-") for t in tags)))  # py2.py3-none-any
    path = Path(folder) / f"{stem}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as wheel:  # stored, not compressed: fast
        for file in distribution.files:
            source = Path(distribution.locate_file(file))
            if source.is_file() and "__pycache__" not in file.parts and ".." not in file.parts:  # not bin/
                wheel.write(source, file.as_posix())
    return path


def isolate_pip(monkeypatch) -> None:
    """pip sees no index, link or constraint of this machine's own configuration, only what a test gives."""
    for variable in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
