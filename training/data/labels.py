"""Label rasters on an image's pixel grid: burnt from polygons or points, or resampled from another raster."""
from __future__ import annotations

from osgeo import gdal, ogr

from ..errors import GeoSegError
from .classes import NODATA_CLASS
from .raster import category_names, create_byte_raster, open_raster

ogr.UseExceptions()


def rasterize_labels(vector_path: str, class_field: str, reference_raster: str, output_path: str,
                     layer_name: str | None = None) -> str:
    """Write a Byte label raster on ``reference_raster``'s grid from the integer ``class_field`` of polygons
    (or points).

    Pixels no polygon covers are 255 (unlabelled). GDAL reprojects the polygons when their CRS differs.
    """
    if not class_field:
        raise GeoSegError(f"Label polygons {vector_path} need a class field: name the field holding 0, 1, 2, ….")
    source = _open_vector(vector_path, "label polygons")
    layer = source.GetLayerByName(layer_name) if layer_name else source.GetLayer(0)
    definition = layer.GetLayerDefn()
    index = definition.GetFieldIndex(class_field)
    if index < 0:
        raise GeoSegError(f"The label polygons {vector_path} have no field {class_field!r}: choose the class field.")
    if definition.GetFieldDefn(index).GetType() not in (ogr.OFTInteger, ogr.OFTInteger64, ogr.OFTReal):
        raise GeoSegError(f"The class field {class_field!r} of {vector_path} is not numeric: it must hold class "
                          "values 0, 1, 2, … (add one with the Field calculator).")
    return _burn(layer, open_raster(reference_raster, "image raster"), output_path, NODATA_CLASS,
                 [f"ATTRIBUTE={class_field}"])


def rasterize_mask(vector_path: str, like: gdal.Dataset, output_path: str, where: str) -> str:
    """Write a Byte raster on ``like``'s grid (``where`` names it for messages): 1 inside the polygons of
    ``vector_path`` (reprojected to its CRS), 0 outside. A layer that is not polygons, or whose polygons cover none
    of its pixels (the map would be all nodata), is an error."""
    source = _open_vector(vector_path, "mask polygons")
    layer = source.GetLayer(0)
    kind = layer.GetGeomType()
    if not _polygonal(kind):
        raise GeoSegError(f"The mask polygons {vector_path} hold {ogr.GeometryTypeToName(kind)} geometries, not "
                          "polygons: give a polygon layer (outside its polygons the map is nodata).")
    if not _any_set(_burn(layer, like, output_path, 0, [], burn_values=[1])):
        raise GeoSegError(f"The mask polygons {vector_path} ({layer.GetFeatureCount()} features, "
                          f"{_crs_name(layer.GetSpatialRef())}) cover no pixel of {where} "
                          f"({_crs_name(like.GetSpatialRef())}): the map would be all nodata. Give polygons over "
                          "it (GeoSeg reprojects them to its CRS), or no mask.")
    return output_path


def _polygonal(kind: int) -> bool:
    """Polygons of any kind (multi, curved, 3D), or a layer that declares no one geometry type."""
    return kind == ogr.wkbUnknown or bool(ogr.GT_IsSurface(kind)) or bool(
        ogr.GT_IsSubClassOf(ogr.GT_Flatten(kind), ogr.wkbMultiSurface))


def _any_set(path: str) -> bool:
    """Whether the Byte raster at ``path`` has a pixel above 0 (read block by block; closed on return)."""
    raster = gdal.Open(path)  # held: its band dies with it
    return raster.GetRasterBand(1).ComputeRasterMinMax(False)[1] > 0


def _crs_name(srs) -> str:
    """``srs`` named for a message."""
    return f"CRS {srs.GetName()}" if srs else "no CRS"


def _open_vector(path: str, what: str) -> ogr.DataSource:
    try:
        source = ogr.Open(path)
    except RuntimeError as err:
        raise GeoSegError(f"GDAL cannot read the {what} {path} ({err}).") from None
    if source is None or not source.GetLayerCount():
        raise GeoSegError(f"GDAL finds no vector layer in the {what} {path}: give a GeoPackage, shapefile or other "
                          "vector file.")
    return source


def _burn(layer: ogr.Layer, like: gdal.Dataset, output_path: str, fill: int, options: list[str],
          burn_values: list[int] | None = None) -> str:
    """Burn ``layer`` into a new Byte GeoTIFF on ``like``'s grid filled with ``fill`` (reprojecting it)."""
    target = create_byte_raster(output_path, like, 1)
    target.GetRasterBand(1).Fill(fill)
    gdal.RasterizeLayer(target, [1], layer, burn_values=burn_values or [], options=options)
    target = None
    return output_path


def labels_on_grid(image: gdal.Dataset, label_path: str, what: str = "label raster") -> gdal.Dataset:
    """The label raster, resampled by nearest neighbour onto the image grid when the grids differ."""
    label = open_raster(label_path, what)
    if label.RasterCount != 1:
        raise GeoSegError(f"The {what} {label_path} has {label.RasterCount} bands: "
                          "give a single-band class raster.")
    same_grid = (label.RasterXSize, label.RasterYSize, label.GetGeoTransform()) == (
        image.RasterXSize, image.RasterYSize, image.GetGeoTransform())
    if same_grid:
        return label
    gt = image.GetGeoTransform()
    bounds = [gt[0], gt[3] + gt[5] * image.RasterYSize, gt[0] + gt[1] * image.RasterXSize, gt[3]]
    return gdal.Warp("", label, format="MEM", outputBounds=bounds, width=image.RasterXSize,
                     height=image.RasterYSize, dstSRS=image.GetProjection() or None,
                     resampleAlg="near", dstNodata=NODATA_CLASS)


def label_names(label: gdal.Dataset) -> list[str] | None:
    """Class names from the label raster's category names, if it has any."""
    return [name or f"Class {i}" for i, name in enumerate(category_names(label.GetRasterBand(1)))] or None
