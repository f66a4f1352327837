"""Reading a raster for classification: which bands and which part of it, and its tiles, read one at a
time on a background thread with everything that is not valid data flagged."""
from __future__ import annotations

import contextlib
import math
import queue
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal

from ..config import ClassifyConfig
from ..data.labels import rasterize_mask
from ..data.raster import band_nodata, invalid_pixels, reading
from ..errors import GeoSegError
from .tiling import TileGrid

CACHED_TILES = 4  # neighbouring tiles share input blocks: decode them once per few tiles, not per tile


def input_bands(raster: gdal.Dataset, model_bands: Sequence[int], config: ClassifyConfig) -> list[int]:
    """The input raster's bands that feed the model's bands: ``config.input_bands``, else the model's own."""
    bands = list(config.input_bands or model_bands)
    path, wanted = config.input_raster, ", ".join(map(str, model_bands))
    if len(bands) != len(model_bands):
        raise GeoSegError(f"The model reads {len(model_bands)} bands (bands {wanted} of the raster it was trained on) "
                          f"but {len(bands)} input bands were given: name one band of {path} for each.")
    if not all(1 <= band <= raster.RasterCount for band in bands):
        raise GeoSegError(f"The input raster {path} has {raster.RasterCount} bands but the model reads "
                          f"{len(bands)} bands ({', '.join(map(str, bands))}): give a raster with those bands, or "
                          "name which of its bands feed the model's (input bands).")
    return bands


def raster_window(raster: gdal.Dataset, extent: Sequence[float] | None, path: str) -> gdal.Dataset:
    """The raster, or the part of it that covers ``extent`` (xmin, ymin, xmax, ymax in its CRS) widened to
    whole pixels, as a virtual raster with its own geotransform."""
    if not extent:
        return raster
    x0, dx, rx, y0, ry, dy = raster.GetGeoTransform()
    if rx or ry:
        raise GeoSegError(f"{path} is rotated: classify all of it, or warp it north-up first (Warp).")
    xmin, ymin, xmax, ymax = extent
    left, right = max(math.floor((xmin - x0) / dx), 0), min(math.ceil((xmax - x0) / dx), raster.RasterXSize)
    top, bottom = max(math.floor((ymax - y0) / dy), 0), min(math.ceil((ymin - y0) / dy), raster.RasterYSize)
    if left >= right or top >= bottom:
        raise GeoSegError(f"The extent {xmin}, {ymin}, {xmax}, {ymax} does not overlap {path}: choose an extent "
                          "within the raster (in its CRS).")
    return gdal.Translate("", raster, format="VRT", srcWin=[left, top, right - left, bottom - top])


@contextlib.contextmanager
def polygon_mask(polygons: str, like: gdal.Dataset, where: str) -> Iterator[gdal.Band]:
    """A band on ``like``'s grid (``where`` names it for messages): 1 inside ``polygons`` (reprojected as needed),
    0 outside."""
    with tempfile.TemporaryDirectory(prefix="geoseg-mask-") as scratch:
        path = rasterize_mask(polygons, like, str(Path(scratch) / "mask.tif"), where)
        mask = gdal.Open(path)
        yield mask.GetRasterBand(1)
        mask = None


@dataclass
class Tile:
    row: int  # index of the tile row
    x: int
    valid: np.ndarray  # (h, w) bool for the tile's pixels inside the raster; False where nodata


class TileReader:
    """Reads the model's bands one tile at a time. Pixels that are nodata, masked, NaN or infinite in any
    band are flagged invalid and filled with the normalisation offset, so they reach the model as 0."""

    def __init__(self, ds: gdal.Dataset, bands: Sequence[int], fill: np.ndarray, masks: Sequence[gdal.Band] = ()):
        self.ds, self.bands, self.fill, self.reads = ds, list(bands), fill, 0
        self.nodata = band_nodata(ds, bands)
        self.masks = _explicit_masks(ds, bands) + list(masks)  # 0 = invalid

    def read(self, out: np.ndarray, x: int, y: int) -> np.ndarray:
        """Read the tile at (``x``, ``y``) into ``out`` (tile, tile, bands), reflection-padded where the
        raster ends; return the (h, w) validity of its pixels inside the raster."""
        self.reads += 1
        if self.reads % CACHED_TILES == 0:  # drop GDAL's cached blocks: memory stays flat at any raster size
            self.ds.FlushCache()
        width, height = min(len(out[0]), self.ds.RasterXSize - x), min(len(out), self.ds.RasterYSize - y)
        window = out[:height, :width]
        with reading(self.ds, "input raster"):
            self.ds.ReadAsArray(x, y, width, height, buf_obj=window, band_list=self.bands, interleave="pixel")
        invalid = invalid_pixels(window, self.nodata)
        for mask in self.masks:
            invalid |= mask.ReadAsArray(x, y, width, height) == 0
        window[invalid] = self.fill
        if window.shape != out.shape:
            out[...] = np.pad(window, ((0, len(out) - height), (0, len(out[0]) - width), (0, 0)), mode="reflect")
        return ~invalid


def _explicit_masks(ds: gdal.Dataset, bands: Sequence[int]) -> list[gdal.Band]:
    """Mask bands other than nodata values (alpha bands, internal or .msk masks), one per distinct mask."""
    masks = {}
    for number in bands:
        band = ds.GetRasterBand(number)
        flags = band.GetMaskFlags()
        if not flags & (gdal.GMF_ALL_VALID | gdal.GMF_NODATA):
            masks.setdefault("dataset" if flags & gdal.GMF_PER_DATASET else number, band.GetMaskBand())
    return list(masks.values())


def tile_batches(reader: TileReader, grid: TileGrid, size: int) -> Iterator[tuple[np.ndarray, list[Tile]]]:
    """Tiles in row-major order, read straight into (size, tile height, tile width, bands) batches; the last
    batch is zero-padded, so the traced function always sees one shape."""
    places = [(row, x, y) for row, y in enumerate(grid.y.offsets) for x in grid.x.offsets]
    for start in range(0, len(places), size):
        images = np.zeros((size, grid.y.side, grid.x.side, len(reader.bands)), np.float32)
        tiles = [Tile(row, x, reader.read(images[slot], x, y))
                 for slot, (row, x, y) in enumerate(places[start:start + size])]
        yield images, tiles


@contextlib.contextmanager
def prefetched(items: Iterator, depth: int) -> Iterator[Iterator]:
    """Iterate ``items`` on a background thread, at most ``depth`` items ahead; its errors re-raise here."""
    ready: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            with contextlib.suppress(queue.Full):
                ready.put(item, timeout=0.1)
                return True
        return False

    def produce():
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as err:  # noqa: BLE001 (handed to the consumer, which re-raises it)
            put(err)
            return
        put(done)

    def consume():
        while (item := ready.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item

    thread = threading.Thread(target=produce, name="geoseg-tile-reader", daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        thread.join()
