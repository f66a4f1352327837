"""ONNX models' metadata (training.models.onnx_metadata): a third-party segmentation model's Deepness metadata read
as GeoSeg's model information, and what GeoSeg cannot use refused with the fix."""
import dataclasses
import json

import numpy as np
import pytest

from onnx_models import MEAN, STD, write_segmentor
from training.data.classes import PALETTE, class_scheme
from training.errors import GeoSegError
from training.models.bundle import ModelInfo
from training.models.onnx_metadata import GEOSEG_KEY, deepness_metadata, is_onnx, read_onnx_info


def test_a_third_party_model_reads_as_bands_classes_and_scaling(tmp_path):
    info = read_onnx_info(str(write_segmentor(tmp_path / "model.onnx")))
    assert info.bands == [1, 2, 3]
    assert [(c.value, c.name, c.color) for c in info.classes] == [(0, "dark", PALETTE[0]), (1, "bright", PALETTE[1])]
    raw = np.array([0.0, 127.5, 255.0], np.float32)  # Deepness: (raw / 255 - mean) / std
    scaled = (raw - np.asarray(info.normalization["offset"])) / np.asarray(info.normalization["scale"])
    np.testing.assert_allclose(scaled, (raw / 255 - np.asarray(MEAN)) / np.asarray(STD))


def test_without_standardisation_values_are_only_divided_by_255(tmp_path):
    path = write_segmentor(tmp_path / "model.onnx", standardization_mean=None, standardization_std=None)
    assert read_onnx_info(str(path)).normalization["scale"] == [255.0] * 3
    assert read_onnx_info(str(path)).normalization["offset"] == [0.0] * 3


def test_class_names_as_a_python_literal_are_read_as_deepness_reads_them(tmp_path):
    path = write_segmentor(tmp_path / "model.onnx", texts={"class_names": "{1: 'bright', 0: 'dark'}"})
    assert [c.name for c in read_onnx_info(str(path)).classes] == ["dark", "bright"]


def test_geoseg_metadata_round_trips_exactly_but_the_training_record_with_the_trainers_paths():
    info = ModelInfo("unet", [4, 3, 2], class_scheme(["a", "b"], [(1, 2, 3), (4, 5, 6)]),
                     {"method": "standard", "offset": [1000.0, 900.0, 800.0], "scale": [300.0, 200.0, 100.0]},
                     metrics={"held_out": {"mean_iou": 0.5}},
                     training={"image_raster": "/home/alice/secret/scene.tif"})
    metadata = deepness_metadata(info, 448, 32, 1000.0)
    assert all(isinstance(json.loads(text), object) for text in metadata.values())  # every value is JSON
    assert ModelInfo.from_dict(json.loads(metadata[GEOSEG_KEY])) == dataclasses.replace(info, training={})
    assert "alice" not in json.dumps(metadata)


@pytest.mark.parametrize("changes, message", [
    ({"class_names": None}, r"names 0 \(class_names\)"),
    ({"class_names": {"0": "only one"}}, r"answers 2 classes but its metadata names 1"),
    ({"model_type": "Detector"}, "is a Detector, not a Segmentor"),
    ({"texts": {"standardization_mean": "[0.5, 0.5"}}, "metadata GeoSeg cannot use"),
    ({"standardization_std": [1, 2]}, "metadata GeoSeg cannot use"),
])
def test_metadata_geoseg_cannot_use_is_refused_with_the_fix(tmp_path, changes, message):
    path = write_segmentor(tmp_path / "model.onnx", **changes)
    with pytest.raises(GeoSegError, match=message) as caught:
        read_onnx_info(str(path))
    assert str(path) in str(caught.value) and "as Deepness documents it" in str(caught.value)


def test_a_file_onnx_runtime_cannot_load_is_named(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(GeoSegError, match="is not an ONNX model ONNX Runtime can load"):
        read_onnx_info(str(tmp_path / "model.onnx"))
    with pytest.raises(GeoSegError, match="does not exist"):
        read_onnx_info(str(tmp_path / "missing.onnx"))


def test_onnx_files_are_known_by_their_suffix():
    assert is_onnx("a/model.ONNX") and not is_onnx("model.keras") and not is_onnx("onnx.keras")
