"""PNG previews for people: RGB composites, class maps and side-by-side panels (GDAL only)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from osgeo import gdal

from ..data.bands import RGB_BANDS
from ..data.classes import NODATA_CLASS, ClassInfo
from ..data.qgis_style import RGB_CUT
from ..data.raster import read_bands

NODATA_COLOR = (40, 40, 40)


def rgb_positions(bands: Sequence[int]) -> list[int]:
    """Where bands 4,3,2 sit among ``bands`` (1-based band numbers), else the first three (or the first
    band repeated): the positions of a picture's red, green and blue."""
    bands = list(bands)
    if all(b in bands for b in RGB_BANDS):
        return [bands.index(b) for b in RGB_BANDS]
    return [min(i, len(bands) - 1) for i in range(3)]


def stretch_limits(bands: np.ndarray) -> np.ndarray:
    """(H, W, B) values → (2, B): each band's low and high ``RGB_CUT`` percentiles (2 and 98 %)."""
    return np.nanpercentile(bands.reshape(-1, bands.shape[-1]), RGB_CUT, axis=0)


def rgb_composite(bands: np.ndarray) -> np.ndarray:
    """(H, W, 3) reflectances → uint8 with a per-band 2–98 % stretch."""
    low, high = stretch_limits(bands)
    scaled = (bands - low) / np.where(high > low, high - low, 1.0)
    return (np.clip(np.nan_to_num(scaled), 0, 1) * 255).astype(np.uint8)


def raster_rgb(ds: gdal.Dataset, window: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """A raster's bands 4,3,2 (else its first three), or a window of them, with the 2–98 % stretch."""
    return rgb_composite(read_bands(ds, [p + 1 for p in rgb_positions(range(1, ds.RasterCount + 1))], window))


def class_colors(values: np.ndarray, classes: Sequence[ClassInfo]) -> np.ndarray:
    """(H, W) class values → uint8 RGB using the class colors; unlabelled/nodata in dark grey."""
    lookup = np.tile(np.array(NODATA_COLOR, dtype=np.uint8), (256, 1))
    for info in classes:
        lookup[info.value] = info.color
    return lookup[np.where(values == NODATA_CLASS, NODATA_CLASS, values).astype(np.uint8)]


def side_by_side(rows: Sequence[Sequence[np.ndarray]], gap: int = 4) -> np.ndarray:
    """Tile equally sized RGB panels into a grid, rows by columns, on a white background."""
    height, width = rows[0][0].shape[:2]
    columns = max(len(row) for row in rows)
    canvas = np.full((len(rows) * (height + gap) - gap, columns * (width + gap) - gap, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for c, panel in enumerate(row):
            canvas[r * (height + gap):r * (height + gap) + height, c * (width + gap):c * (width + gap) + width] = panel
    return canvas


def chip_gallery(rgb: Sequence[np.ndarray], labels: Sequence[np.ndarray], predictions: Sequence[Sequence[np.ndarray]],
                 classes: Sequence[ClassInfo]) -> np.ndarray:
    """One row per chip: RGB | reference labels | the prediction of each model (``predictions[model][chip]``)."""
    return side_by_side([[picture, class_colors(label, classes)] + [class_colors(p[i], classes) for p in predictions]
                         for i, (picture, label) in enumerate(zip(rgb, labels))])


def png_bytes(image: np.ndarray) -> bytes:
    """Encode an (H, W, 3) uint8 image as PNG."""
    memory = gdal.GetDriverByName("MEM").Create("", image.shape[1], image.shape[0], 3, gdal.GDT_Byte)
    for i in range(3):
        memory.GetRasterBand(i + 1).WriteArray(image[..., i])
    path = f"/vsimem/geoseg-{id(image)}.png"
    gdal.GetDriverByName("PNG").CreateCopy(path, memory)
    try:
        handle = gdal.VSIFOpenL(path, "rb")
        data = gdal.VSIFReadL(1, gdal.VSIStatL(path).size, handle)
        gdal.VSIFCloseL(handle)
    finally:
        gdal.Unlink(path)
    return bytes(data)


def write_png(path: str, image: np.ndarray) -> str:
    with open(path, "wb") as handle:
        handle.write(png_bytes(image))
    return path
