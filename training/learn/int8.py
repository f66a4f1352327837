"""Whether a trained model's int8 copy is good enough for classify, measured on its validation windows at the end
of training.

The rule: the network is exported to ONNX, quantized to int8 (training.models.int8.quantize) with its activation
ranges calibrated on :data:`CALIBRATION_WINDOWS` training windows drawn with the training's seed, and both are
scored on the validation windows; the copy is kept in the model file, for classify's ``int8`` and ``auto``
precisions, only where its mean IoU (over all windows' pixels) is at most
:data:`~training.config.INT8_MAX_LOSS` below float32's. Without tf2onnx or onnxruntime, without a labelled
validation pixel, or where the quantization fails, no copy is kept; the record says why.
"""
from __future__ import annotations

import importlib.util
import time

import numpy as np

from ..config import INT8_MAX_LOSS
from ..models.int8 import quantize
from .metrics import confusion_matrix, scores

CALIBRATION_WINDOWS = 8  # training windows (or chips) the int8 activation ranges are calibrated on
NEEDED = ("tf2onnx", "onnxruntime")  # the packages that export and quantize


def int8_decision(model, num_bands: int, calibration: np.ndarray, dataset, classes) -> tuple[dict, bytes | None]:
    """Quantize a Keras ``model`` reading ``num_bands`` bands, calibrated on ``calibration`` (normalised windows,
    N × H × W × bands), score it against float32 on ``dataset`` (batches of normalised image, label, mask) and
    decide by the rule above: (the record a bundle keeps, training.models.int8.RECORD; the int8 copy to keep,
    a serialised ONNX model, or None)."""
    started = time.monotonic()
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        return not_made(f"the {' and '.join(missing)} package{'s' if len(missing) > 1 else ''} "
                        f"{'are' if len(missing) > 1 else 'is'} not installed"), None
    from ..models.export import network_graph

    try:
        graph = network_graph(model, num_bands).SerializeToString()
        int8 = quantize(graph, np.ascontiguousarray(np.asarray(calibration, np.float32).transpose(0, 3, 1, 2)))
        session = _session(int8)
    except Exception as err:  # noqa: BLE001 (tf2onnx's and ONNX Runtime's own exception types: recorded, not fatal)
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        return not_made(f"the quantization failed: {reason}"), None
    names, totals, same, pixels, windows = [c.name for c in classes], {}, 0, 0, 0
    for images, labels, _ in dataset:
        images, labels = np.asarray(images, np.float32), np.asarray(labels)
        tiles = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
        found = {"float32": np.asarray(model.predict_on_batch(images)).argmax(-1),
                 "int8": session.run(None, {"input": tiles})[0].argmax(1)}
        for way, predicted in found.items():
            totals[way] = totals.get(way, 0) + confusion_matrix(labels, predicted, len(names))
        same += int((found["float32"] == found["int8"]).sum())
        pixels += labels.size
        windows += len(labels)
    if not windows or not np.asarray(totals["float32"]).sum():
        return not_made("no labelled validation pixel to check it on"), None
    float32, quantized = (scores(np.asarray(totals[way]), names)["mean_iou"] for way in ("float32", "int8"))
    loss = float32 - quantized
    used = bool(loss <= INT8_MAX_LOSS)
    record = {"used": used, "reason": None if used else f"it lost {loss:.4f} mean IoU, more than {INT8_MAX_LOSS:g}",
              "mean_iou_float32": float32, "mean_iou_int8": quantized, "loss": loss, "agreement": same / pixels,
              "windows": windows, "calibration_windows": len(calibration), "max_loss": INT8_MAX_LOSS,
              "seconds": time.monotonic() - started}
    return record, int8 if used else None


def not_made(reason: str) -> dict:
    """The record of a model without an int8 copy, and why."""
    return {"used": False, "reason": reason, "mean_iou_float32": None, "mean_iou_int8": None, "max_loss": INT8_MAX_LOSS}


def _session(model: bytes):
    import onnxruntime as ort

    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])
