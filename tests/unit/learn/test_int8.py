"""The int8 decision at the end of training (training.learn.int8): kept where int8 scores as float32 does on the
validation windows, not kept (and why) where it loses more, or where the packages are missing."""
import importlib.util

import keras
import numpy as np
import onnx

from training.config import INT8_MAX_LOSS
from training.data.classes import class_scheme
from training.learn import int8 as int8_module
from training.learn.int8 import int8_decision

CLASSES = class_scheme(["a", "b"])


def leaning_to_a() -> keras.Model:
    """Class probabilities from one-hot class bands, class a's logit raised by 0.5: right wherever a band is 1, wrong
    where the bands are read as hardly above 0 (int8 calibrated on windows a hundred times dimmer saturates them)."""
    images = keras.Input((None, None, 2))
    convolution = keras.layers.Conv2D(2, 1, activation="softmax")
    model = keras.Model(images, convolution(images))
    convolution.set_weights([np.eye(2, dtype=np.float32)[np.newaxis, np.newaxis], np.array([0.5, 0.0], np.float32)])
    return model


def windows(count: int, seed: int = 0):
    """(one-hot images, batches of (image, label, mask)) of random 16×16 two-class windows."""
    labels = np.random.default_rng(seed).integers(0, 2, (count, 16, 16)).astype(np.uint8)
    images = np.eye(2, dtype=np.float32)[labels]
    return images, [(images[i:i + 2], labels[i:i + 2], np.ones_like(labels[i:i + 2])) for i in range(0, count, 2)]


def test_an_int8_copy_as_good_as_float32_is_kept_and_its_figures_recorded():
    images, batches = windows(6)
    record, copy = int8_decision(leaning_to_a(), 2, images[:4], batches, CLASSES)
    assert record["used"] and record["reason"] is None
    assert "QLinearConv" in {node.op_type for node in onnx.load_model_from_string(copy).graph.node}
    assert record["mean_iou_float32"] == record["mean_iou_int8"] == 1.0 and record["agreement"] == 1.0
    assert record["windows"] == 6 and record["calibration_windows"] == 4 and record["max_loss"] == INT8_MAX_LOSS


def test_an_int8_copy_losing_more_than_allowed_is_not_kept():
    images, batches = windows(6)
    record, copy = int8_decision(leaning_to_a(), 2, images[:4] / 100, batches, CLASSES)  # ranges too narrow
    assert copy is None and not record["used"]
    assert record["loss"] == record["mean_iou_float32"] - record["mean_iou_int8"] > INT8_MAX_LOSS
    assert record["reason"] == f"it lost {record['loss']:.4f} mean IoU, more than {INT8_MAX_LOSS:g}"
    assert record["agreement"] < 0.9


def test_without_the_packages_no_copy_is_made_and_the_record_says_why(monkeypatch):
    images, batches = windows(2)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "tf2onnx" else object())
    record, copy = int8_decision(leaning_to_a(), 2, images, batches, CLASSES)
    assert copy is None and record == {"used": False, "reason": "the tf2onnx package is not installed",
                                       "mean_iou_float32": None, "mean_iou_int8": None, "max_loss": INT8_MAX_LOSS}
    assert int8_module.NEEDED == ("tf2onnx", "onnxruntime")
