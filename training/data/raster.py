"""GDAL raster helpers shared by chip creation, training and classification."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from osgeo import gdal

from ..errors import GeoSegError
from .classes import NODATA_CLASS, ClassInfo, class_scheme

gdal.UseExceptions()

BLOCK = 256  # output GeoTIFF block size
NO_LISTING = "GDAL_DISABLE_READDIR_ON_OPEN"  # see open_raster
GTIFF_OPTIONS = ["TILED=YES", f"BLOCKXSIZE={BLOCK}", f"BLOCKYSIZE={BLOCK}", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"]


def open_raster(path: str | os.PathLike, what: str = "raster") -> gdal.Dataset:
    """Open a raster read-only, or raise GeoSegError naming the file.

    GDAL looks for the file's side-car files (``.aux.xml``, ``.msk``, ``.ovr``, …) by name, not in a listing of
    its folder (``GDAL_DISABLE_READDIR_ON_OPEN=TRUE``): listing a folder of 1024 chips cost 0.4–0.5 ms a chip, as
    much as reading it, every epoch."""
    if not Path(path).exists():
        raise GeoSegError(f"The {what} {path} does not exist: check the path.")
    previous = gdal.GetThreadLocalConfigOption(NO_LISTING, None)
    gdal.SetThreadLocalConfigOption(NO_LISTING, "TRUE")
    try:
        return gdal.Open(str(path), gdal.GA_ReadOnly)
    except RuntimeError as err:
        raise GeoSegError(f"GDAL cannot read the {what} {path} ({err}): "
                          "give a GeoTIFF or another GDAL raster.") from None
    finally:
        gdal.SetThreadLocalConfigOption(NO_LISTING, previous)


@contextlib.contextmanager
def reading(ds: gdal.Dataset, what: str = "raster") -> Iterator[None]:
    """Turn GDAL's read errors (a truncated or damaged file) into a :class:`GeoSegError` naming the file."""
    try:
        yield
    except RuntimeError as err:
        raise GeoSegError(f"GDAL cannot read the {what} {ds.GetDescription()} ({err}): the file may be truncated "
                          "or damaged. Write it again, or give another raster.") from None


def gdal_error(err: RuntimeError) -> str | None:
    """The message for a GDAL failure that no reader turned into a :class:`GeoSegError` (a truncated or damaged
    file, a full disk); None when ``err`` is not GDAL's."""
    if str(err) != gdal.GetLastErrorMsg():
        return None
    return (f"GDAL failed: {str(err).rstrip('.')}. The file it names may be truncated or damaged, or its disk "
            "full: write it again, free some space, or give another file.")


