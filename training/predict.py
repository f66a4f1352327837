"""Classify a raster of any size with a GeoSeg model bundle.

The raster is cut into overlapping tiles of one shape, fitted to the raster so that few pixels are
computed twice. A background thread reads them (a bounded queue keeps it a few batches ahead) while one
traced function normalises and classifies them in batches, run by TensorFlow or converted to LiteRT
(:mod:`training.engines`). Overlapping class probabilities are blended with a smooth weight window, so
no seams show. Tiles run row by row: only the rows of the current tile row are held (memory grows with
the raster's width times the tile size, never with its height), and finished rows are written at once.

Outputs are tiled, DEFLATE-compressed GeoTIFFs (or Cloud Optimized GeoTIFFs) on the input's grid:

* the class raster: Byte, nodata 255, with color table and class names, and beside it a QGIS style
  listing only the classes (:mod:`training.qgis_style`);
* optionally a probability raster: one Byte band per class (named after it) holding the class
  probability in percent, 0–100 (bands sum to 100 up to rounding), nodata 255. Percent steps are ample
  for a model's confidence and take a quarter of the space of Float32.
"""
from __future__ import annotations

import contextlib
import math
import queue
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal

from .bundle import read_info
from .classes import NODATA_CLASS, ClassInfo
from .config import ClassifyConfig, ClassifyResult
from .engines import LABELS, cache_folder, choose_engine, compile_tiles
from .labels import rasterize_mask
from .outputs import atomic_path, remove_output
from .progress import Progress
from .qgis_style import write_class_style
from .raster import BLOCK, create_byte_raster, create_class_raster, open_raster

TILE_MULTIPLE = 32  # every architecture halves the tile at most five times
PREFETCH_BATCHES = 2
CHUNK_ROWS = 64  # finished rows are turned into classes this many at a time
CACHED_TILES = 4  # neighbouring tiles share input blocks: decode them once per few tiles, not per tile
COG_OPTIONS = ["COMPRESS=DEFLATE", f"BLOCKSIZE={BLOCK}", "BIGTIFF=IF_SAFER"]


def classify_raster(config: ClassifyConfig, progress: Progress | None = None) -> ClassifyResult:
    """Classify ``config.input_raster`` with the model bundle ``config.model_path``.

    Pixels that are nodata, masked, NaN or infinite in any of the model's bands come out as 255. On
    cancellation (:class:`~training.progress.Cancelled`) or any error no output file is left behind.
    """
    progress = progress or Progress()
    info = read_info(config.model_path)
    raster = open_raster(config.input_raster, "input raster")
    bands = _input_bands(raster, info.bands, config)
    source = _window(raster, config.extent, config.input_raster)
    grid = TileGrid.fit(source.RasterXSize, source.RasterYSize, config.tile_size, config.overlap)
    if config.batch_size < 1:
        raise ValueError(f"Batch size {config.batch_size} must be at least 1.")
    engine, precision = choose_engine(config.engine, config.precision)
    shape = (config.batch_size, grid.y.side, grid.x.side, len(bands))
    computed = grid.count * grid.x.side * grid.y.side / (grid.x.length * grid.y.length)
    progress.update(0.0, f"Classifying {grid.x.length}×{grid.y.length} px in {grid.count} tiles of "
                         f"{grid.x.side}×{grid.y.side} px ({computed:.2f}× the raster's pixels) "
                         f"with {LABELS[engine]} in {precision}.")
    predict = compile_tiles(config.model_path, shape, grid.window(), engine, precision, on_convert=lambda: (
        progress.update(0.0, f"Converting the model to LiteRT for these tiles (once; kept in {cache_folder()}).")))
    if config.flip_average:
        predict = flip_averaged(predict)
    with contextlib.ExitStack() as stack:
        masks = [stack.enter_context(_polygon_mask(config.mask_polygons, source))] if config.mask_polygons else []
        reader = _TileReader(source, bands, np.asarray(info.normalization["offset"], np.float32), masks)
        class_path = stack.enter_context(_geotiff(config.output_raster, config.cog, "NEAREST", info.classes))
        classes_out = stack.enter_context(_RowWriter(create_class_raster(class_path, source, info.classes)))
        probabilities_out = None
        if config.probabilities_raster:
            path = stack.enter_context(_geotiff(config.probabilities_raster, config.cog, "AVERAGE"))
            probabilities_out = stack.enter_context(_RowWriter(_probability_raster(path, source, info.classes)))
        rows = _Rows(info.classes, classes_out, probabilities_out)
        batches = stack.enter_context(_prefetched(_batches(reader, grid, config.batch_size), PREFETCH_BATCHES))
        _classify(batches, predict, grid, rows, progress)
    progress.update(1.0, f"Wrote {config.output_raster}.")
    return ClassifyResult(config.output_raster, config.probabilities_raster, rows.class_pixels())


