"""Write outputs atomically: a file appears complete at its path, or not at all.

Each write goes to a partial file of its own beside the output (hidden, named after it, with a random token), which
replaces the output in one step when it is whole. Runs writing one output at once never share a partial file:
the last to finish wins, and the output is always one run's whole file (its sidecars are moved just after it, so
runs with different settings may leave one run's file with the other's sidecars).
"""
from __future__ import annotations

import contextlib
import errno
import glob
import os
import secrets
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
    """Raise :class:`GeoSegError` for an output of ``config`` that cannot be written (see :func:`check_output`),
    its ``OUTPUT_FOLDERS`` being folders. Nothing is created."""
    folders = getattr(config, "OUTPUT_FOLDERS", ())
    for name in config.OUTPUTS:
        if getattr(config, name):
            check_output(getattr(config, name), folder=name in folders)


def check_output(path: str | os.PathLike, folder: bool = False) -> None:
    """Raise :class:`GeoSegError` where ``path`` cannot be written as a file (or as a ``folder``): a name too long,
    a folder where a file is expected or the reverse, or a folder that takes no new file (tried with a temporary
    file, removed at once). Nothing is created."""
    path = Path(path)
    _check_name(path)
    try:
        if folder and path.exists() and not path.is_dir():
            raise _os_error(path, errno.ENOTDIR)
        if not folder and path.is_dir():
            raise _os_error(path, errno.EISDIR)
        parent = path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise _os_error(parent, errno.ENOTDIR)
        try:
            tempfile.TemporaryFile(dir=parent).close()
        except OSError as err:
            raise _os_error(parent, err.errno) from None
    except OSError as err:
        raise GeoSegError(file_error(err)) from None


def _check_name(path: Path) -> None:
    """A name the file system takes."""
    length = len(os.fsencode(path.name))
    if length > NAME_MAX:
        raise GeoSegError(f"The file name of {path} is {length} bytes long, but file systems take at most "
                          f"{NAME_MAX}: choose a name of at most {NAME_MAX} bytes.")


def _os_error(path: Path, code: int) -> OSError:
    return OSError(code, os.strerror(code), str(path))


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
AUX = ".aux.xml"  # GDAL's metadata beside a file
NAME_MAX = 255  # bytes in a file name: the limit of Linux, macOS and Windows file systems
PARTIAL = ".partial"
TOKEN_BYTES = 6  # random bytes naming a partial file (12 hex digits): each write has its own
WRITER_ROOM = 24  # bytes a writer may add to a partial name: GDAL's ".aux.xml", a COG's ".staging", SQLite's "-journal"


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
    return [path.with_name(path.name + AUX)] + ([style_path(path)] if path.suffix.lower() in RASTERS else [])


def remove_output(path: str | os.PathLike) -> None:
    for file in [Path(path), *sidecars(path)]:
        _remove(file)


def _remove(file: Path) -> None:
    """Remove ``file`` if there is one (there is none where its name is longer than file systems take)."""
    if _fits(file):
        file.unlink(missing_ok=True)


def _fits(file: Path) -> bool:
    """Whether file systems take the name of ``file``: not so the ``.aux.xml`` of an output named near the limit,
    which is then written without it (a raster keeps its colours and its QGIS style, not GDAL's category names)."""
    return len(os.fsencode(file.name)) <= NAME_MAX


def partial_path(path: str | os.PathLike) -> Path:
    """A new name beside ``path`` to write it under until it is whole: hidden, with ``.partial`` and a random
    token, and the name of ``path`` shortened where needed to leave a writer room within the file-name limit."""
    path = Path(path)
    before, after = _partial_name(path)
    return path.with_name(before + secrets.token_hex(TOKEN_BYTES) + after)


def partials(path: str | os.PathLike) -> list[Path]:
    """The partial files of ``path`` (:func:`partial_path`), whichever run is writing them or left them."""
    path = Path(path)
    before, after = _partial_name(path)
    return sorted(path.parent.glob(glob.escape(before) + "?" * 2 * TOKEN_BYTES + glob.escape(after)))


def _partial_name(path: Path) -> tuple[str, str]:
    """A partial name of ``path`` before and after its token."""
    after = PARTIAL + path.suffix
    room = NAME_MAX - WRITER_ROOM - len(os.fsencode(f"..{after}")) - 2 * TOKEN_BYTES
    return "." + os.fsencode(path.stem)[:max(room, 0)].decode(errors="ignore") + ".", after


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a new partial path beside ``path``; move it (and its sidecars) into place only on success.

    On any exception, cancellation included, the partial files are removed and nothing half-written is left at
    ``path``; an earlier file at ``path`` is replaced in one step, so it is never missing. Only this write's
    partial file replaces ``path``: a finished output of another run is never removed. A name too long for the
    file system is refused first (not only outputs are checked before a job: a model's history is named after it).
    """
    path = Path(path)
    _check_name(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(path)
    try:
        yield str(tmp)
        os.replace(tmp, path)  # the file first: it is never missing
        for src, dst in zip(sidecars(tmp), sidecars(path)):
            if not _fits(dst):
                src.unlink(missing_ok=True)  # a name near the limit leaves no room for it: the file goes without
            elif src.exists():
                os.replace(src, dst)
            else:
                dst.unlink(missing_ok=True)  # the sidecar an overwritten output no longer has
    except BaseException:
        with contextlib.suppress(OSError):  # the error that stopped the writing is the one to report
            remove_output(tmp)
        raise