def read_bands(ds: gdal.Dataset, bands: Sequence[int], window: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """Read the 1-based ``bands`` of ``window`` (xoff, yoff, xsize, ysize) as float32 (H, W, B)."""
    xoff, yoff, xsize, ysize = window or (0, 0, ds.RasterXSize, ds.RasterYSize)
    with reading(ds):
        data = ds.ReadAsArray(xoff, yoff, xsize, ysize, band_list=list(bands))
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 2:
        data = data[np.newaxis]
    return np.moveaxis(data, 0, -1)


def band_nodata(ds: gdal.Dataset, bands: Sequence[int]) -> np.ndarray:
    """Each band's nodata value as float32, NaN where a band has none."""
    values = [ds.GetRasterBand(b).GetNoDataValue() for b in bands]
    return np.array([np.nan if value is None else value for value in values], np.float32)


def invalid_pixels(data: np.ndarray, nodata: np.ndarray) -> np.ndarray:
    """(H, W) True where any band of ``data`` (H, W, B) is NaN, infinite or its band's ``nodata``."""
    return (~np.isfinite(data) | (data == nodata)).any(axis=-1)


def read_valid(ds: gdal.Dataset, bands: Sequence[int],
               window: tuple[int, int, int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`read_bands` with NaN in every band of pixels that are nodata, NaN or infinite in any band, and
    the (H, W) mask of those pixels: they are no data to learn from, and their labels count as unlabelled."""
    data = read_bands(ds, bands, window)
    invalid = invalid_pixels(data, band_nodata(ds, bands))
    data[invalid] = np.nan
    return data, invalid


def style_class_band(band: gdal.Band, scheme: Sequence[ClassInfo]) -> None:
    """Give a class band its color table, category names and nodata, so any GIS shows a legend."""
    table = gdal.ColorTable()
    names = [""] * (max(c.value for c in scheme) + 1)
    for info in scheme:
        table.SetColorEntry(info.value, (*info.color, 255))
        names[info.value] = info.name
    band.SetRasterColorTable(table)
    band.SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
    band.SetCategoryNames(names)
    band.SetNoDataValue(NODATA_CLASS)
    band.SetMetadata({f"CLASS_{c.value}": c.name for c in scheme})
    band.SetDescription("class")


def pixel_area(raster: gdal.Dataset) -> float:
    """A pixel's area in square map units."""
    gt = raster.GetGeoTransform()
    return abs(gt[1] * gt[5] - gt[2] * gt[4])


def same_crs(first: gdal.Dataset, second: gdal.Dataset) -> bool:
    """Whether two rasters have equivalent CRSs however their WKT spells them, or neither has one."""
    crs = first.GetSpatialRef(), second.GetSpatialRef()
    if crs[0] is None or crs[1] is None:
        return crs[0] is None and crs[1] is None
    return bool(crs[0].IsSame(crs[1], ["IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES"]))


def category_names(band: gdal.Band) -> list[str]:
    """A class band's category names, up to the last one given ([] if none)."""
    band.GetMetadata()  # GDAL 3.6's GTiff driver reads the .aux.xml lazily, and not for category names alone
    names = list(band.GetCategoryNames() or [])[:NODATA_CLASS]
    while names and not names[-1]:
        names.pop()
    return names


def band_classes(band: gdal.Band, count: int) -> list[ClassInfo]:
    """The first ``count`` classes of a class band, or as many as it names: its category names and colour
    table where it has them, else "Class i" and GeoSeg's default colours."""
    names = category_names(band)
    table = band.GetRasterColorTable()
    defaults = class_scheme([f"Class {i}" for i in range(max(count, len(names)))])
    return [ClassInfo(info.value, names[info.value] if info.value < len(names) and names[info.value] else info.name,
                      tuple(table.GetColorEntry(info.value)[:3]) if table and info.value < table.GetCount()
                      else info.color) for info in defaults]


def create_byte_raster(path: str, like: gdal.Dataset, bands: int, options: Sequence[str] = GTIFF_OPTIONS,
                       window: tuple[int, int, int, int] | None = None) -> gdal.Dataset:
    """A Byte GeoTIFF (tiled and DEFLATE-compressed by default) on ``like``'s grid, or on the part of it that
    ``window`` (x, y, width, height) covers, in its CRS; nodata 255."""
    x, y, width, height = window or (0, 0, like.RasterXSize, like.RasterYSize)
    ds = gdal.GetDriverByName("GTiff").Create(path, width, height, bands, gdal.GDT_Byte, list(options))
    ds.SetProjection(like.GetProjection())
    gt = like.GetGeoTransform(can_return_null=True)
    if gt:
        ds.SetGeoTransform((gt[0] + x * gt[1] + y * gt[2], gt[1], gt[2], gt[3] + x * gt[4] + y * gt[5], gt[4], gt[5]))
    for number in range(1, bands + 1):
        ds.GetRasterBand(number).SetNoDataValue(NODATA_CLASS)
    return ds


def create_class_raster(path: str, like: gdal.Dataset, classes: Sequence[ClassInfo]) -> gdal.Dataset:
    """A class raster like ``like``'s grid, with the colour table and category names of ``classes``."""
    ds = create_byte_raster(path, like, 1)
    style_class_band(ds.GetRasterBand(1), classes)
    return ds
