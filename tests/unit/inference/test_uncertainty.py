"""The uncertainty raster: per pixel the normalised entropy of the class probabilities the map is made from."""
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from synthetic import scene, write_raster
from tiny_model import write_tiny_model
from training.cli import main
from training.data.classes import NODATA_CLASS
from training.inference.uncertainty import normalised_entropy


def test_entropy_is_0_where_one_class_has_probability_1():
    certain = np.eye(4, dtype=np.float32)[[0, 3, 1]]
    np.testing.assert_array_equal(normalised_entropy(certain), np.zeros(3))
    np.testing.assert_array_equal(normalised_entropy(np.ones((2, 1))), np.zeros(2))  # a one-class model


@pytest.mark.parametrize("classes", [2, 3, 7, 12])
def test_entropy_is_1_for_uniform_probabilities(classes):
    uniform = np.full((2, 5, classes), 1 / classes, np.float32)
    entropy = normalised_entropy(uniform)
    assert entropy.shape == (2, 5)
    np.testing.assert_allclose(entropy, 1.0, atol=1e-6)
    assert entropy.max() <= 1.0


def test_entropy_lies_between_and_grows_as_the_classes_draw_level():
    probabilities = np.array([[0.98, 0.01, 0.01], [0.8, 0.1, 0.1], [0.5, 0.4, 0.1], [0.4, 0.35, 0.25]], np.float32)
    entropy = normalised_entropy(probabilities)
    assert ((entropy > 0) & (entropy < 1)).all()
    assert (np.diff(entropy) > 0).all()
    # two classes at 0.5 and a third at 0: log 2 / log 3
    assert normalised_entropy(np.array([0.5, 0.5, 0.0])) == pytest.approx(np.log(2) / np.log(3), abs=1e-6)


@pytest.fixture(scope="module")
def classified(tmp_path_factory):
    """A 96×80 scene with a nodata border, classified by the tiny model with uncertainty and probabilities."""
    folder = tmp_path_factory.mktemp("uncertainty")
    image = scene(96, 80)[0]
    image[:, :, :6] = 65535
    source = write_raster(folder / "image.tif", image, nodata=65535)
    model = write_tiny_model(folder / "model.keras")
    paths = {name: folder / f"{name}.tif" for name in ("classes", "uncertainty", "probabilities")}
    code = main(["classify", str(source), str(model), str(paths["classes"]), "--tile-size", "64", "--overlap", "16",
                 "--precision", "float32", "--uncertainty-raster", str(paths["uncertainty"]),
                 "--probabilities-raster", str(paths["probabilities"])])
    return code, source, paths


def test_classify_writes_the_uncertainty_raster_on_the_outputs_grid(classified, capsys):
    code, source, paths = classified
    assert code == 0
    image, uncertainty = gdal.Open(str(source)), gdal.Open(str(paths["uncertainty"]))
    assert (uncertainty.RasterXSize, uncertainty.RasterYSize, uncertainty.RasterCount) == (96, 80, 1)
    assert uncertainty.GetGeoTransform() == image.GetGeoTransform()
    assert uncertainty.GetSpatialRef().IsSame(image.GetSpatialRef())
    band = uncertainty.GetRasterBand(1)
    assert band.DataType == gdal.GDT_Byte and band.GetNoDataValue() == NODATA_CLASS


def test_uncertainty_is_nodata_where_the_classes_are_and_else_the_entropy_in_percent(classified):
    _, _, paths = classified
    uncertainty = gdal.Open(str(paths["uncertainty"])).ReadAsArray()
    classes = gdal.Open(str(paths["classes"])).ReadAsArray()
    nodata = classes == NODATA_CLASS
    assert nodata[:, :6].all() and not nodata[:, 6:].any()
    np.testing.assert_array_equal(uncertainty == NODATA_CLASS, nodata)
    valid = uncertainty[~nodata]
    assert valid.max() <= 100 and valid.min() < valid.max()
    percent = gdal.Open(str(paths["probabilities"])).ReadAsArray()
    expected = normalised_entropy(np.moveaxis(percent, 0, -1)[~nodata] / 100.0) * 100
    assert np.abs(valid - expected).max() <= 3  # from the same probabilities (rounded to whole percent there)


def test_uncertainty_raster_carries_a_continuous_qgis_style(classified):
    _, _, paths = classified
    style = ET.parse(paths["uncertainty"].with_suffix(".qml")).getroot()
    renderer = style.find("pipe/rasterrenderer")
    assert renderer.get("type") == "singlebandpseudocolor" and renderer.get("band") == "1"
    shader = renderer.find("rastershader/colorrampshader")
    assert (shader.get("minimumValue"), shader.get("maximumValue")) == ("0", "100")
    values = [float(item.get("value")) for item in shader.findall("item")]
    assert values[0] == 0 and values[-1] == 100 and values == sorted(values)


def test_uncertainty_is_refused_for_several_rasters_at_once(classified, tmp_path, capsys):
    _, source, _ = classified
    model = source.with_name("model.keras")
    code = main(["classify", str(source), str(source), str(model), str(tmp_path / "out"),
                 "--uncertainty-raster", str(tmp_path / "u.tif")])
    assert code == 1
    assert "Uncertainty rasters are written for one raster at a time" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tmp_path / "u.tif").exists()


def test_the_result_names_the_uncertainty_raster(tmp_path, capsys):
    image = write_raster(tmp_path / "image.tif", scene(32, 32)[0])
    model = write_tiny_model(tmp_path / "model.keras")
    assert main(["classify", str(image), str(model), str(tmp_path / "c.tif"), "--flip-average", "off",
                 "--uncertainty-raster", str(tmp_path / "u.tif")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["uncertainty_raster"] == str(tmp_path / "u.tif") and Path(result["uncertainty_raster"]).exists()
