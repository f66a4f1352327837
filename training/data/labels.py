"""Label rasters on an image's pixel grid, burnt from polygons or points or resampled from another raster, and
read as classes."""
from __future__ import annotations

import numpy as np
from osgeo import gdal, ogr

from ..errors import GeoSegError, listed
from .classes import NODATA_CLASS
from .raster import category_names, create_byte_raster, open_raster, reading, same_crs

ogr.UseExceptions()


def rasterize_labels(vector_path: str, class_field: str, reference_raster: str, output_path: str,
                     layer_name: str | None = None) -> str:
    """Write a Byte label raster on ``reference_raster``'s grid from the integer ``class_field`` of polygons
    (or points); a feature without a class value, or with one that is no class, is refused.

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
    _check_field_values(layer, class_field, vector_path)
    return _burn(layer, open_raster(reference_raster, "image raster"), output_path, NODATA_CLASS,
                 [f"ATTRIBUTE={class_field}"])


def _check_field_values(layer: ogr.Layer, class_field: str, vector_path: str) -> None:
    """Refuse a class field that is empty in some feature, or holds a value that is no class."""
    values = [feature.GetField(class_field) for feature in layer]
    layer.ResetReading()
    empty = values.count(None)
    if empty:
        raise GeoSegError(f"The class field {class_field!r} of {vector_path} is empty in {empty} of its "
                          f"{len(values)} features: give each its class (QGIS: Field calculator), or delete them.")
    _check_class_values(np.array(values, np.float64), f"The class field {class_field!r} of {vector_path}",
                        "recode them with the Field calculator")


def _check_class_values(values: np.ndarray, source: str, fix: str) -> None:
    """Refuse ``values`` that are not whole numbers 0 to 255, naming a few; ``source`` begins the message and
    ``fix`` says what to do."""
    bad = values[(values < 0) | (values > NODATA_CLASS) | (values % 1 != 0)]
    if bad.size:
        raise GeoSegError(f"{source} holds values that are no class: {listed([f'{v:g}' for v in np.unique(bad)])}. "
                          f"Class values are whole numbers 0 to 254 ({NODATA_CLASS} = unlabelled): {fix}.")


def _class_values(values: np.ndarray, nodata: float | None, source: str) -> np.ndarray:
    """Label ``values`` as classes (uint8), 255 (unlabelled) where they are 255, ``nodata`` or NaN; refuses
    any other value that is no class (:func:`_check_class_values`)."""
    unlabelled = values == NODATA_CLASS
    if nodata is not None:
        unlabelled |= values == nodata
    if values.dtype.kind == "f":
        unlabelled |= np.isnan(values)
    if values.dtype != np.uint8:
        _check_class_values(values[~unlabelled], source, "recode them (QGIS: Reclassify by table), or make the "
                            "value that marks unlabelled pixels the raster's nodata")
    return np.where(unlabelled, NODATA_CLASS, values).astype(np.uint8, copy=False)


def read_classes(label: gdal.Dataset, source: str, what: str) -> np.ndarray:
    """Band 1 of a label raster as classes (:func:`_class_values`); ``source`` names it in messages."""
    band = label.GetRasterBand(1)
    with reading(label, what):
        values = band.ReadAsArray()
    return _class_values(values, band.GetNoDataValue(), source)


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


def rasterize_coverage(vector_path: str, like: gdal.Dataset, output_path: str, what: str) -> str:
    """Write a Byte raster on ``like``'s grid: 1 where the features of ``vector_path`` (reprojected to its CRS) lie,
    0 elsewhere; ``what`` names the file in messages."""
    source = _open_vector(vector_path, what)  # kept: OGR layers die with their source
    return _burn(source.GetLayer(0), like, output_path, 0, [], burn_values=[1])


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


def read_labels(image: gdal.Dataset, label_path: str, what: str = "label raster",
                name: str | None = None) -> tuple[np.ndarray, list[str] | None]:
    """The classes of the label raster on the image grid (:func:`labels_on_grid`, :func:`read_classes`) and its
    category names; refused where it labels no pixel of the image. Messages name ``name`` (default
    ``label_path``): the user's polygons where ``label_path`` is the raster they were burnt into."""
    name = name or label_path
    label = labels_on_grid(image, label_path, what)
    classes = read_classes(label, f"The {what} {name}", what)
    if (classes == NODATA_CLASS).all():
        raise GeoSegError(f"No pixel of {image.GetDescription()} is labelled by the {what} {name}"
                          f"{_reprojected(image, label_path)}.")
    return classes, label_names(label)


def _reprojected(image: gdal.Dataset, label_path: str) -> str:
    """How a label raster that labels no pixel of the image came onto its grid, and what to check."""
    label = open_raster(label_path)
    if same_crs(image, label):
        return ": check that both cover the same area"
    return (f" (it has {_crs_name(label.GetSpatialRef())}, the image {_crs_name(image.GetSpatialRef())}: GeoSeg "
            "reprojected it): check that both cover the same area, and that each has its right CRS")


def labels_on_grid(image: gdal.Dataset, label_path: str, what: str = "label raster") -> gdal.Dataset:
    """The label raster, resampled by nearest neighbour onto the image grid, and reprojected into its CRS,
    where the grids or CRSs differ. One on the image's grid without a CRS of its own is taken as in the image's
    CRS; on another grid, a CRS on one of the two alone is refused: where the other lies is unknown."""
    label = open_raster(label_path, what)
    if label.RasterCount != 1:
        raise GeoSegError(f"The {what} {label_path} has {label.RasterCount} bands: "
                          "give a single-band class raster.")
    same_grid = (label.RasterXSize, label.RasterYSize, label.GetGeoTransform()) == (
        image.RasterXSize, image.RasterYSize, image.GetGeoTransform())
    if same_grid and (same_crs(image, label) or label.GetSpatialRef() is None):
        return label
    _check_crs_known(image, label, what)
    gt = image.GetGeoTransform()
    bounds = [gt[0], gt[3] + gt[5] * image.RasterYSize, gt[0] + gt[1] * image.RasterXSize, gt[3]]
    return gdal.Warp("", label, format="MEM", outputBounds=bounds, width=image.RasterXSize,
                     height=image.RasterYSize, dstSRS=image.GetProjection() or None,
                     resampleAlg="near", dstNodata=NODATA_CLASS)


def _check_crs_known(image: gdal.Dataset, label: gdal.Dataset, what: str) -> None:
    """Refuse a label raster without a CRS on an image with one, or the other way round."""
    if (label.GetSpatialRef() is None) == (image.GetSpatialRef() is None):
        return
    if label.GetSpatialRef() is None:
        bare, known, crs = f"The {what} {label.GetDescription()}", image.GetDescription(), image.GetSpatialRef()
    else:
        bare, known, crs = (f"The raster {image.GetDescription()}", f"the {what} {label.GetDescription()}",
                            label.GetSpatialRef())
    raise GeoSegError(f"{bare} has no CRS, but {known} has {_crs_name(crs)}: if both lie on that grid, give the "
                      "one without a CRS that CRS (QGIS: Assign projection; GDAL: gdal_edit.py -a_srs), else give a "
                      "raster with its CRS.")


def label_names(label: gdal.Dataset) -> list[str] | None:
    """Class names from the label raster's category names, if it has any."""
    return [name or f"Class {i}" for i, name in enumerate(category_names(label.GetRasterBand(1)))] or None
