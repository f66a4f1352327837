"""Label rasters on an image's pixel grid: burnt from polygons or points, or resampled from another raster."""
from __future__ import annotations

from osgeo import gdal, ogr

from .classes import NODATA_CLASS
from .raster import category_names, open_raster

ogr.UseExceptions()


def rasterize_labels(vector_path: str, class_field: str, reference_raster: str, output_path: str,
                     layer_name: str | None = None) -> str:
    """Write a Byte label raster on ``reference_raster``'s grid from the integer ``class_field`` of polygons.

    Pixels no polygon covers are 255 (unlabelled). GDAL reprojects the polygons when their CRS differs.
    """
    if not class_field:
        raise ValueError(f"Label polygons {vector_path} need a class field: name the field holding 0, 1, 2, ….")
    try:
        source = ogr.Open(vector_path)
    except RuntimeError as err:
        raise ValueError(f"GDAL cannot read the label polygons {vector_path} ({err}).") from None
    layer = source.GetLayerByName(layer_name) if layer_name else source.GetLayer(0)
    definition = layer.GetLayerDefn()
    index = definition.GetFieldIndex(class_field)
    if index < 0:
        raise ValueError(f"The label polygons {vector_path} have no field {class_field!r}: choose the class field.")
    if definition.GetFieldDefn(index).GetType() not in (ogr.OFTInteger, ogr.OFTInteger64, ogr.OFTReal):
        raise ValueError(f"The class field {class_field!r} of {vector_path} is not numeric: it must hold class "
                         "values 0, 1, 2, … (add one with the Field calculator).")
    reference = open_raster(reference_raster, "image raster")
    target = gdal.GetDriverByName("GTiff").Create(output_path, reference.RasterXSize, reference.RasterYSize, 1,
                                                  gdal.GDT_Byte, options=["COMPRESS=DEFLATE"])
    target.SetGeoTransform(reference.GetGeoTransform())
    target.SetProjection(reference.GetProjection())
    band = target.GetRasterBand(1)
    band.SetNoDataValue(NODATA_CLASS)
    band.Fill(NODATA_CLASS)
    gdal.RasterizeLayer(target, [1], layer, options=[f"ATTRIBUTE={class_field}"])
    target = None
    return output_path


def labels_on_grid(image: gdal.Dataset, label_path: str, what: str = "label raster") -> gdal.Dataset:
    """The label raster, resampled by nearest neighbour onto the image grid when the grids differ."""
    label = open_raster(label_path, what)
    if label.RasterCount != 1:
        raise ValueError(f"The {what} {label_path} has {label.RasterCount} bands: "
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