def _input_bands(raster: gdal.Dataset, model_bands: Sequence[int], config: ClassifyConfig) -> list[int]:
    """The input raster's bands that feed the model's bands: ``config.input_bands``, else the model's own."""
    bands = list(config.input_bands or model_bands)
    path, wanted = config.input_raster, ", ".join(map(str, model_bands))
    if len(bands) != len(model_bands):
        raise ValueError(f"The model reads {len(model_bands)} bands (bands {wanted} of the raster it was trained on) "
                         f"but {len(bands)} input bands were given: name one band of {path} for each.")
    if not all(1 <= band <= raster.RasterCount for band in bands):
        raise ValueError(f"The input raster {path} has {raster.RasterCount} bands but the model reads "
                         f"{len(bands)} bands ({', '.join(map(str, bands))}): give a raster with those bands, or "
                         "name which of its bands feed the model's (input bands).")
    return bands


def _window(raster: gdal.Dataset, extent: Sequence[float] | None, path: str) -> gdal.Dataset:
    """The raster, or the part of it that covers ``extent`` (xmin, ymin, xmax, ymax in its CRS) widened to
    whole pixels, as a virtual raster with its own geotransform."""
    if not extent:
        return raster
    x0, dx, rx, y0, ry, dy = raster.GetGeoTransform()
    if rx or ry:
        raise ValueError(f"{path} is rotated: classify all of it, or warp it north-up first (Warp).")
    xmin, ymin, xmax, ymax = extent
    left, right = max(math.floor((xmin - x0) / dx), 0), min(math.ceil((xmax - x0) / dx), raster.RasterXSize)
    top, bottom = max(math.floor((ymax - y0) / dy), 0), min(math.ceil((ymin - y0) / dy), raster.RasterYSize)
    if left >= right or top >= bottom:
        raise ValueError(f"The extent {xmin}, {ymin}, {xmax}, {ymax} does not overlap {path}: choose an extent "
                         "within the raster (in its CRS).")
    return gdal.Translate("", raster, format="VRT", srcWin=[left, top, right - left, bottom - top])


@contextlib.contextmanager
def _polygon_mask(polygons: str, like: gdal.Dataset) -> Iterator[gdal.Band]:
    """A band on ``like``'s grid: 1 inside ``polygons`` (reprojected as needed), 0 outside."""
    with tempfile.TemporaryDirectory(prefix="geoseg-mask-") as scratch:
        path = rasterize_mask(polygons, like, str(Path(scratch) / "mask.tif"))
        mask = gdal.Open(path)
        yield mask.GetRasterBand(1)
        mask = None


