"""Class raster → polygons: one (multi)polygon per object, a patch of a class' pixels touching by an edge or a
corner (``OBJECT_CONNECTIVITY``, as the object metrics count them; or one multipolygon per class), with the class
value, name, colour, area and length, written to a GeoPackage in the raster's CRS.

Area and length are in the CRS' units (m² and m for a projected CRS in metres; square degrees and degrees for
a geographic one). Length is the longer side of the object's minimum-area rotated rectangle: a vessel's or a
building's length, whatever its heading. Polygons whose pixels touch only at a corner are made valid
(MakeValid: a multipolygon of the parts that meet at that corner)."""
from __future__ import annotations

import numpy as np
from osgeo import gdal, ogr, osr

from ..config import VectorizeConfig, VectorizeResult
from ..data.classes import NODATA_CLASS, OBJECT_CONNECTIVITY
from ..data.raster import band_classes, open_raster
from ..errors import GeoSegError
from ..outputs import atomic_path
from ..progress import Progress

ogr.UseExceptions()

LAYER = "classes"


def vectorize(config: VectorizeConfig, progress: Progress | None = None) -> VectorizeResult:
    progress = progress or Progress()
    if config.min_area < 0 or config.simplify < 0:
        raise GeoSegError("Minimum area and simplification tolerance cannot be negative: give 0 for none.")
    if not config.output_vector.lower().endswith(".gpkg"):
        raise GeoSegError(f"The polygons are written as a GeoPackage: give an output file ending in .gpkg, not "
                          f"{config.output_vector}.")
    raster = open_raster(config.class_raster, "class raster")
    if raster.RasterCount != 1 or raster.GetRasterBand(1).DataType != gdal.GDT_Byte:
        raise GeoSegError(f"{config.class_raster} is not a single-band Byte class raster (values 0, 1, 2, …; "
                          "255 = nodata), such as Classify raster writes.")
    band = raster.GetRasterBand(1)
    progress.update(0.0, f"Tracing the class patches of {config.class_raster}…")
    scratch = ogr.GetDriverByName("Memory").CreateDataSource("")  # kept: OGR layers die with their source
    srs = osr.SpatialReference(wkt=raster.GetProjection()) if raster.GetProjection() else None
    patches = scratch.CreateLayer("patches", srs, ogr.wkbPolygon)
    patches.CreateField(ogr.FieldDefn("value", ogr.OFTInteger))
    try:
        gdal.Polygonize(band, band.GetMaskBand(), patches, 0, [f"8CONNECTED={OBJECT_CONNECTIVITY}"],
                        callback=lambda done, *_: 0 if progress.is_cancelled() else progress.update(0.7 * done) or 1)
    except RuntimeError:
        progress.check()  # a cancel stops GDAL with an error
        raise
    shapes = _shapes(patches, config)
    if not shapes:
        raise GeoSegError(_nothing_to_write(patches, config))
    classes = {c.value: c for c in band_classes(band, max(shapes) + 1)}
    with atomic_path(config.output_vector) as tmp:
        _write(tmp, srs, shapes, classes)
    areas = {classes[value].name: sum(g.GetArea() for g in geometries) for value, geometries in shapes.items()}
    count = sum(len(geometries) for geometries in shapes.values())
    progress.update(1.0, f"Wrote {count} polygons to {config.output_vector}.")
    return VectorizeResult(config.output_vector, count, areas)


def _shapes(patches: ogr.Layer, config: VectorizeConfig) -> dict[int, list[ogr.Geometry]]:
    """The patches of each class, without those under the minimum area, simplified, dissolved if asked."""
    shapes: dict[int, list[ogr.Geometry]] = {}
    for feature in patches:
        value, geometry = feature.GetField("value"), feature.GetGeometryRef().Clone()
        if value == NODATA_CLASS or geometry.GetArea() < config.min_area:
            continue
        if config.simplify:
            geometry = geometry.SimplifyPreserveTopology(config.simplify)
        shapes.setdefault(value, []).append(geometry.MakeValid())
    if config.dissolve:
        for value, geometries in shapes.items():
            union = ogr.Geometry(ogr.wkbMultiPolygon)
            for geometry in geometries:
                parts = ogr.ForceToMultiPolygon(geometry)  # made valid: a polygon or a multipolygon
                for index in range(parts.GetGeometryCount()):
                    union.AddGeometry(parts.GetGeometryRef(index))
            shapes[value] = [ogr.ForceToMultiPolygon(union.UnionCascaded())]
    return dict(sorted(shapes.items()))


def _nothing_to_write(patches: ogr.Layer, config: VectorizeConfig) -> str:
    """Why no polygon is left: the raster has no classified pixel, or every patch is under the minimum area."""
    patches.SetAttributeFilter(f"value <> {NODATA_CLASS}")
    if patches.GetFeatureCount():
        return (f"Every class patch of {config.class_raster} is smaller than the minimum area {config.min_area}: give "
                "a smaller minimum area (0 keeps every patch).")
    return (f"The class raster {config.class_raster} holds only nodata pixels ({NODATA_CLASS}): there is nothing to "
            "vectorize. Check that it is the map Classify raster wrote, and the extent or mask it was classified with.")


def _write(path: str, srs, shapes: dict[int, list[ogr.Geometry]], classes: dict) -> None:
    source = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    layer = source.CreateLayer(LAYER, srs, ogr.wkbMultiPolygon)
    for name, kind in (("value", ogr.OFTInteger), ("class", ogr.OFTString), ("color", ogr.OFTString),
                       ("area", ogr.OFTReal), ("length", ogr.OFTReal)):
        layer.CreateField(ogr.FieldDefn(name, kind))
    layer.StartTransaction()
    for value, geometries in shapes.items():
        info = classes[value]
        for geometry in geometries:
            feature = ogr.Feature(layer.GetLayerDefn())
            feature.SetField("value", value)
            feature.SetField("class", info.name)
            feature.SetField("color", "#{:02x}{:02x}{:02x}".format(*info.color))
            feature.SetField("area", geometry.GetArea())
            feature.SetField("length", length(geometry))
            feature.SetGeometry(ogr.ForceToMultiPolygon(geometry))
            layer.CreateFeature(feature)
    layer.CommitTransaction()


def length(geometry: ogr.Geometry) -> float:
    """The longer side of ``geometry``'s minimum-area rotated rectangle, which has a side along an edge of its
    convex hull (rotating calipers)."""
    hull = geometry.ConvexHull()  # kept: its ring dies with it
    points = np.array(hull.GetGeometryRef(0).GetPoints())[:, :2]
    edges = np.diff(points, axis=0)
    edges = edges[np.hypot(*edges.T) > 0]
    along = edges / np.hypot(*edges.T)[:, None]
    across = along[:, ::-1] * [-1, 1]
    sides = np.ptp(points @ along.T, axis=0), np.ptp(points @ across.T, axis=0)
    best = np.argmin(sides[0] * sides[1])
    return float(max(sides[0][best], sides[1][best]))
