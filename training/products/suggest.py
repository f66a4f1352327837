"""Where to label next: squares of a raster where a model is most uncertain, spread out, shared among the classes
it predicts, and away from the pixels already labelled (uncertainty sampling, as in active learning).

The raster is cut into a grid of ``size``×``size`` squares; a square is a candidate where every pixel has a class
and an uncertainty and none is labelled or next to a labelled pixel. Each candidate has its mean uncertainty and
its predicted class (the most frequent in it). :func:`select` picks the most uncertain candidates, round by round
one per predicted class, so that rare classes get their share, then the most uncertain of any class, never two
closer than a minimum distance.
"""
from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr, osr

from ..config import SuggestConfig, SuggestResult
from ..data.classes import NODATA_CLASS, ClassInfo
from ..data.labels import labels_on_grid, rasterize_coverage, read_classes
from ..data.raster import band_classes, open_raster, reading
from ..errors import GeoSegError
from ..jobs import run_job
from ..outputs import atomic_path
from ..progress import Progress

ogr.UseExceptions()

LAYER = "suggestions"
FIELDS = (("predicted", ogr.OFTInteger), ("predicted_name", ogr.OFTString), ("color", ogr.OFTString),
          ("uncertainty", ogr.OFTReal), ("class", ogr.OFTInteger))  # class: for the user to fill


@dataclass(frozen=True)
class Square:
    """A suggested square: its top-left pixel (``row``, ``col``), predicted class and mean uncertainty (0–1)."""

    row: int
    col: int
    predicted: int
    uncertainty: float


def suggest_samples(config: SuggestConfig, progress: Progress | None = None) -> SuggestResult:
    """Classify the raster with its uncertainty (the classify job, into a scratch folder) and write the squares
    :func:`select` picks to a GeoPackage, in the raster's CRS or the label polygons'."""
    progress = progress or Progress()
    if not config.output_vector.lower().endswith(".gpkg"):
        raise GeoSegError(f"The squares are written as a GeoPackage: give an output file ending in .gpkg, not "
                          f"{config.output_vector}.")
    with tempfile.TemporaryDirectory(prefix="geoseg-suggest-") as scratch:
        classes_path, uncertainty_path = str(Path(scratch, "classes.tif")), str(Path(scratch, "uncertainty.tif"))
        run_job("classify", {"input_raster": config.input_raster, "model_path": config.model_path,
                             "output_raster": classes_path, "uncertainty_raster": uncertainty_path,
                             "mask_polygons": config.area_polygons}, progress.span(0.0, 0.9))
        grid = open_raster(classes_path, "class raster")
        classes = read_classes(grid, classes_path, "class raster")
        squares = select(candidates(read_uncertainty(uncertainty_path), classes, _labelled(config, grid, scratch),
                                    config.square_size), config.count, config.min_distance)
        if not squares:
            raise GeoSegError(f"No square of {config.square_size} px of {config.input_raster} can be suggested: "
                              "each has a labelled or nodata pixel, or lies outside the area. Give a smaller square "
                              "size, or a larger area.")
        names = {info.value: info for info in band_classes(grid.GetRasterBand(1), int(classes.max(initial=0)) + 1)}
        with atomic_path(config.output_vector) as tmp:
            _write(tmp, squares, config.square_size, names, grid, config.label_polygons)
    counts = Counter(names[square.predicted].name for square in squares)
    progress.update(1.0, f"Wrote {len(squares)} squares to {config.output_vector}.")
    return SuggestResult(config.output_vector, len(squares), dict(sorted(counts.items())))


