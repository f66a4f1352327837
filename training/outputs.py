"""Write outputs atomically: a file appears complete at its path, or not at all."""
from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import GeoSegError, file_error


def refuse_overwriting(config) -> None:
    """Raise ``ValueError`` if an output of ``config`` (its ``OUTPUTS`` fields) is one of its inputs
    (``INPUTS``) or another output: the same path, or the same file through a link or another spelling."""
    inputs, outputs = ([(name, path) for name in names for path in _paths(getattr(config, name))]
                       for names in (config.INPUTS, config.OUTPUTS))
    seen = []
    for name, path in outputs:
        for other, other_path in inputs + seen:
            if _same_file(path, other_path):
                what = "input" if (other, other_path) in inputs else "output"
                raise GeoSegError(f"The {_words(name)} {path} is also the {_words(other)} ({what}): GeoSeg never "
                                  "overwrites its inputs or writes two outputs to one file. Choose another path.")
        seen.append((name, path))


def check_writable(config) -> None:
    """Raise :class:`GeoSegError` for an output of ``config`` that cannot be written: a folder where a file is
    expected, a file where a folder is (its ``OUTPUT_FOLDERS``), or a folder that takes no new file (tried
    with a temporary file, removed at once). Nothing is created."""
    folders = getattr(config, "OUTPUT_FOLDERS", ())
    for name in config.OUTPUTS:
        if not getattr(config, name):
            continue
        path = Path(getattr(config, name))
        if name in folders and path.exists() and not path.is_dir():
            raise _cannot_use(path, errno.ENOTDIR)
        if name not in folders and path.is_dir():
            raise _cannot_use(path, errno.EISDIR)
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            raise _cannot_use(folder, errno.ENOTDIR)
        try:
            tempfile.TemporaryFile(dir=folder).close()
        except OSError as err:
            raise _cannot_use(folder, err.errno) from None


def _cannot_use(path: Path, code: int) -> GeoSegError:
    return GeoSegError(file_error(OSError(code, os.strerror(code), str(path))))


def _paths(value) -> list:
    """The paths a field holds: one, none, or a list (e.g. several model files)."""
    return [path for path in (value if isinstance(value, list) else [value]) if path]


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    with contextlib.suppress(OSError):
        return os.path.samefile(a, b)
    return Path(a).resolve() == Path(b).resolve()


def _words(field_name: str) -> str:
    return field_name.replace("_", " ")


RASTERS = (".tif", ".tiff")  # GeoSeg's rasters: only they carry a QGIS style beside them


def style_path(path: str | os.PathLike) -> Path:
    """The default style QGIS looks for beside a layer file: its name with the last suffix replaced."""
    return Path(path).with_suffix(".qml")


def sidecars(path: str | os.PathLike) -> list[Path]:
    """The files that describe an output to GIS software: GDAL's auxiliary metadata and, for a raster, QGIS'
    default style. They belong to the file: they are written with it, moved with it and removed with it.

    Another output with the same name but another suffix (``classes.gpkg`` beside ``classes.tif``) leaves
    the raster's style alone.
    """
    path = Path(path)
    return [path.with_name(path.name + ".aux.xml")] + ([style_path(path)] if path.suffix.lower() in RASTERS else [])


def remove_output(path: str | os.PathLike) -> None:
    for file in [Path(path), *sidecars(path)]:
        with contextlib.suppress(FileNotFoundError):
            file.unlink()


def partial_path(path: str | os.PathLike) -> Path:
    """Where :func:`atomic_path` writes ``path`` until it is whole (a hidden file beside it)."""
    path = Path(path)
    return path.with_name(f".{path.stem}.partial{path.suffix}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path beside ``path``; move it (and its sidecars) into place only on success.

    On any exception, cancellation included, the temporary files are removed and nothing half-written
    is left at ``path``; an earlier file at ``path`` is replaced in one step, so it is never missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(path)
    remove_output(tmp)
    try:
        yield str(tmp)
    except BaseException:
        with contextlib.suppress(OSError):  # the error that stopped the writing is the one to report
            remove_output(tmp)
        raise
    for src, dst in zip([tmp, *sidecars(tmp)], [path, *sidecars(path)]):  # the file first: it is never missing
        if src.exists():
            os.replace(src, dst)
        else:
            dst.unlink(missing_ok=True)
