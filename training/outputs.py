"""Write outputs atomically: a file appears complete at its path, or not at all."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from .qgis_style import style_path


def sidecars(path: str | os.PathLike) -> list[Path]:
    """The files that describe an output to GIS software: GDAL's auxiliary metadata and QGIS' default style.

    They belong to the file: they are written with it, moved with it and removed with it.
    """
    path = Path(path)
    return [path.with_name(path.name + ".aux.xml"), style_path(path)]


def remove_output(path: str | os.PathLike) -> None:
    for file in [Path(path), *sidecars(path)]:
        with contextlib.suppress(FileNotFoundError):
            file.unlink()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path beside ``path``; move it (and its sidecars) into place only on success.

    On any exception, cancellation included, the temporary files are removed and nothing half-written
    is left at ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    remove_output(tmp)
    try:
        yield str(tmp)
    except BaseException:
        remove_output(tmp)
        raise
    remove_output(path)
    for src, dst in zip([tmp, *sidecars(tmp)], [path, *sidecars(path)]):
        if src.exists():
            os.replace(src, dst)