def candidates(uncertainty: np.ndarray, classes: np.ndarray, labelled: np.ndarray, size: int) -> list[Square]:
    """The grid's squares of ``size`` px that can be suggested: none of their pixels nodata (NaN uncertainty or
    class 255) nor labelled, nor touching a ``labelled`` pixel (8 neighbours)."""
    rows, cols = (side // size * size for side in uncertainty.shape)
    blocked = _grown(labelled) | np.isnan(uncertainty) | (classes == NODATA_CLASS)
    blocks = [_squares(values[:rows, :cols], size) for values in (uncertainty, classes, blocked)]
    free = ~blocks[2].any(axis=-1)
    means = np.where(free[..., np.newaxis], blocks[0], 0).mean(axis=-1)
    return [Square(int(r) * size, int(c) * size, _majority(blocks[1][r, c]), float(means[r, c]))
            for r, c in zip(*np.nonzero(free))]


def select(squares: list[Square], count: int, min_distance: float) -> list[Square]:
    """Up to ``count`` of ``squares``, no two closer than ``min_distance`` px (between their corners, as between
    their centres): ``count`` // classes of each predicted class, taken in turns, then the most uncertain of any
    class for the rest; the most uncertain first within each."""
    ranked = sorted(squares, key=lambda square: (-square.uncertainty, square.row, square.col))
    by_class = {value: [s for s in ranked if s.predicted == value] for value in sorted({s.predicted for s in ranked})}
    chosen: list[Square] = []
    for _ in range(count // max(len(by_class), 1)):
        for queue in by_class.values():
            _take(queue, chosen, min_distance)
    while len(chosen) < count and _take(ranked, chosen, min_distance):
        pass
    return chosen


def _take(queue: list[Square], chosen: list[Square], min_distance: float) -> bool:
    """Move the first square of ``queue`` far enough from every chosen one into ``chosen`` (dropping those before
    it, and those chosen already); False when there is none."""
    while queue:
        square = queue.pop(0)
        if square not in chosen and all(
                np.hypot(square.row - other.row, square.col - other.col) >= min_distance for other in chosen):
            chosen.append(square)
            return True
    return False


def _grown(mask: np.ndarray) -> np.ndarray:
    """``mask`` with each set pixel's 8 neighbours set too."""
    padded = np.pad(mask, 1)
    height, width = mask.shape
    return np.logical_or.reduce([padded[dy:dy + height, dx:dx + width] for dy in range(3) for dx in range(3)])


def _squares(values: np.ndarray, size: int) -> np.ndarray:
    """(rows, cols) → (rows / size, cols / size, size²): each square's pixels."""
    rows, cols = values.shape
    return values.reshape(rows // size, size, cols // size, size).swapaxes(1, 2).reshape(
        rows // size, cols // size, size * size)


def _majority(values: np.ndarray) -> int:
    return int(np.bincount(values).argmax())


def read_uncertainty(path: str) -> np.ndarray:
    """Classify's uncertainty raster (percent) as 0–1, NaN where nodata."""
    raster = open_raster(path, "uncertainty raster")
    band = raster.GetRasterBand(1)
    with reading(raster, "uncertainty raster"):
        values = band.ReadAsArray().astype(np.float32)
    values[values == band.GetNoDataValue()] = np.nan
    return values / 100


def _labelled(config: SuggestConfig, grid: gdal.Dataset, scratch: str) -> np.ndarray:
    """The pixels of ``grid`` that the label raster or the label polygons label."""
    labelled = np.zeros((grid.RasterYSize, grid.RasterXSize), bool)
    if config.label_raster:
        labelled |= read_classes(labels_on_grid(grid, config.label_raster), config.label_raster,
                                 "label raster") != NODATA_CLASS
    if config.label_polygons:
        path = rasterize_coverage(config.label_polygons, grid, str(Path(scratch, "labelled.tif")), "label polygons")
        labelled |= open_raster(path).ReadAsArray() > 0
    return labelled


def _write(path: str, squares: list[Square], size: int, classes: dict[int, ClassInfo], grid: gdal.Dataset,
           label_polygons: str) -> None:
    """The squares of ``size`` px as polygons in ``grid``'s CRS, or the label polygons' where given."""
    grid_srs = srs = grid.GetSpatialRef()  # each call gives a new object: the axis order is set on these ones
    if label_polygons:
        source = ogr.Open(label_polygons)  # kept: OGR layers die with their source
        srs = source.GetLayer(0).GetSpatialRef() or grid_srs
    transform = None
    if srs is not None and grid_srs is not None and not srs.IsSame(grid_srs):
        for crs in (srs, grid_srs):
            crs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        transform = osr.CoordinateTransformation(grid_srs, srs)
    target = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    layer = target.CreateLayer(LAYER, srs, ogr.wkbPolygon)
    for name, kind in FIELDS:
        layer.CreateField(ogr.FieldDefn(name, kind))
    layer.StartTransaction()
    for square in squares:
        info = classes[square.predicted]
        feature = ogr.Feature(layer.GetLayerDefn())
        for name, value in (("predicted", info.value), ("predicted_name", info.name),
                            ("color", "#{:02x}{:02x}{:02x}".format(*info.color)),
                            ("uncertainty", round(square.uncertainty, 4))):
            feature.SetField(name, value)
        geometry = _outline(square, size, grid.GetGeoTransform())
        if transform:
            geometry.Transform(transform)
        feature.SetGeometry(geometry)
        layer.CreateFeature(feature)
    layer.CommitTransaction()


def _outline(square: Square, size: int, gt: tuple) -> ogr.Geometry:
    """The square of ``size`` px as a polygon in the map coordinates of the geotransform ``gt``."""
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for row, col in ((0, 0), (0, size), (size, size), (size, 0), (0, 0)):
        row, col = square.row + row, square.col + col
        ring.AddPoint_2D(gt[0] + col * gt[1] + row * gt[2], gt[3] + col * gt[4] + row * gt[5])
    polygon = ogr.Geometry(ogr.wkbPolygon)
    polygon.AddGeometry(ring)
    return polygon
