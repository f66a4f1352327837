"""Accuracy and area estimates: the published example of Olofsson et al. (2014), and the job on rasters."""
import csv
import json

import numpy as np
import pytest
from osgeo import ogr, osr

from browser import look_at
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
    proportions = np.array(report["area_proportions"])  # p_ij = W_i n_ij / n_i. (the paper's eq. 4)
    assert np.round(proportions.sum(axis=1), 3).tolist() == [0.020, 0.015, 0.320, 0.645]  # W_i, the mapped shares
    assert np.round(proportions[[0, 1, 2, 2, 3], [0, 1, 0, 2, 3]], 4).tolist() == [  # by hand: W_i n_ij / n_i.
        round(0.02 * 66 / 75, 4), round(0.015 * 55 / 75, 4), round(0.32 * 1 / 165, 4), round(0.32 * 153 / 165, 4),
        round(0.645 * 313 / 325, 4)]
    assert np.round(proportions.sum(axis=0) * 900_000).tolist() == [21158, 11686, 285770, 581386]  # 900,000 ha
    users, producers = np.array([66 / 75, 55 / 75, 153 / 165, 313 / 325]), np.array(report["producers_accuracy"])
    assert report["f1"] == pytest.approx(2 * users * producers / (users + producers))
    assert np.round(report["f1"], 2).tolist() == [0.81, 0.79, 0.93, 0.96]


def test_f1_interval_covers_the_spread_of_f1_over_repeated_stratified_samples():
    """The delta-method half-width of F1 against F1's spread over 20,000 stratified samples drawn (fixed seed) with
    the example's sample sizes from strata whose class shares are the example's."""
    counts, weights = np.array(COUNTS, float), np.array(MAPPED_PIXELS) / sum(MAPPED_PIXELS)
    sampled = counts.sum(axis=1).astype(int)
    rng = np.random.default_rng(0)
    shares = np.stack([rng.multinomial(n, row / n, size=20_000) / n for n, row in zip(sampled, counts)], axis=1)
    cells = weights[:, None] * shares  # (sample, map class, reference class)
    f1 = 2 * np.diagonal(cells, axis1=1, axis2=2) / (weights + cells.sum(axis=1))
    report = area_adjusted(counts, np.array(MAPPED_PIXELS))
    assert np.array(report["f1_ci"]) == pytest.approx(1.96 * f1.std(axis=0), rel=0.1)
    assert np.round(report["f1_ci"], 2).tolist() == [0.13, 0.13, 0.03, 0.01]


def test_f1_of_a_mapped_class_without_reference_pixels_is_unknown_and_of_an_unmapped_class_zero():
    report = area_adjusted(np.array([[3, 1, 0], [1, 2, 1], [0, 0, 0]]), np.array([10, 10, 5]))  # class 2: no sample
    assert report["f1"][2] is None and report["f1_ci"][2] is None and report["users_accuracy"][2] is None
    report = area_adjusted(np.array([[3, 1, 1], [1, 2, 1], [0, 0, 0]]), np.array([10, 10, 0]))  # class 2: not mapped
    assert report["f1"][2] == 0 and report["producers_accuracy"][2] == 0

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
    # By hand: W = (200, 180) / 380; p_00 = W_0 40/60, p_01 = W_0 20/60, p_11 = W_1; F1_0 = 2 p_00 / (W_0 + p_00)
    # = 0.8, and its delta-method variance (only stratum 0 varies) (W_0 (2 - F1_0) / (W_0 + p_00))^2 (2/3)(1/3) / 59
    w0 = 200 / 380
    assert np.array(report["area_proportions"]) == pytest.approx(np.array([[w0 * 2 / 3, w0 / 3], [0, 1 - w0]]))
    assert report["f1"][0] == pytest.approx(0.8)
    assert report["f1_ci"][0] == pytest.approx(1.96 * np.sqrt((w0 * 1.2 / (w0 * 5 / 3)) ** 2 * 2 / 9 / 59))
    with open(tmp_path / "acc.csv") as table:
        rows = list(csv.DictReader(table))
    assert [r["class"] for r in rows] == ["Water", "Land"] and float(rows[1]["producers_accuracy"]) < 1
    assert [(r["reference_0_pixels"], r["reference_1_pixels"]) for r in rows] == [("40", "20"), ("0", "54")]
    assert [float(r["reference_1_proportion"]) for r in rows] == pytest.approx([w0 / 3, 1 - w0])
    assert [float(r["f1_ci"]) for r in rows] == pytest.approx(report["f1_ci"])
    seen = look_at(tmp_path / "acc.html", tmp_path / "acc.png")  # as a browser shows it
    assert seen["tables"] == 3  # per class, the matrix in pixels, the matrix in area proportions
    assert "Error matrix in reference pixels" in seen["text"] and "Error matrix in area proportions" in seen["text"]
    assert "Water\t2.0\t1.3 ± " in seen["text"] and f"0.800 ± {report['f1_ci'][0]:.3f}" in seen["text"]
    assert f"Water\t{w0 * 2 / 3:.4f}\t{w0 / 3:.4f}\t{w0:.4f}" in seen["text"]  # a row and its total, W_0
    assert "delta method" in seen["text"]


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
