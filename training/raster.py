"""GDAL raster helpers shared by chip creation, training and classification."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from osgeo import gdal

from .classes import NODATA_CLASS, ClassInfo

gdal.UseExceptions()


def open_raster(path: str | os.PathLike, what: str = "raster") -> gdal.Dataset:
    """Open a raster read-only, or raise ValueError naming the file."""
    if not Path(path).exists():
        raise ValueError(f"The {what} {path} does not exist: check the path.")
    try:
        return gdal.Open(str(path), gdal.GA_ReadOnly)
    except RuntimeError as err:
        raise ValueError(f"GDAL cannot read the {what} {path} ({err}): "
                         "give a GeoTIFF or another GDAL raster.") from None


def band_nodata(ds: gdal.Dataset) -> list[float | None]:
    return [ds.GetRasterBand(i + 1).GetNoDataValue() for i in range(ds.RasterCount)]


def read_bands(ds: gdal.Dataset, bands: Sequence[int], window: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """Read the 1-based ``bands`` of ``window`` (xoff, yoff, xsize, ysize) as float32 (H, W, B)."""
    xoff, yoff, xsize, ysize = window or (0, 0, ds.RasterXSize, ds.RasterYSize)
    data = ds.ReadAsArray(xoff, yoff, xsize, ysize, band_list=list(bands))
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 2:
        data = data[np.newaxis]
    return np.moveaxis(data, 0, -1)


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
