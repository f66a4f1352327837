"""A network blended with a per-pixel network, built into one Keras model that saves, folds, computes in bfloat16
and exports as the network alone does."""
from __future__ import annotations

import json

import keras
import numpy as np
import onnxruntime as ort
import pytest
from ai_edge_litert.interpreter import Interpreter

from training.data.classes import class_scheme
from training.data.normalization import normalize
from training.jobs import run_job
from training.models import build_model
from training.models.bundle import ModelInfo, load_bundle, save_bundle
from training.models.dtype import PROBABILITIES, with_policy
from training.models.folding import inference_copy
from training.models.pixel_blend import PREFIX, RECORD, blended, is_blend_layer, summary

BANDS = [2, 3, 4, 8, 11]
STATS = {"method": "standard", "offset": [900.0, 1000.0, 1100.0, 2000.0, 1500.0],
         "scale": [300.0, 350.0, 400.0, 800.0, 600.0]}
WEIGHT = 0.3


def pixel_network(bands: int, classes: int) -> keras.Model:
    """A per-pixel network as training.learn.pixel_blend builds it, with random weights."""
    return keras.Sequential([keras.Input((bands,)), keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(classes, activation="softmax")])


@pytest.fixture(scope="module")
def parts():
    """A tiny U-Net, a per-pixel network and their blend at :data:`WEIGHT`."""
    keras.utils.set_random_seed(0)
    network, pixels = build_model("unet", len(BANDS), 3, base_filters=4, depth=2), pixel_network(len(BANDS), 3)
    return network, pixels, blended(network, pixels, WEIGHT)


def images(count=2, side=64):
    return np.random.default_rng(1).normal(size=(count, side, side, len(BANDS))).astype(np.float32)


def expected(network, pixels, batch):
    per_pixel = pixels(batch.reshape(-1, batch.shape[-1])).numpy().reshape(*batch.shape[:-1], -1)
    return (1 - WEIGHT) * network(batch, training=False).numpy() + WEIGHT * per_pixel


def test_the_blend_is_the_weighted_sum_of_both_networks_probabilities(parts):
    network, pixels, blend = parts
    batch = images()
    got = blend(batch, training=False).numpy()
    np.testing.assert_allclose(got, expected(network, pixels, batch), atol=1e-6)
    np.testing.assert_allclose(got.sum(-1), 1, atol=1e-5)
    assert blend.layers[-1].name == PREFIX and blend.get_layer(PROBABILITIES) is network.get_layer(PROBABILITIES)
    assert [layer.name for layer in blend.layers if is_blend_layer(layer.name)] == [
        f"{PREFIX}_pixel_hidden_1", f"{PREFIX}_pixel_hidden_2", f"{PREFIX}_pixel_classes", f"{PREFIX}_network_share",
        f"{PREFIX}_pixel_share", PREFIX]


@pytest.mark.parametrize("weight", [0, 1, -0.1])
def test_a_weight_outside_zero_to_one_is_refused(parts, weight):
    network, pixels, _ = parts
    with pytest.raises(ValueError, match=f"strictly between 0 and 1, not {weight}"):
        blended(network, pixels, weight)


def test_under_bfloat16_the_probabilities_and_the_blend_stay_float32(parts):
    network, pixels, blend = parts
    copy = inference_copy(blend, bfloat16=True)
    float32 = {layer.name for layer in copy.layers if layer.compute_dtype == "float32"}
    assert float32 == {PROBABILITIES, *(layer.name for layer in blend.layers if is_blend_layer(layer.name))} | {
        layer.name for layer in copy.layers if isinstance(layer, keras.layers.InputLayer)}
    assert with_policy(network, "mixed_bfloat16").get_layer(PROBABILITIES).compute_dtype == "float32"
    batch = images()
    np.testing.assert_allclose(copy(batch, training=False).numpy(), expected(network, pixels, batch), atol=0.05)


def test_a_blended_model_file_loads_and_exports_as_it_predicts(parts, tmp_path):
    _, _, blend = parts
    path = str(tmp_path / "model.keras")
    save_bundle(blend, ModelInfo("unet", BANDS, class_scheme(["Water", "Forest", "Open land"]), STATS,
                                 metrics={RECORD: {"weight": WEIGHT}}), path)
    loaded, info = load_bundle(path)  # safe mode: built-in layers only
    raw = np.random.default_rng(2).uniform(0, 4000, (2, 64, 64, len(BANDS))).astype(np.float32)
    want = blend.predict(normalize(raw, STATS), verbose=0)
    np.testing.assert_allclose(loaded.predict(normalize(raw, STATS), verbose=0), want, atol=1e-6)
    assert info.metrics[RECORD] == {"weight": WEIGHT}
    run_job("export", {"model_path": path, "output_path": str(tmp_path / "model.onnx"), "tile_size": 64,
                       "overlap": 16})
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    mean, std = (np.asarray(json.loads(meta[f"standardization_{key}"]), np.float32) for key in ("mean", "std"))
    (got,) = session.run(None, {"input": ((raw / 255 - mean) / std).transpose(0, 3, 1, 2).astype(np.float32)})
    np.testing.assert_allclose(got.transpose(0, 2, 3, 1), want, atol=1e-4)
    run_job("export", {"model_path": path, "output_path": str(tmp_path / "model.tflite"), "format": "tflite",
                       "tile_size": 64, "overlap": 16})
    interpreter = Interpreter(model_path=str(tmp_path / "model.tflite"))
    (source,), (target,) = interpreter.get_input_details(), interpreter.get_output_details()
    interpreter.resize_tensor_input(source["index"], list(raw.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], raw)
    interpreter.invoke()
    np.testing.assert_allclose(interpreter.get_tensor(target["index"]), want, atol=1e-4)


def test_the_summary_says_what_was_decided_and_why():
    record = {"weight": 0.2, "mean_iou_by_weight": {"0.0": 0.61, "0.1": 0.615, "0.2": 0.6231, "0.3": 0.62},
              "gain": 0.0131, "min_gain": 0.005, "pixels": 50000}
    assert summary({RECORD: record}) == (
        "Per-pixel blend: the network's class probabilities blended with a per-pixel network's at weight 0.2; a "
        "per-pixel network fitted on 50,000 training pixels, validation mean IoU by its weight 0: 0.6100, "
        "0.1: 0.6150, 0.2: 0.6231, 0.3: 0.6200 (gain +0.0131, more than 0.0050 needed).")
    assert summary({RECORD: {**record, "weight": 0.0}}).startswith("Per-pixel blend: none; a per-pixel network")
    assert summary({RECORD: {"weight": 0.0, "reason": "training was cancelled"}}) == (
        "Per-pixel blend: none, not measured (training was cancelled).")
    assert summary({}).startswith("Per-pixel blend: none (a model file written before")
