"""Accuracy and area estimates: the published example of Olofsson et al. (2014), and the job on rasters."""
import csv
import json

import numpy as np
import pytest
from osgeo import ogr, osr

from synthetic import EPSG, GEOTRANSFORM, write_raster
from training.products.assess import area_adjusted
from training.cli import main

# Olofsson et al. (2014), section 5: deforestation, forest gain, stable forest, stable non-forest; sample
# counts (rows map, columns reference) and mapped areas in 30 m pixels.
COUNTS = [[66, 0, 5, 4], [0, 55, 8, 12], [1, 0, 153, 11], [2, 1, 9, 313]]
MAPPED_PIXELS = [200_000, 150_000, 3_200_000, 6_450_000]


def test_reproduces_the_published_example_of_olofsson_et_al_2014():
    report = area_adjusted(np.array(COUNTS), np.array(MAPPED_PIXELS), pixel_area=0.09)  # hectares
    assert np.round(report["estimated_area"]).tolist() == [21158, 11686, 285770, 581386]
    assert np.round(report["estimated_area_ci"]).tolist() == [6158, 3756, 15510, 16282]
    assert np.round(report["users_accuracy"], 2).tolist() == [0.88, 0.73, 0.93, 0.96]
    assert np.round(report["users_accuracy_ci"], 2).tolist() == [0.07, 0.10, 0.04, 0.02]
    assert np.round(report["producers_accuracy"], 2).tolist() == [0.75, 0.85, 0.93, 0.96]
    assert np.round(report["producers_accuracy_ci"], 2).tolist() == [0.21, 0.25, 0.03, 0.02]
    assert round(report["overall_accuracy"], 2) == 0.95 and round(report["overall_accuracy_ci"], 2) == 0.02
    assert report["mapped_area"] == [18000.0, 13500.0, 288000.0, 580500.0]
    assert np.isclose(sum(report["estimated_area"]), sum(report["mapped_area"]))


@pytest.fixture
def class_map(tmp_path):
    """20×20 px of 10 m: the left half mapped 0, the right half 1, one nodata column."""
    mapped = np.zeros((20, 20), np.uint8)
    mapped[:, 10:] = 1
    mapped[:, 19] = 255
    return str(write_raster(tmp_path / "map.tif", mapped, 255, category_names=["Water", "Land"])), mapped


def test_assess_counts_reference_pixels_on_mapped_pixels_and_writes_csv_and_html(class_map, tmp_path, capsys):
    path, mapped = class_map
    reference = np.full((20, 20), 255, np.uint8)
    reference[0:4, 0:10] = 0  # 40 correct water pixels
    reference[4:6, 0:10] = 1  # 20 water pixels that are land
    reference[0:6, 10:19] = 1  # 54 correct land pixels
    reference[0:6, 19] = 0  # on the unmapped column: not counted
    assert main(["assess", path, "--reference-raster", str(write_raster(tmp_path / "ref.tif", reference, 255)),
                 "--output-csv", str(tmp_path / "acc.csv"), "--output-html", str(tmp_path / "acc.html")]) == 0
    report = json.loads(capsys.readouterr().out)["report"]
    assert report["classes"] == ["Water", "Land"] and report["area_unit"] == "ha"
    assert report["error_matrix"] == [[40, 20], [0, 54]] and report["sample_pixels"] == 114
    assert report["mapped_area"] == [2.0, 1.8]  # 200 and 180 pixels of 0.01 ha
    assert report["users_accuracy"][0] == pytest.approx(40 / 60)
    assert report["estimated_area"][0] == pytest.approx(2.0 * 40 / 60)
    with open(tmp_path / "acc.csv") as table:
        rows = list(csv.DictReader(table))
    assert [r["class"] for r in rows] == ["Water", "Land"] and float(rows[1]["producers_accuracy"]) < 1
    assert "Error matrix" in (tmp_path / "acc.html").read_text()


def test_assess_burns_reference_points_with_their_class_field(class_map, tmp_path, capsys):
    path, _ = class_map
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp_path / "points.gpkg"))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    layer = source.CreateLayer("points", srs, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("truth", ogr.OFTInteger))
    for column, value in ((2, 0), (5, 0), (12, 1), (14, 0)):  # the last is water mapped as land
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("truth", value)
        x, y = GEOTRANSFORM[0] + 10 * column + 5, GEOTRANSFORM[3] - 55
        feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({x} {y})"))
        layer.CreateFeature(feature)
    source = None
    assert main(["assess", path, "--reference-vector", str(tmp_path / "points.gpkg"), "--class-field", "truth"]) == 0
    assert json.loads(capsys.readouterr().out)["report"]["error_matrix"] == [[2, 0], [1, 1]]


def test_bad_input_assess_without_overlapping_reference_says_so(class_map, tmp_path, capsys):
    path, _ = class_map
    assert main(["assess", path, "--reference-raster",
                 str(write_raster(tmp_path / "ref.tif", np.full((20, 20), 255, np.uint8), 255))]) == 1
    assert f"No pixel of {path} is labelled by the reference raster {tmp_path / 'ref.tif'}" in capsys.readouterr().err
