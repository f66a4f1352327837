"""Class raster → polygons on rasters the tests make."""
import json

import numpy as np
import pytest
from osgeo import ogr

from synthetic import write_raster
from training.cli import main


@pytest.fixture
def class_map(tmp_path):
    """Class 0 and 1 in blocks, a 2-pixel patch of class 2, a nodata corner; 10 m pixels."""
    values = np.zeros((30, 30), np.uint8)
    values[:, 15:] = 1
    values[5, 5:7] = 2
    values[25:, 25:] = 255
    return str(write_raster(tmp_path / "classes.tif", values, 255, category_names=["Water", "Forest", "Road"])), values


def polygons(path):
    source = ogr.Open(str(path))  # kept: OGR layers die with their source
    layer = source.GetLayer("classes")
    return [(f.GetField("value"), f.GetField("class"), f.GetField("color"), f.GetGeometryRef().GetArea())
            for f in layer]


def test_polygon_areas_per_class_equal_the_rasters(class_map, tmp_path, capsys):
    path, values = class_map
    assert main(["vectorize", path, str(tmp_path / "classes.gpkg")]) == 0
    result = json.loads(capsys.readouterr().out)
    found = polygons(tmp_path / "classes.gpkg")
    for value, name in enumerate(["Water", "Forest", "Road"]):
        area = sum(a for v, _, _, a in found if v == value)
        assert area == pytest.approx(100.0 * (values == value).sum()) == pytest.approx(result["class_areas"][name])
    assert {(v, n) for v, n, _, _ in found} == {(0, "Water"), (1, "Forest"), (2, "Road")}
    assert all(color.startswith("#") and len(color) == 7 for _, _, color, _ in found)


def test_minimum_area_and_dissolve(class_map, tmp_path, capsys):
    path, _ = class_map
    assert main(["vectorize", path, str(tmp_path / "classes.gpkg"), "--min-area", "300", "--dissolve"]) == 0
    found = polygons(tmp_path / "classes.gpkg")
    assert sorted(v for v, _, _, _ in found) == [0, 1]  # the 200 m² road patch is gone; one feature per class


def test_one_polygon_per_eight_connected_object_with_its_area_and_length(tmp_path, capsys):
    """Vessels on 10 m pixels: 5 px along a row, 4 px along a diagonal (touching by corners), one pixel."""
    values = np.zeros((12, 12), np.uint8)
    values[1, 1:6] = 1
    values[[5, 6, 7, 8], [5, 6, 7, 8]] = 1
    values[10, 1] = 1
    path = write_raster(tmp_path / "vessels.tif", values, 255, category_names=["Sea", "Vessel"])
    assert main(["vectorize", str(path), str(tmp_path / "vessels.gpkg")]) == 0
    assert json.loads(capsys.readouterr().out)["polygons"] == 4  # the sea and three vessels
    source = ogr.Open(str(tmp_path / "vessels.gpkg"))
    vessels = sorted((f.GetField("area"), f.GetField("length"), f.GetGeometryRef().IsValid())
                     for f in source.GetLayer("classes") if f.GetField("value") == 1)
    assert vessels == [(100.0, pytest.approx(10.0), True), (400.0, pytest.approx(40 * 2 ** 0.5), True),
                       (500.0, pytest.approx(50.0), True)]  # the diagonal's rectangle lies along it


def test_bad_input_vectorize_needs_a_geopackage(class_map, tmp_path, capsys):
    path, _ = class_map
    assert main(["vectorize", path, str(tmp_path / "classes.shp")]) == 1
    assert ".gpkg" in capsys.readouterr().err