def flip_averaged(predict: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """``predict`` (batches (N, H, W, B) → (N, H, W, classes)) averaged over the batch and its left-right,
    up-down and double mirror images, each mirrored back: test-time augmentation."""
    def averaged(images: np.ndarray) -> np.ndarray:
        total = predict(images)
        for axes in ((2,), (1,), (1, 2)):
            total = total + np.flip(predict(np.ascontiguousarray(np.flip(images, axes))), axes)
        return total / 4

    return averaged


@dataclass(frozen=True)
class TileAxis:
    """Tiles along one side of the raster: the side's ``length``, the tiles' ``side``, start ``offsets`` and
    the ``overlap`` their blend weights ramp across."""

    length: int
    side: int
    offsets: tuple[int, ...]
    overlap: int

    @classmethod
    def fit(cls, length: int, tile: int, overlap: int) -> TileAxis:
        """Tiles of at most ``tile`` px, neighbours overlapping by at least ``overlap`` px, spread evenly from
        edge to edge. Of the tile counts that can cover ``length``, the one computing the fewest pixels wins
        (then the fewest tiles); a side shorter than ``tile`` gets one tile, padded to a multiple of 32."""
        if length <= tile:
            return cls(length, _round_up(length), (0,), overlap)
        fewest = math.ceil((length - overlap) / (tile - overlap))
        count = min(range(fewest, 2 * fewest + 1), key=lambda n: (n * _side(length, n, overlap), n))
        side = _side(length, count, overlap)
        return cls(length, side, tuple(round(i * (length - side) / (count - 1)) for i in range(count)), overlap)

    def profile(self) -> np.ndarray:
        """A tile's blend weights along this axis: 1 inside, sin² ramps across the ``overlap`` at both ends,
        so that the ramps of two neighbours overlapping by ``overlap`` px sum to 1 (never 0). A lone tile
        has no neighbours to blend with: all 1."""
        weights = np.ones(self.side, np.float32)
        if len(self.offsets) == 1:
            return weights
        ramp = np.sin(np.pi / 2 * (np.arange(self.overlap) + 0.5) / max(self.overlap, 1)) ** 2
        weights[:self.overlap] = ramp
        weights[self.side - self.overlap:] = ramp[::-1]
        return weights

    def coverage(self) -> np.ndarray:
        """The tiles' blend weights summed per pixel along this axis (length at least one tile)."""
        total, profile = np.zeros(max(self.length, self.side), np.float32), self.profile()
        for offset in self.offsets:
            total[offset:offset + self.side] += profile
        return total


def _side(length: int, count: int, overlap: int) -> int:
    """The smallest tile side (a multiple of 32) with which ``count`` tiles overlapping by ``overlap`` cover
    ``length``."""
    return _round_up(math.ceil((length + (count - 1) * overlap) / count))


def _round_up(length: int) -> int:
    return -(-length // TILE_MULTIPLE) * TILE_MULTIPLE


@dataclass(frozen=True)
class TileGrid:
    """Tiles of one shape, ``y.side`` × ``x.side``, covering the raster in rows (see :meth:`TileAxis.fit`)."""

    x: TileAxis
    y: TileAxis

    @classmethod
    def fit(cls, width: int, height: int, tile: int, overlap: int) -> TileGrid:
        if tile < TILE_MULTIPLE or tile % TILE_MULTIPLE:
            raise ValueError(f"Tile size {tile} must be a positive multiple of {TILE_MULTIPLE}.")
        if not 0 <= overlap <= tile // 2:
            raise ValueError(f"Overlap {overlap} must lie between 0 and half the tile size ({tile // 2}).")
        return cls(TileAxis.fit(width, tile, overlap), TileAxis.fit(height, tile, overlap))

    @property
    def count(self) -> int:
        return len(self.x.offsets) * len(self.y.offsets)

    def window(self) -> np.ndarray:
        """A tile's (height, width) blend weights; separable, so the weights of all tiles sum to the outer
        product of the axes' coverages."""
        return np.outer(self.y.profile(), self.x.profile())


@dataclass
class _Tile:
    row: int  # index of the tile row
    x: int
    valid: np.ndarray  # (h, w) bool for the tile's pixels inside the raster; False where nodata


class _TileReader:
    """Reads the model's bands one tile at a time. Pixels that are nodata, masked, NaN or infinite in any
    band are flagged invalid and filled with the normalisation offset, so they reach the model as 0."""

    def __init__(self, ds: gdal.Dataset, bands: Sequence[int], fill: np.ndarray, masks: Sequence[gdal.Band] = ()):
        self.ds, self.bands, self.fill, self.reads = ds, list(bands), fill, 0
        nodata = [ds.GetRasterBand(b).GetNoDataValue() for b in bands]
        self.nodata = np.array([np.nan if value is None else value for value in nodata], np.float32)
        self.masks = _explicit_masks(ds, bands) + list(masks)  # 0 = invalid

    def read(self, out: np.ndarray, x: int, y: int) -> np.ndarray:
        """Read the tile at (``x``, ``y``) into ``out`` (tile, tile, bands), reflection-padded where the
        raster ends; return the (h, w) validity of its pixels inside the raster."""
        self.reads += 1
        if self.reads % CACHED_TILES == 0:  # drop GDAL's cached blocks: memory stays flat at any raster size
            self.ds.FlushCache()
        width, height = min(len(out[0]), self.ds.RasterXSize - x), min(len(out), self.ds.RasterYSize - y)
        window = out[:height, :width]
        self.ds.ReadAsArray(x, y, width, height, buf_obj=window, band_list=self.bands, interleave="pixel")
        invalid = (~np.isfinite(window) | (window == self.nodata)).any(axis=-1)
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


def _batches(reader: _TileReader, grid: TileGrid, size: int) -> Iterator[tuple[np.ndarray, list[_Tile]]]:
    """Tiles in row-major order, read straight into (size, tile height, tile width, bands) batches; the last
    batch is zero-padded, so the traced function always sees one shape."""
    places = [(row, x, y) for row, y in enumerate(grid.y.offsets) for x in grid.x.offsets]
    for start in range(0, len(places), size):
        images = np.zeros((size, grid.y.side, grid.x.side, len(reader.bands)), np.float32)
        tiles = [_Tile(row, x, reader.read(images[slot], x, y))
                 for slot, (row, x, y) in enumerate(places[start:start + size])]
        yield images, tiles


@contextlib.contextmanager
def _prefetched(items: Iterator, depth: int) -> Iterator[Iterator]:
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


class _Strip:
    """Blend-weighted class probability sums of the rows the current tile row covers; rows still to be
    overlapped by the next tile row carry over."""

    def __init__(self, grid: TileGrid, num_classes: int):
        self.width, self.top = grid.x.length, 0  # top: the raster row of the strip's first row
        columns = grid.x.coverage()
        self.column_weights, self.row_weights = columns[:self.width], grid.y.coverage()
        self.sum = np.zeros((grid.y.side, len(columns), num_classes), np.float32)
        self.valid = np.zeros(self.sum.shape[:2], bool)

    def add(self, tile: _Tile, weighted: np.ndarray) -> None:
        self.sum[:, tile.x:tile.x + weighted.shape[1]] += weighted
        height, width = tile.valid.shape
        self.valid[:height, tile.x:tile.x + width] = tile.valid

    def pop(self, rows: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The first ``rows`` rows, finished, in chunks of at most :data:`CHUNK_ROWS` rows (so that the
        temporary arrays stay small): (chunk, width, classes) probabilities and (chunk, width) validity."""
        for start in range(0, rows, CHUNK_ROWS):
            chunk = slice(start, min(start + CHUNK_ROWS, rows))
            weights = np.outer(self.row_weights[self.top + start:self.top + chunk.stop], self.column_weights)
            yield self.sum[chunk, :self.width] / weights[..., np.newaxis], self.valid[chunk, :self.width]
        for array in (self.sum, self.valid):
            array[:-rows] = array[rows:]
            array[-rows:] = 0
        self.top += rows


def _classify(batches: Iterator, predict, grid: TileGrid, rows: _Rows, progress: Progress) -> None:
    """Predict every batch, blend it into the strip and hand finished rows on; checks cancel per batch."""
    strip, ys, current, done = _Strip(grid, len(rows.classes)), grid.y.offsets, 0, 0
    for images, tiles in batches:
        weighted = predict(images)
        for tile, probabilities in zip(tiles, weighted):
            if tile.row != current:
                rows.write(strip.pop(ys[tile.row] - ys[current]))
                current = tile.row
            strip.add(tile, probabilities)
        done += len(tiles)
        progress.update(done / grid.count)
        progress.check()
    rows.write(strip.pop(grid.y.length - ys[current]))


class _Rows:
    """Turns finished rows of probabilities into class (and probability) rows, and counts the classes."""

    def __init__(self, classes: Sequence[ClassInfo], classes_out: _RowWriter, probabilities_out: _RowWriter | None):
        self.classes, self.classes_out, self.probabilities_out = list(classes), classes_out, probabilities_out
        self.values = np.array([c.value for c in classes], np.uint8)
        self.counts = np.zeros(256, np.int64)

    def write(self, chunks: Iterator[tuple[np.ndarray, np.ndarray]]) -> None:
        """Write finished rows, given as chunks of (rows, width, classes) probabilities and (rows, width) validity."""
        for probabilities, valid in chunks:
            classes = np.where(valid, self.values[probabilities.argmax(axis=-1)], NODATA_CLASS).astype(np.uint8)
            self.counts += np.bincount(classes.ravel(), minlength=256)
            self.classes_out.append(classes[np.newaxis])
            if self.probabilities_out is not None:
                percent = np.rint(np.moveaxis(probabilities, -1, 0) * 100).astype(np.uint8)
                self.probabilities_out.append(np.where(valid, percent, NODATA_CLASS))

    def class_pixels(self) -> dict[str, int]:
        return {c.name: int(self.counts[c.value]) for c in self.classes}


class _RowWriter:
    """Writes rows to a dataset in whole block rows, flushing each: GDAL's cache stays small and no
    compressed block is ever written twice. The dataset is closed on exit, also on error."""

    def __init__(self, ds: gdal.Dataset):
        self.ds, self.row, self.pending = ds, 0, []

    def __enter__(self) -> _RowWriter:
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


def _probability_raster(path: str, like: gdal.Dataset, classes: Sequence[ClassInfo]) -> gdal.Dataset:
    ds = create_byte_raster(path, like, len(classes), ["PHOTOMETRIC=MINISBLACK"])  # not RGB, whatever the count
    for number, info in enumerate(classes, start=1):
        band = ds.GetRasterBand(number)
        band.SetDescription(info.name)
        band.SetUnitType("%")
    return ds


@contextlib.contextmanager
def _geotiff(path: str, cog: bool, resampling: str, classes: Sequence[ClassInfo] = ()) -> Iterator[str]:
    """A path to write a tiled GeoTIFF to. On success it lands at ``path`` (converted to a COG, with
    overviews resampled by ``resampling``, if ``cog``), with the QGIS style of ``classes`` if given; on
    error nothing is left, sidecars included."""
    with atomic_path(path) as tmp:
        if classes:
            write_class_style(tmp, classes)
        if not cog:
            yield tmp
            return
        staging = str(Path(tmp).with_suffix(".staging.tif"))
        try:
            yield staging
            gdal.Translate(tmp, staging, format="COG", creationOptions=[*COG_OPTIONS, f"RESAMPLING={resampling}"])
        finally:
            remove_output(staging)
