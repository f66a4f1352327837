"""int8 copies of a network: its ONNX graph (training.models.export.network_graph) quantized after training by
ONNX Runtime, and what a bundle's training recorded about whether classify uses it (training.learn.int8 measures
and decides; the bundle keeps the copy only where it is used, training.models.bundle.read_int8).

The quantization: ONNX Runtime's static quantization in the operator format (QLinearConv), activations unsigned
and weights signed 8-bit per output channel, activation ranges calibrated on a few training windows at the
:data:`PERCENTILE` percentile of their values (MinMax's extremes cost clearly more agreement with float32). About
twice ONNX Runtime's float32 speed on a CPU with VNNI; the QDQ format ran no faster than float32 there.

Classify's ``int8`` precision (training.config.CLASSIFY_PRECISIONS) runs the copy on ONNX Runtime; ``auto``
picks it where the model carries one and the CPU computes no bfloat16 natively (training.host.devices).
"""
from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from pathlib import Path

import numpy as np

RECORD = "int8"  # the key of the decision in a bundle's ModelInfo.metrics
PERCENTILE = 99.99  # activation ranges: this percentile of the calibration values (and 100 minus it below)


def quantize(graph: bytes, tiles: np.ndarray) -> bytes:
    """The int8 copy of the ONNX model ``graph`` (serialised; GeoSeg's export: scaled NCHW tiles in, NCHW class
    probabilities out), its activations calibrated on ``tiles`` (N, bands, H, W), float32, normalised."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Tiles(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter([{"input": tiles[i:i + 1].astype(np.float32)} for i in range(len(tiles))])

        def get_next(self):
            return next(self.feeds, None)

    with tempfile.TemporaryDirectory(prefix="geoseg-int8-") as folder, _quiet():
        source, prepared, quantized = (Path(folder) / name for name in ("float32.onnx", "pre.onnx", "int8.onnx"))
        source.write_bytes(graph)
        # No symbolic shape inference: it fails on the free height and width.
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_static(str(prepared), str(quantized), Tiles(), quant_format=QuantFormat.QOperator, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.Percentile,
                        extra_options={"CalibPercentile": PERCENTILE})
        return quantized.read_bytes()


@contextlib.contextmanager
def _quiet():
    """ONNX Runtime's quantization prints its progress (stdout: the worker's JSON lines) and logs a warning per
    integer tensor it leaves alone through the root logger: neither is the user's business."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logging.disable(previous)


def int8_carried(metrics: dict) -> bool:
    """Whether a bundle whose ``ModelInfo.metrics`` are ``metrics`` carries an int8 copy its training checked."""
    return bool((metrics.get(RECORD) or {}).get("used"))


def missing_copy(path: str, metrics: dict) -> str:
    """Why the model file at ``path`` carries no int8 copy, and what to do: the error of asking for int8."""
    record = metrics.get(RECORD)
    why = (f"its training kept none: {record['reason']}" if record else
           "it was written before GeoSeg made them; training it again makes one")
    return f"The model file {path} carries no int8 copy ({why}): set the precision to auto or float32."


def summary(metrics: dict) -> str:
    """The recorded decision and its figures in a sentence (for reports and progress messages)."""
    record = metrics.get(RECORD)
    if not record:
        return ("int8: no int8 copy (a model file written before GeoSeg made one), so classify computes in float32 "
                "or bfloat16.")
    if record.get("mean_iou_int8") is None:
        return f"int8: no int8 copy ({record['reason']})."
    verdict = ("kept in the model file (the automatic precision of Classify raster uses it on CPUs without native "
               "bfloat16)" if record["used"] else f"not kept ({record['reason']})")
    return (f"int8: {verdict}; on {record['windows']} validation windows, mean IoU {record['mean_iou_float32']:.4f} "
            f"in float32, {record['mean_iou_int8']:.4f} in int8 (loss {record['loss']:+.4f}, at most "
            f"{record['max_loss']:.4f} allowed); the classes agree on {record['agreement']:.2%} of the pixels.")
