"""Majority filter and minimum mapping unit on class rasters the tests make."""
import json

import numpy as np
import pytest
from osgeo import gdal

from synthetic import write_raster
from training.cli import main
from training.products.postprocess import majority
from training.data.raster import category_names


@pytest.fixture
def patches(tmp_path):
    """Class 0 everywhere, patches of class 1 of 3, 5 and 9 pixels, and a nodata block."""
    values = np.zeros((40, 40), np.uint8)
    values[2, 2:5] = 1  # 3 px
    values[10, 10:15] = 1  # 5 px
    values[20:23, 20:23] = 1  # 9 px
    values[30:40, 30:40] = 255
    return str(write_raster(tmp_path / "classes.tif", values, 255, category_names=["Forest", "Water"])), values


def test_sieve_removes_patches_below_the_unit_and_nothing_larger(patches, tmp_path, capsys):
    path, values = patches
    assert main(["postprocess", path, str(tmp_path / "clean.tif"), "--min-pixels", "5"]) == 0
    assert json.loads(capsys.readouterr().out)["min_pixels"] == 5
    clean = gdal.Open(str(tmp_path / "clean.tif"))
    result = clean.GetRasterBand(1).ReadAsArray()
    assert (result[2, 2:5] == 0).all()  # 3 px merged
    expected = values.copy()
    expected[2, 2:5] = 0
    np.testing.assert_array_equal(result, expected)  # 5 and 9 px kept, nodata kept
    assert clean.GetGeoTransform() == gdal.Open(path).GetGeoTransform()
    assert category_names(clean.GetRasterBand(1)) == ["Forest", "Water"]
    assert "Water" in (tmp_path / "clean.qml").read_text()


def test_minimum_area_in_map_units_becomes_pixels(patches, tmp_path, capsys):
    path, _ = patches
    assert main(["postprocess", path, str(tmp_path / "clean.tif"), "--min-area", "501"]) == 0  # 10 m pixels
    assert json.loads(capsys.readouterr().out)["min_pixels"] == 6
    result = gdal.Open(str(tmp_path / "clean.tif")).ReadAsArray()
    assert (result[10, 10:15] == 0).all() and (result[20:23, 20:23] == 1).all()


def test_majority_flips_lone_pixels_keeps_ties_and_nodata():
    values = np.zeros((7, 7), np.uint8)
    values[3, 3] = 1  # alone: becomes 0
    values[0:7, 5:7] = 1  # a 2-column band: its edge pixels tie or win, they stay 1
    values[0, 0] = 255
    result = majority(values, 3, 2)
    assert result[3, 3] == 0 and (result[:, 5:7] == 1).all() and result[0, 0] == 255


def test_bad_input_an_even_majority_window_is_refused(patches, tmp_path, capsys):
    path, _ = patches
    assert main(["postprocess", path, str(tmp_path / "clean.tif"), "--majority-window", "4"]) == 1
    assert "odd number" in capsys.readouterr().err and not (tmp_path / "clean.tif").exists()
