"""ONNX models in QGIS Processing: geoseg:export writes one from a GeoSeg model (or a LiteRT one), geoseg:classify
runs a third-party segmentation model carrying Deepness' metadata, named classes and all, and geoseg:evaluate scores
an export as its GeoSeg model."""
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from osgeo import gdal
from qgis.core import QgsApplication, QgsRasterLayer

from onnx_models import expected_classes, write_segmentor
from synthetic import cut_chips, write_raster
from tiny_model import write_tiny_model
from training.config import EXPORT_FORMATS
from training.learn.baseline import ONNX_PIXELS


def test_export_writes_an_onnx_model_with_deepness_metadata_and_a_stac_item(geoseg, tmp_path):
    model = write_tiny_model(tmp_path / "tiny.keras")
    result = geoseg.run("geoseg:export", {"MODEL": str(model), "RESOLUTION": 50, "OUTPUT": str(tmp_path / "t.onnx")})
    assert result == {"OUTPUT": str(tmp_path / "t.onnx"), "STAC_ITEM": str(tmp_path / "t.json")}
    metadata = {prop.key: json.loads(prop.value) for prop in onnx.load(result["OUTPUT"]).metadata_props}
    assert metadata["model_type"] == "Segmentor" and metadata["class_names"] == {"0": "a", "1": "b", "2": "c"}
    assert (metadata["resolution"], metadata["tiles_size"]) == (50, 448)
    assert json.loads((tmp_path / "t.json").read_text())["properties"]["mlm:input"][0]["bands"] == [
        "band 4", "band 3", "band 2"]
    assert QgsApplication.processingRegistry().algorithmById("geoseg:export").shortHelpString()


def test_export_writes_a_litert_model_with_its_format(geoseg, tmp_path):
    model = write_tiny_model(tmp_path / "tiny.keras")
    tflite = list(EXPORT_FORMATS).index("tflite")
    result = geoseg.run("geoseg:export", {"MODEL": str(model), "FORMAT": tflite, "TILE_SIZE": 64, "OVERLAP": 16,
                                          "OUTPUT": str(tmp_path / "t.tflite")})
    assert result == {"OUTPUT": str(tmp_path / "t.tflite"), "STAC_ITEM": str(tmp_path / "t.json")}
    assert Path(result["OUTPUT"]).read_bytes()[4:8] == b"TFL3"  # a LiteRT flatbuffer's identifier
    item = json.loads((tmp_path / "t.json").read_text())
    assert item["properties"]["mlm:input"][0]["input"]["shape"] == [-1, 64, 64, 3]


def test_classify_runs_a_third_party_onnx_segmentor_with_its_class_names(geoseg, tmp_path):
    data = np.random.default_rng(0).integers(0, 256, (3, 50, 70)).astype(np.uint16)
    image = write_raster(tmp_path / "image.tif", data)
    model = write_segmentor(tmp_path / "third-party.onnx", 64)
    result = geoseg.run("geoseg:classify", {"INPUT": str(image), "MODEL": str(model), "FLIP_AVERAGE": 2,
                                            "TILE_SIZE": 64, "OUTPUT": str(tmp_path / "classes.tif")})
    raster = gdal.Open(result["OUTPUT"])
    band = raster.GetRasterBand(1)
    band.GetDescription()  # first: GDAL 3.6 reads the .aux.xml on it, not on GetCategoryNames
    assert list(band.GetCategoryNames()) == ["dark", "bright"]
    np.testing.assert_array_equal(band.ReadAsArray(), expected_classes(data))
    layer = QgsRasterLayer(result["OUTPUT"], "classes")
    assert layer.isValid() and layer.renderer().type() == "paletted"


def test_evaluate_scores_an_export_as_its_keras_model(geoseg, tmp_path):
    model = write_tiny_model(tmp_path / "tiny.keras")  # reads bands 4, 3, 2 of the 12-band chips
    exported = geoseg.run("geoseg:export", {"MODEL": str(model), "TILE_SIZE": 32, "OVERLAP": 8,
                                            "OUTPUT": str(tmp_path / "tiny.onnx")})["OUTPUT"]
    chips = cut_chips(tmp_path, 64)  # 32-px chips, the export's fixed tile
    keras_scores, onnx_scores = (geoseg.run("geoseg:evaluate", {
        "MODEL": str(path), "INPUT": str(chips), "PREVIEW_CHIPS": 1,
        "OUTPUT_HTML": str(tmp_path / f"{Path(path).suffix[1:]}.html")}) for path in (model, exported))
    for figure in ("PIXEL_ACCURACY", "MEAN_IOU", "MEAN_F1"):  # the untrained network's near ties may tip a pixel
        assert onnx_scores[figure] == pytest.approx(keras_scores[figure], abs=1e-3), figure
    assert 0 < onnx_scores["PIXEL_ACCURACY"] < 1 and onnx_scores["PIXEL_BASELINE_MEAN_IOU"] is None
    assert ONNX_PIXELS in (tmp_path / "onnx.html").read_text()  # and what to give for it


def test_the_algorithms_that_run_models_take_onnx_models(geoseg):
    registry = QgsApplication.processingRegistry()
    for algorithm in ("geoseg:classify", "geoseg:suggestsamples", "geoseg:evaluate"):
        model = registry.algorithmById(algorithm).parameterDefinition("MODEL")
        assert "*.onnx" in model.fileFilter() and "*.keras" in model.fileFilter(), algorithm
        assert model.checkValueIsAcceptable("m.onnx") and model.checkValueIsAcceptable("m.keras"), algorithm
    assert not registry.algorithmById("geoseg:export").parameterDefinition("MODEL").checkValueIsAcceptable("m.onnx")
