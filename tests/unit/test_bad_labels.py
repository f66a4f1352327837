"""Labels that do not fit their image, through the command line: a label or reference raster in another CRS
(or without one), values that are no class (fractions, negatives, above 255, empty class fields) and polygons
that miss the image are refused with exit code 1, a sentence naming the user's file, and nothing written."""
import json

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from synthetic import EPSG, GEOTRANSFORM, tree, write_chips, write_raster
from training.cli import main

SIDE = 128  # the conftest scene's size in pixels


def labels_of(path):
    return gdal.Open(str(path)).ReadAsArray()


def run(args):
    return main([str(arg) for arg in args])


def refused(args, folder, capsys):
    """Run the command line; it must fail with exit code 1, write nothing into ``folder`` and print no
    traceback. Returns what it printed on stderr."""
    before = tree(folder)
    capsys.readouterr()
    assert run(args) == 1
    error = capsys.readouterr().err
    assert "Traceback" not in error and tree(folder) == before
    return error


def polygons(path, values, offset=(0.0, 0.0), kind=ogr.OFTReal):
    """A GeoPackage of ``len(values)`` side-by-side polygons (field "class") covering the scene in vertical
    stripes, moved by ``offset`` metres; a None value leaves the field empty."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("labels", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("class", kind))
    width = SIDE * GEOTRANSFORM[1] / len(values)
    for index, value in enumerate(values):
        x0, y0 = GEOTRANSFORM[0] + offset[0] + index * width, GEOTRANSFORM[3] + offset[1]
        x1, y1 = x0 + width, y0 - SIDE * GEOTRANSFORM[1]
        feature = ogr.Feature(layer.GetLayerDefn())
        if value is not None:
            feature.SetField("class", value)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POLYGON (({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, "
                                                      f"{x0} {y0}))"))
        layer.CreateFeature(feature)
    source = None
    return path


def train_args(folder, image, labels):
    return ["train", folder / "model.keras", "--image-raster", image, "--label-raster", labels,
            "--window-size", "32", "--epochs", "1"]


def chips_args(folder, image, labels):
    return ["chips", image, folder / "chips", "--label-raster", labels, "--chip-size", "32"]


def compare_args(folder, image, labels):
    return ["compare", folder / "compare.html", "--image-raster", image, "--label-raster", labels,
            "--runs", "epochs=1", "--shared", "window_size=32"]


COMMANDS = {"train": train_args, "chips": chips_args, "compare": compare_args}


@pytest.mark.parametrize("command", ["train", "chips"])
def test_bad_labels_a_label_raster_in_another_crs_on_the_same_numbers_is_refused(command, scene, tmp_path, capsys):
    image, labels = scene
    moved = write_raster(tmp_path / "moved.tif", labels_of(labels), epsg=32634)  # UTM zone 34, not 33
    error = refused(COMMANDS[command](tmp_path, image, moved), tmp_path, capsys)
    assert f"No pixel of {image} is labelled by the label raster {moved}" in error
    assert "WGS 84 / UTM zone 34N" in error and "WGS 84 / UTM zone 33N" in error and "CRS" in error


def test_bad_labels_a_reference_raster_in_another_crs_is_refused_by_assess(scene, tmp_path, capsys):
    _, labels = scene
    moved = write_raster(tmp_path / "moved.tif", labels_of(labels), epsg=32634)
    error = refused(["assess", labels, "--reference-raster", moved, "--output-csv", tmp_path / "acc.csv"],
                    tmp_path, capsys)
    assert f"No pixel of {labels} is labelled by the reference raster {moved}" in error
    assert "WGS 84 / UTM zone 34N" in error


def test_bad_labels_a_label_raster_without_a_crs_on_the_image_grid_is_taken_as_in_its_crs(scene, tmp_path):
    image, labels = scene
    bare = write_raster(tmp_path / "bare.tif", labels_of(labels))
    gdal.Open(str(bare), gdal.GA_Update).SetProjection("")  # the same grid, no CRS
    assert not gdal.Open(str(bare)).GetProjection()
    assert run(chips_args(tmp_path, image, bare)) == 0
    chip = labels_of(tmp_path / "chips" / "labels" / "chip_000032_000032.tif")
    assert (chip == labels_of(labels)[32:64, 32:64]).all()


def test_bad_labels_a_label_raster_without_a_crs_on_another_grid_is_refused(scene, tmp_path, capsys):
    image, labels = scene
    bare = tmp_path / "bare.tif"
    gdal.Translate(str(bare), str(labels), srcWin=[8, 8, 48, 48])  # another grid
    gdal.Open(str(bare), gdal.GA_Update).SetProjection("")
    assert not gdal.Open(str(bare)).GetProjection()
    error = refused(chips_args(tmp_path, image, bare), tmp_path, capsys)
    assert f"The label raster {bare} has no CRS, but {image} has CRS WGS 84 / UTM zone 33N" in error
    assert "Assign projection" in error


def test_bad_labels_a_label_raster_in_another_crs_that_covers_the_image_is_reprojected(scene, tmp_path, capsys):
    image, labels = scene
    mercator = tmp_path / "mercator.tif"
    gdal.Warp(str(mercator), str(labels), dstSRS="EPSG:3857", resampleAlg="near")
    assert run(chips_args(tmp_path, image, mercator)) == 0
    chip = labels_of(tmp_path / "chips" / "labels" / "chip_000032_000032.tif")
    assert (chip == labels_of(labels)[32:64, 32:64]).mean() > 0.9


VALUES = {  # label raster values that are no class, and how the message shows them
    "fractions": (np.array([0.5, 1.5, 2.5], np.float32), "0.5, 1.5, 2.5"),
    "negatives": (np.array([-1, 0, 1], np.int16), "-1"),
    "above_255": (np.array([300, 1, 2], np.int16), "300"),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", VALUES)
def test_bad_labels_values_that_are_no_class_are_refused_and_named(case, command, scene, tmp_path, capsys):
    image, labels = scene
    lookup, shown = VALUES[case]
    bad = write_raster(tmp_path / "bad.tif", lookup[labels_of(labels)])
    error = refused(COMMANDS[command](tmp_path, image, bad), tmp_path, capsys)
    assert f"The label raster {bad} holds values that are no class: {shown}." in error
    assert "whole numbers 0 to 254" in error


def test_bad_labels_reference_values_that_are_no_class_are_refused_by_assess(scene, tmp_path, capsys):
    _, labels = scene
    bad = write_raster(tmp_path / "bad.tif", labels_of(labels).astype(np.int16) * 150)  # 0, 150, 300
    error = refused(["assess", labels, "--reference-raster", bad], tmp_path, capsys)
    assert f"The reference raster {bad} holds values that are no class: 300." in error


CHIP_LABELS = {  # a label chip spoilt, as write_raster's arguments for chip_1.tif, and the message
    "in_another_crs": (lambda labels: {"data": labels, "epsg": 32634},
                       "1 label chips in {chips}/labels differ in size or pixel grid from their image chips: "
                       "chip_1.tif. Each label must cover its image pixel for pixel, in its CRS."),
    "holding_300": (lambda labels: {"data": labels.astype(np.int16) * 150},
                    "The label chip {chips}/labels/chip_1.tif holds values that are no class: 300."),
}


@pytest.mark.parametrize("case", CHIP_LABELS)
def test_bad_labels_a_label_chip_that_is_no_label_is_refused_by_train(case, tmp_path, capsys):
    chips = write_chips(tmp_path / "chips")
    spoil, message = CHIP_LABELS[case]
    write_raster(chips / "labels" / "chip_1.tif", **spoil(labels_of(chips / "labels" / "chip_1.tif")))
    error = refused(["train", tmp_path / "model.keras", "--chips-dir", chips], tmp_path, capsys)
    assert message.format(chips=chips) in error


def test_bad_labels_255_nodata_and_nan_stay_unlabelled_in_a_float_label_raster(scene, tmp_path, capsys):
    image, labels = scene
    values = labels_of(labels).astype(np.float32)
    values[:8] = 255
    values[8:16] = -9999
    values[16:24] = np.nan
    floats = write_raster(tmp_path / "floats.tif", values, nodata=-9999)
    assert run(chips_args(tmp_path, image, floats)) == 0
    chip = labels_of(tmp_path / "chips" / "labels" / "chip_000000_000000.tif")
    assert (chip[:24] == 255).all()
    np.testing.assert_array_equal(chip[24:], labels_of(labels)[24:32, :32])


@pytest.mark.parametrize("values, shown", [([0.5, 1.5, 2.5], "0.5, 1.5, 2.5"), ([-1, 1, 300], "-1, 300")])
def test_bad_labels_polygons_whose_class_field_holds_no_class_are_refused(values, shown, scene, tmp_path, capsys):
    image, _ = scene
    gpkg = polygons(tmp_path / "labels.gpkg", values)
    error = refused(["chips", image, tmp_path / "chips", "--label-polygons", gpkg, "--class-field", "class"],
                    tmp_path, capsys)
    assert f"The class field 'class' of {gpkg} holds values that are no class: {shown}." in error


def test_bad_labels_polygons_without_a_class_value_are_refused(scene, tmp_path, capsys):
    image, _ = scene
    gpkg = polygons(tmp_path / "labels.gpkg", [0, None, 1], kind=ogr.OFTInteger)
    error = refused(["chips", image, tmp_path / "chips", "--label-polygons", gpkg, "--class-field", "class"],
                    tmp_path, capsys)
    assert f"The class field 'class' of {gpkg} is empty in 1 of its 3 features" in error


@pytest.mark.parametrize("command", ["chips", "assess"])
def test_bad_labels_polygons_that_miss_the_raster_name_the_users_file(command, scene, tmp_path, capsys):
    image, labels = scene
    gpkg = polygons(tmp_path / "labels.gpkg", [0, 1, 2], offset=(100_000.0, 0.0))
    args = (["chips", image, tmp_path / "chips", "--label-polygons", gpkg] if command == "chips"
            else ["assess", labels, "--reference-vector", gpkg])
    error = refused(args + ["--class-field", "class"], tmp_path, capsys)
    what = "label polygons" if command == "chips" else "reference polygons or points"
    assert f"is labelled by the {what} {gpkg}: check that both cover the same area" in error
    assert "geoseg-" not in error


def test_bad_labels_a_float_label_raster_of_whole_numbers_makes_the_same_chips(scene, tmp_path, capsys):
    image, labels = scene
    floats = write_raster(tmp_path / "floats.tif", labels_of(labels).astype(np.float32))
    assert run(chips_args(tmp_path / "from_bytes", image, labels)) == 0
    assert run(chips_args(tmp_path / "from_floats", image, floats)) == 0
    chips = sorted((tmp_path / "from_bytes" / "chips" / "labels").glob("*.tif"))
    assert len(chips) == (SIDE // 32) ** 2
    for chip in chips:
        np.testing.assert_array_equal(labels_of(chip), labels_of(tmp_path / "from_floats" / "chips" / "labels" /
                                                                 chip.name))


def test_bad_labels_polygons_of_whole_real_values_make_the_chips(scene, tmp_path, capsys):
    image, _ = scene
    gpkg = polygons(tmp_path / "labels.gpkg", [0.0, 1.0, 2.0, 255.0])
    assert run(["chips", image, tmp_path / "chips", "--label-polygons", gpkg, "--class-field", "class",
                "--chip-size", "32"]) == 0
    assert json.loads(capsys.readouterr().out)["chip_count"] == 12  # the last stripe is unlabelled
    assert (labels_of(tmp_path / "chips" / "labels" / "chip_000000_000032.tif") == 1).all()
