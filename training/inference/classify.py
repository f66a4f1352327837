"""Classify a raster of any size with a GeoSeg model bundle or an ONNX segmentation model.

The raster is cut into overlapping tiles of one shape, fitted to the raster so that few pixels are
computed twice. A background thread reads them (a bounded queue keeps it a few batches ahead) while one
traced function normalises and classifies them in batches, run by TensorFlow or converted to LiteRT, or by
ONNX Runtime for an ONNX model or a model file's int8 copy (:mod:`training.inference.engines`). Overlapping class
probabilities are blended with a smooth weight window, so no seams show. Tiles run row by row: only the rows of
the current tile row are held (memory grows with the raster's width times the tile size, never with its height),
and finished rows are written at once.

Outputs are tiled, DEFLATE-compressed GeoTIFFs (or Cloud Optimized GeoTIFFs) on the input's grid:

* the class raster: Byte, nodata 255, with color table and class names, and beside it a QGIS style
  listing only the classes (:mod:`training.data.qgis_style`);
* optionally a probability raster: one Byte band per class (named after it) holding the class
  probability in percent, 0–100 (bands sum to 100 up to rounding), nodata 255. Percent steps are ample
  for a model's confidence and take a quarter of the space of Float32;
* optionally an uncertainty raster: one Byte band, the normalised entropy of the (flip-averaged, blended)
  class probabilities in percent (:mod:`training.inference.uncertainty`): 0 where the model is sure of one
  class, 100 where all classes are equally likely, nodata 255 where the class raster has nodata; with a QGIS
  style beside it drawing it as a continuous ramp.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from ..config import ClassifyConfig, ClassifyResult
from ..data.qgis_style import class_style, uncertainty_style
from ..data.raster import create_class_raster, open_raster
from ..errors import GeoSegError
from ..host.devices import choose_engine
from ..models.flips import flip_averaged, flips_used
from ..models.int8 import int8_carried, missing_copy
from ..models.onnx_metadata import is_onnx, read_model_info
from ..progress import Progress
from .class_writing import ClassRows, RowWriter, geotiff_output, percent_raster
from .engines import LABELS, cache_folder, compile_tiles
from .tile_reading import Tile, TileReader, input_bands, polygon_mask, prefetched, raster_window, tile_batches
from .tiling import TileGrid

PREFETCH_BATCHES = 2
CHUNK_ROWS = 64  # finished rows are turned into classes this many at a time


def classify_raster(config: ClassifyConfig, progress: Progress | None = None) -> ClassifyResult:
    """Classify ``config.input_raster`` with the model bundle, or ONNX model, ``config.model_path``.

    Pixels that are nodata, masked, NaN or infinite in any of the model's bands come out as 255. On
    cancellation (:class:`~training.progress.Cancelled`) or any error no output file is left behind.
    """
    progress = progress or Progress()
    info = read_model_info(config.model_path)
    raster = open_raster(config.input_raster, "input raster")
    bands = input_bands(raster, info.bands, config)
    source = raster_window(raster, config.extent, config.input_raster)
    grid = TileGrid.fit(source.RasterXSize, source.RasterYSize, config.tile_size, config.overlap)
    if config.batch_size < 1:
        raise GeoSegError(f"Batch size {config.batch_size} must be at least 1.")
    onnx = is_onnx(config.model_path)
    carried = not onnx and int8_carried(info.metrics)
    if config.precision == "int8" and not onnx and not carried:
        raise GeoSegError(missing_copy(config.model_path, info.metrics))
    engine, precision = choose_engine(config.engine, config.precision, onnx, carried)
    flips = flips_used(config.flip_average, info.metrics)
    shape = (config.batch_size, grid.y.side, grid.x.side, len(bands))
    computed = grid.count * grid.x.side * grid.y.side / (grid.x.length * grid.y.length)
    where = f"the raster {config.input_raster}" + (" within the extent" if config.extent else "")
    with contextlib.ExitStack() as stack:  # the mask first: one that misses the raster is refused before the model
        masks = [stack.enter_context(polygon_mask(config.mask_polygons, source, where))] if config.mask_polygons else []
        progress.update(0.0, f"Classifying {grid.x.length}×{grid.y.length} px in {grid.count} tiles of "
                             f"{grid.x.side}×{grid.y.side} px ({computed:.2f}× the raster's pixels) "
                             f"with {LABELS[engine]} in {precision}"
                             f"{', averaged over mirror images (4× the computation)' if flips else ''}.")
        predict = compile_tiles(config.model_path, shape, grid.window(), engine, precision, on_convert=lambda: (
            progress.update(0.0, f"Converting the model to LiteRT for these tiles (once; kept in {cache_folder()}).")))
        if flips:
            predict = flip_averaged(predict)
        reader = TileReader(source, bands, np.asarray(info.normalization["offset"], np.float32), masks)
        class_path = stack.enter_context(geotiff_output(config.output_raster, config.cog, "NEAREST",
                                                        class_style(info.classes)))
        classes_out = stack.enter_context(RowWriter(create_class_raster(class_path, source, info.classes)))
        probabilities_out = _percent_writer(stack, config.probabilities_raster, config.cog, source,
                                            [c.name for c in info.classes])
        uncertainty_out = _percent_writer(stack, config.uncertainty_raster, config.cog, source, ["uncertainty"],
                                          uncertainty_style())
        rows = ClassRows(info.classes, classes_out, probabilities_out, uncertainty_out)
        batches = stack.enter_context(prefetched(tile_batches(reader, grid, config.batch_size), PREFETCH_BATCHES))
        _classify(batches, predict, grid, rows, progress)
    progress.update(1.0, f"Wrote {config.output_raster}.")
    return ClassifyResult(config.output_raster, config.probabilities_raster, config.uncertainty_raster,
                          rows.class_pixels())


def _percent_writer(stack: contextlib.ExitStack, path: str | None, cog: bool, like, names: list[str],
                    style: str = "") -> RowWriter | None:
    """The writer of an optional percent raster at ``path`` (none without a path), with bands ``names`` on
    ``like``'s grid and the QGIS ``style`` if any; it lands whole when ``stack`` closes without error."""
    if not path:
        return None
    tmp = stack.enter_context(geotiff_output(path, cog, "AVERAGE", style))
    return stack.enter_context(RowWriter(percent_raster(tmp, like, names)))


class _Strip:
    """Blend-weighted class probability sums of the rows the current tile row covers; rows still to be
    overlapped by the next tile row carry over."""

    def __init__(self, grid: TileGrid, num_classes: int):
        self.width, self.top = grid.x.length, 0  # top: the raster row of the strip's first row
        columns = grid.x.coverage()
        self.column_weights, self.row_weights = columns[:self.width], grid.y.coverage()
        self.sum = np.zeros((grid.y.side, len(columns), num_classes), np.float32)
        self.valid = np.zeros(self.sum.shape[:2], bool)

    def add(self, tile: Tile, weighted: np.ndarray) -> None:
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


def _classify(batches: Iterator, predict, grid: TileGrid, rows: ClassRows, progress: Progress) -> None:
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
