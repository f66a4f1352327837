"""Writing classification outputs row by row: the class raster (with its legend and QGIS style), the
per-class probabilities and the uncertainty, as tiled GeoTIFFs or Cloud Optimized GeoTIFFs, whole or not at all."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from osgeo import gdal

from ..data.classes import NODATA_CLASS, ClassInfo
from ..data.qgis_style import write_style
from ..data.raster import BLOCK, GTIFF_OPTIONS, create_byte_raster
from ..outputs import atomic_path, remove_output
from .uncertainty import normalised_entropy

COG_OPTIONS = ["COMPRESS=DEFLATE", f"BLOCKSIZE={BLOCK}", "BIGTIFF=IF_SAFER"]


class ClassRows:
    """Turns finished rows of probabilities into class (and probability and uncertainty) rows, and counts the
    classes."""

    def __init__(self, classes: Sequence[ClassInfo], classes_out: RowWriter, probabilities_out: RowWriter | None,
                 uncertainty_out: RowWriter | None):
        self.classes, self.classes_out = list(classes), classes_out
        self.probabilities_out, self.uncertainty_out = probabilities_out, uncertainty_out
        self.values = np.array([c.value for c in classes], np.uint8)
        self.counts = np.zeros(256, np.int64)

    def write(self, chunks: Iterator[tuple[np.ndarray, np.ndarray]]) -> None:
        """Write finished rows, given as chunks of (rows, width, classes) probabilities and (rows, width) validity."""
        for probabilities, valid in chunks:
            classes = np.where(valid, self.values[probabilities.argmax(axis=-1)], NODATA_CLASS).astype(np.uint8)
            self.counts += np.bincount(classes.ravel(), minlength=256)
            self.classes_out.append(classes[np.newaxis])
            if self.probabilities_out is not None:
                self.probabilities_out.append(_percent(np.moveaxis(probabilities, -1, 0), valid))
            if self.uncertainty_out is not None:
                self.uncertainty_out.append(_percent(normalised_entropy(probabilities)[np.newaxis], valid))

    def class_pixels(self) -> dict[str, int]:
        return {c.name: int(self.counts[c.value]) for c in self.classes}


def _percent(shares: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(bands, rows, width) shares of 1 as whole percent, nodata where not ``valid`` (rows, width)."""
    return np.where(valid, np.rint(shares * 100).astype(np.uint8), NODATA_CLASS)


class RowWriter:
    """Writes rows to a dataset in whole block rows, flushing each: GDAL's cache stays small and no
    compressed block is ever written twice. The dataset is closed on exit, also on error."""

    def __init__(self, ds: gdal.Dataset):
        self.ds, self.row, self.pending = ds, 0, []

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, error_type, *_) -> None:
        try:
            if error_type is None:
                self._write(sum(rows.shape[1] for rows in self.pending))
        finally:
            self.ds = None  # the only reference: closes the file before its folder is cleaned up

    def append(self, rows: np.ndarray) -> None:
        """Queue (bands, rows, width) values below those already written."""
        self.pending.append(rows)
        buffered = sum(rows.shape[1] for rows in self.pending)
        self._write(buffered - buffered % BLOCK)

    def _write(self, count: int) -> None:
        if not count:
            return
        data = np.concatenate(self.pending, axis=1)
        self.ds.WriteArray(data[:, :count], 0, self.row)
        self.ds.FlushCache()
        self.row += count
        self.pending = [data[:, count:]]


def percent_raster(path: str, like: gdal.Dataset, names: Sequence[str]) -> gdal.Dataset:
    """One band per name (a class, or the uncertainty), described by it, in percent; never read as RGB,
    whatever the band count."""
    ds = create_byte_raster(path, like, len(names), [*GTIFF_OPTIONS, "PHOTOMETRIC=MINISBLACK"])
    for number, name in enumerate(names, start=1):
        band = ds.GetRasterBand(number)
        band.SetDescription(name)
        band.SetUnitType("%")
    return ds


@contextlib.contextmanager
def geotiff_output(path: str, cog: bool, resampling: str, style: str = "") -> Iterator[str]:
    """A path to write a tiled GeoTIFF to. On success it lands at ``path`` (converted to a COG, with
    overviews resampled by ``resampling``, if ``cog``), with the QGIS ``style`` (a .qml's text) if given; on
    error nothing is left, sidecars included."""
    with atomic_path(path) as tmp:
        if style:
            write_style(tmp, style)
        if not cog:
            yield tmp
            return
        staging = str(Path(tmp).with_suffix(".staging.tif"))
        try:
            yield staging
            gdal.Translate(tmp, staging, format="COG", creationOptions=[*COG_OPTIONS, f"RESAMPLING={resampling}"])
        finally:
            remove_output(staging)
