"""Bad model files, command-line values, masks and class rasters through the command line: exit code 1, one
sentence naming the user's file and what to do (no traceback), nothing written."""
import json
import zipfile

import keras
import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from synthetic import EPSG, GEOTRANSFORM, tree, write_raster, write_scene
from tiny_model import write_tiny_model
from training.cli import main
from training.data.classes import class_scheme
from training.models.bundle import METADATA_ENTRY, ModelInfo

X0, Y0 = GEOTRANSFORM[0], GEOTRANSFORM[3]  # the scene's top left corner; its pixels are 10 m
FAST = ["--engine", "tensorflow", "--precision", "float32", "--flip-average", "off", "--tile-size", "64"]


@pytest.fixture(scope="module")
def good_model(tmp_path_factory):
    return write_tiny_model(tmp_path_factory.mktemp("model") / "tiny.keras")


@pytest.fixture
def folder(tmp_path, good_model):
    """A 64×64 px scene, the tiny model beside it, and the scene's files as they were."""
    write_scene(tmp_path, 64, 64)
    (tmp_path / "tiny.keras").write_bytes(good_model.read_bytes())
    return tmp_path


def refused(args: list, capsys) -> str:
    """Run the command line; it must fail with one line on stderr. Returns that line."""
    assert main([str(arg) for arg in args]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1 and "Traceback" not in error
    return error


def rewritten(model, path, drop=(), replace=None):
    """A copy of the model file without the entries ``drop`` and with those in ``replace`` replaced."""
    with zipfile.ZipFile(model) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            if name not in drop:
                target.writestr(name, (replace or {}).get(name) or source.read(name))
    return path


def lambda_model(path):
    """A network with a Lambda layer (Python code) saved with GeoSeg's metadata, as a hand-made bundle would be."""
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Conv2D(3, 1, activation="softmax")(keras.layers.Lambda(lambda x: x * 2)(inputs))
    keras.Model(inputs, outputs).save(path)
    info = ModelInfo("unet", [4, 3, 2], class_scheme(["a", "b", "c"]),
                     {"method": "standard", "offset": [1000.0] * 3, "scale": [500.0] * 3})
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(METADATA_ENTRY, json.dumps(info.to_dict()))
    return path


MODELS = {
    "lambda_layer": (lambda_model, "cannot be loaded (Requested the deserialization of a `Lambda` layer"),
    "metadata_not_json": (lambda path: rewritten(path.parent / "tiny.keras", path, replace={METADATA_ENTRY: b"{x"}),
                          "GeoSeg's metadata in it (geoseg.json) is damaged"),
    "metadata_without_classes": (lambda path: rewritten(path.parent / "tiny.keras", path,
                                                        replace={METADATA_ENTRY: b'{"bands": [4, 3, 2]}'}),
                                 "GeoSeg's metadata in it (geoseg.json) is damaged"),
    "weights_missing": (lambda path: rewritten(path.parent / "tiny.keras", path, drop=("model.weights.h5",)),
                        "cannot be loaded (Expected a model.weights.h5"),
}


@pytest.mark.parametrize("case", MODELS)
def test_bad_model_file_is_refused_with_a_sentence(case, folder, capsys):
    make, message = MODELS[case]
    model = make(folder / "bad.keras")
    before = tree(folder)
    error = refused(["classify", folder / "image.tif", model, folder / "out.tif", *FAST], capsys)
    assert f"The model file {model} " in error and message in error and "train" in error
    assert tree(folder) == before


def test_extent_of_three_numbers_is_refused(folder, capsys):
    before = tree(folder)
    error = refused(["classify", folder / "image.tif", folder / "tiny.keras", folder / "out.tif", *FAST,
                     "--extent", "1,2,3"], capsys)
    assert "The extent 1.0, 2.0, 3.0 must be 4 numbers, not 3: only this area: xmin,ymin,xmax,ymax" in error
    assert tree(folder) == before


def vector(path, kind, wkts, epsg=EPSG):
    """A GeoPackage layer of ``kind`` holding the geometries ``wkts``."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("mask", srs, kind)
    for wkt in wkts:
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    return path


def square(x, y, side=300):
    return f"POLYGON (({x} {y}, {x + side} {y}, {x + side} {y - side}, {x} {y - side}, {x} {y}))"


MASKS = {
    "a_raster": (lambda path: write_raster(path.with_suffix(".tif"), np.ones((8, 8), np.uint8)),
                 "GDAL finds no vector layer in the mask polygons {mask}: give a GeoPackage"),
    "points": (lambda path: vector(path, ogr.wkbPoint, [f"POINT ({X0 + 100} {Y0 - 100})"]),
               "The mask polygons {mask} hold Point geometries, not polygons: give a polygon layer"),
    "empty": (lambda path: vector(path, ogr.wkbPolygon, []),
              "The mask polygons {mask} (0 features, CRS WGS 84 / UTM zone 33N) cover no pixel of the raster {image}"
              " (CRS WGS 84 / UTM zone 33N): the map would be all nodata."),
    "100_km_away": (lambda path: vector(path, ogr.wkbPolygon, [square(X0 + 100_000, Y0)]),
                    "The mask polygons {mask} (1 features, CRS WGS 84 / UTM zone 33N) cover no pixel of the raster"),
}


@pytest.mark.parametrize("case", MASKS)
def test_mask_that_is_not_polygons_over_the_raster_is_refused(case, folder, capsys):
    make, message = MASKS[case]
    mask = make(folder / "mask.gpkg")
    before = tree(folder)
    error = refused(["classify", folder / "image.tif", folder / "tiny.keras", folder / "out.tif", *FAST,
                     "--mask-polygons", mask], capsys)
    assert message.format(mask=mask, image=folder / "image.tif") in error
    assert tree(folder) == before


def test_mask_outside_the_extent_is_refused_naming_the_extent(folder, capsys):
    mask = vector(folder / "mask.gpkg", ogr.wkbPolygon, [square(X0, Y0)])  # the top left 30×30 px
    extent = f"{X0 + 400},{Y0 - 600},{X0 + 600},{Y0 - 400}"
    before = tree(folder)
    error = refused(["classify", folder / "image.tif", folder / "tiny.keras", folder / "out.tif", *FAST,
                     "--mask-polygons", mask, "--extent", extent], capsys)
    assert f"cover no pixel of the raster {folder / 'image.tif'} within the extent" in error
    assert "the map would be all nodata" in error
    assert tree(folder) == before


def test_mask_over_the_raster_in_another_crs_classifies(folder, capsys):
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    utm = osr.SpatialReference()
    utm.ImportFromEPSG(EPSG)
    to_wgs84 = osr.CoordinateTransformation(utm, wgs84)
    corners = [to_wgs84.TransformPoint(X0 + dx, Y0 - dy)[:2] for dx, dy in ((0, 0), (300, 0), (300, 300), (0, 300))]
    ring = ", ".join(f"{x} {y}" for x, y in corners + corners[:1])
    mask = vector(folder / "mask.gpkg", ogr.wkbMultiPolygon, [f"MULTIPOLYGON ((({ring})))"], epsg=4326)
    assert main([str(arg) for arg in ["classify", folder / "image.tif", folder / "tiny.keras", folder / "out.tif",
                                      *FAST, "--mask-polygons", mask]]) == 0
    classes = gdal.Open(str(folder / "out.tif")).ReadAsArray()
    assert (classes[:28, :28] != 255).all() and (classes[32:, :] == 255).all()


def test_label_polygons_that_are_a_raster_are_refused(folder, capsys):
    before = tree(folder)
    error = refused(["chips", folder / "image.tif", folder / "chips", "--label-polygons", folder / "labels.tif",
                     "--class-field", "value"], capsys)
    assert f"GDAL finds no vector layer in the label polygons {folder / 'labels.tif'}" in error
    assert tree(folder) == before


def test_vectorizing_an_all_nodata_class_raster_says_so(tmp_path, capsys):
    raster = write_raster(tmp_path / "classes.tif", np.full((16, 16), 255, np.uint8), nodata=255)
    error = refused(["vectorize", raster, tmp_path / "classes.gpkg"], capsys)
    assert f"The class raster {raster} holds only nodata pixels (255)" in error
    assert not (tmp_path / "classes.gpkg").exists()


def test_vectorizing_with_a_minimum_area_above_every_patch_says_so(tmp_path, capsys):
    classes = np.zeros((16, 16), np.uint8)
    classes[:, 8:] = 1
    raster = write_raster(tmp_path / "classes.tif", classes, nodata=255)
    error = refused(["vectorize", raster, tmp_path / "classes.gpkg", "--min-area", "1e6"], capsys)
    assert f"Every class patch of {raster} is smaller than the minimum area 1000000.0" in error
    assert not (tmp_path / "classes.gpkg").exists()
