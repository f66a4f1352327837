"""Data inspection: figures and warnings on data the tests make, and the report as a browser shows it."""
import json

import numpy as np
import pytest

from browser import look_at
from synthetic import SIGNATURES, write_raster, write_scene
from training.cli import main


def test_inspects_a_raster_with_labels_and_warns_of_a_constant_band_and_a_rare_class(tmp_path, capsys):
    image, labels = write_scene(tmp_path, 96, 96)
    from osgeo import gdal

    data = gdal.Open(str(image)).ReadAsArray()
    data[5] = 1234  # band 6 constant
    write_raster(tmp_path / "constant.tif", data)
    values = gdal.Open(str(labels)).ReadAsArray()
    values[values == 0] = 1
    values[0, 0] = 0  # class Water: one pixel
    write_raster(tmp_path / "rare.tif", values, 255, category_names=["Water", "Forest", "Open land"])
    assert main(["inspect", str(tmp_path / "report.html"), "--image-raster", str(tmp_path / "constant.tif"),
                 "--label-raster", str(tmp_path / "rare.tif")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["labelled_share"] == 1.0 and len(result["bands"]) == 12
    assert any("Band 6 is constant" in w for w in result["warnings"])
    assert any("Class Water has only" in w for w in result["warnings"])
    open_land = result["bands"][7]["class_means"]["Open land"]
    assert open_land == pytest.approx(SIGNATURES[2][7], rel=0.05)  # band 8 of the open land signature


def test_inspects_a_chips_folder_and_counts_overlapping_chips(tmp_path, capsys):
    image, labels = write_scene(tmp_path, 128, 128)
    assert main(["chips", str(image), str(tmp_path / "chips"), "--label-raster", str(labels),
                 "--chip-size", "32"]) == 0
    capsys.readouterr()
    assert main(["inspect", str(tmp_path / "report.html"), "--chips-dir", str(tmp_path / "chips")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["class_shares"]) == {"Water", "Forest", "Open land"}
    assert not any("overlap" in w for w in result["warnings"])  # chips side by side touch, never overlap


def test_the_report_shows_every_image_and_its_tables_in_a_browser(tmp_path, capsys):
    image, labels = write_scene(tmp_path, 96, 96)
    assert main(["inspect", str(tmp_path / "report.html"), "--image-raster", str(image),
                 "--label-raster", str(labels)]) == 0
    seen = look_at(tmp_path / "report.html", tmp_path / "report.png")
    assert len(seen["images"]) == 2 and all(width > 0 for width in seen["images"])  # histograms, examples
    assert seen["tables"] == 2 and (tmp_path / "report.png").stat().st_size > 10_000


def test_bad_input_inspect_needs_a_raster_or_a_chips_folder(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "report.html")]) == 1
    assert "either an image raster" in capsys.readouterr().err and not (tmp_path / "report.html").exists()
    np.testing.assert_equal(sorted(tmp_path.iterdir()), [])
