"""Clean a class raster for a map: a majority filter smooths class edges, then a sieve merges patches
smaller than the minimum mapping unit into their largest neighbour (GDAL's sieve). Nodata stays nodata,
and the classes' names, colours and QGIS style are kept."""
from __future__ import annotations

import math

import numpy as np
from osgeo import gdal

from ..config import PostprocessConfig, PostprocessResult
from ..data.classes import NODATA_CLASS
from ..data.qgis_style import write_class_style
from ..data.raster import band_classes, create_class_raster, open_raster, pixel_area
from ..errors import GeoSegError
from ..outputs import atomic_path
from ..progress import Progress

STRIP_ROWS = 256  # the majority filter works on strips of this many rows (plus its window's halo)


def postprocess(config: PostprocessConfig, progress: Progress | None = None) -> PostprocessResult:
    progress = progress or Progress()
    if config.majority_window and (config.majority_window < 3 or config.majority_window % 2 == 0):
        raise GeoSegError(f"Majority window {config.majority_window} must be an odd number of pixels, at least 3 "
                          "(or 0 for none).")
    if config.min_pixels < 0 or config.min_area < 0:
        raise GeoSegError("The minimum mapping unit cannot be negative: give 0 for none.")
    source = open_raster(config.class_raster, "class raster")
    if source.RasterCount != 1 or source.GetRasterBand(1).DataType != gdal.GDT_Byte:
        raise GeoSegError(f"{config.class_raster} is not a single-band Byte class raster (values 0, 1, 2, …; "
                          "255 = nodata), such as Classify raster writes.")
    band = source.GetRasterBand(1)
    counts = np.array(band.GetHistogram(-0.5, 255.5, 256, include_out_of_range=0, approx_ok=0))
    classes = band_classes(band, int(np.flatnonzero(counts[:NODATA_CLASS]).max(initial=0)) + 1)
    threshold = max(config.min_pixels, math.ceil(config.min_area / pixel_area(source)))
    with atomic_path(config.output_raster) as tmp:
        write_class_style(tmp, classes)
        _filter(source, create_class_raster(tmp, source, classes), len(classes), config, threshold, progress)
    progress.update(1.0, f"Wrote {config.output_raster}.")
    return PostprocessResult(config.output_raster, threshold)


def _filter(source: gdal.Dataset, target: gdal.Dataset, num_classes: int, config: PostprocessConfig,
            threshold: int, progress: Progress) -> None:
    """Write ``source``'s classes into ``target``, majority-filtered strip by strip, then sieve ``target``;
    ``target`` is closed (its metadata written) on return."""
    band, out = source.GetRasterBand(1), target.GetRasterBand(1)
    nodata = band.GetNoDataValue()
    halo = config.majority_window // 2
    for row, rows in _strips(source.RasterYSize):
        progress.check()
        progress.update(0.5 * row / source.RasterYSize, "Majority filter…" if row == 0 and halo else "")
        top, bottom = max(row - halo, 0), min(row + rows + halo, source.RasterYSize)
        values = band.ReadAsArray(0, top, source.RasterXSize, bottom - top)
        if nodata is not None and nodata != NODATA_CLASS:
            values[values == nodata] = NODATA_CLASS
        if halo:
            values = majority(values, config.majority_window, num_classes)
        out.WriteArray(values[row - top:row - top + rows], 0, row)
    if threshold > 1:
        progress.update(0.5, f"Merging patches smaller than {threshold} pixels into their neighbours…")
        try:
            gdal.SieveFilter(out, out.GetMaskBand(), out, threshold, 8 if config.eight_connected else 4,
                             callback=lambda *_: 0 if progress.is_cancelled() else 1)
        except RuntimeError:
            progress.check()  # a cancel stops GDAL with an error
            raise


def majority(values: np.ndarray, window: int, num_classes: int) -> np.ndarray:
    """Each pixel becomes the most frequent class of its ``window``×``window`` neighbourhood (nodata left out),
    keeping its own class where that ties; nodata pixels stay nodata."""
    pad = window // 2
    counts = np.empty((num_classes, *values.shape), np.int32)
    for value in range(num_classes):
        sums = np.pad((values == value).astype(np.int32), pad).cumsum(0).cumsum(1)
        sums = np.pad(sums, ((1, 0), (1, 0)))
        counts[value] = (sums[window:, window:] - sums[:-window, window:] - sums[window:, :-window]
                         + sums[:-window, :-window])
    best = counts.argmax(axis=0).astype(np.uint8)
    own = np.where(values < num_classes, values, 0)
    keep = np.take_along_axis(counts, own[np.newaxis].astype(np.intp), 0)[0] == counts.max(axis=0)
    return np.where((values >= num_classes) | keep, values, best).astype(np.uint8)


def _strips(height: int):
    for row in range(0, height, STRIP_ROWS):
        yield row, min(STRIP_ROWS, height - row)
