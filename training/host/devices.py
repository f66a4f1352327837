"""What this machine offers GeoSeg's jobs: a GPU TensorFlow sees, native bfloat16 on the CPU, and so the
engine and precision *Classify raster* picks (``auto``); training's precision (training.learn.precision) asks
the same questions.

``auto`` precision computes in bfloat16 where the CPU does so natively (AVX512-BF16 or AMX-BF16 among
``/proc/cpuinfo``'s flags), as OpenVINO does by default; else, with the ``auto`` engine and no GPU, in int8 on ONNX
Runtime where the model file carries an int8 copy its training checked (training.models.int8) and ``onnxruntime``
is installed; else in float32. bfloat16 runs on TensorFlow only, int8 on ONNX Runtime only.
``auto`` engine picks LiteRT for float32 unless TensorFlow sees a GPU or ``ai-edge-litert`` is missing, and ONNX
Runtime for ONNX models and int8.
Standard library only: TensorFlow is imported only where an NVIDIA device exists.
"""
from __future__ import annotations

import contextlib
import importlib.util
from glob import glob

from ..config import CLASSIFY_PRECISIONS, ENGINES
from ..errors import GeoSegError

NATIVE_BFLOAT16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def choose_engine(engine: str, precision: str = "auto", onnx: bool = False, int8: bool = False) -> tuple[str, str]:
    """Resolve ``engine`` (one of :data:`ENGINES`) and ``precision`` (one of :data:`CLASSIFY_PRECISIONS`) on this
    machine to (``litert`` or ``tensorflow``, ``float32`` or ``bfloat16``), or (``onnxruntime``, ``int8``) for a
    model file with an ``int8`` copy; for an ``onnx`` model to (``onnxruntime``, ``float32``), without asking
    TensorFlow anything."""
    if engine not in ENGINES:
        raise GeoSegError(f"Unknown engine {engine!r}: choose one of {', '.join(ENGINES)}.")
    if precision not in CLASSIFY_PRECISIONS:
        raise GeoSegError(f"Unknown precision {precision!r}: choose one of {', '.join(CLASSIFY_PRECISIONS)}.")
    if onnx and engine != "auto":
        raise GeoSegError(f"An ONNX model runs on ONNX Runtime: set the engine to auto, not {engine}.")
    if onnx and precision in ("bfloat16", "int8"):
        raise GeoSegError("An ONNX model runs on ONNX Runtime in float32 (int8 is the copy a GeoSeg model file "
                          "carries): set the precision to auto or float32.")
    if onnx:
        return "onnxruntime", "float32"
    onnxruntime_installed = importlib.util.find_spec("onnxruntime") is not None
    if precision == "int8":
        if not int8:
            raise GeoSegError("This model file carries no int8 copy: set the precision to auto or float32.")
        if engine != "auto":
            raise GeoSegError(f"int8 runs on ONNX Runtime: set the engine to auto, not {engine}.")
        if not onnxruntime_installed:
            raise GeoSegError("int8 runs on ONNX Runtime: install the onnxruntime package (pip install onnxruntime) "
                              "or set the precision to auto or float32.")
        return "onnxruntime", "int8"
    litert_installed = importlib.util.find_spec("ai_edge_litert") is not None
    if engine == "litert" and precision == "bfloat16":
        raise GeoSegError("bfloat16 runs on the TensorFlow engine only: set the engine to tensorflow or auto.")
    if engine == "litert" and not litert_installed:
        raise GeoSegError("The LiteRT engine needs the ai-edge-litert package: install it "
                          "(pip install ai-edge-litert) or set the engine to tensorflow.")
    gpu = engine != "litert" and gpu_visible()
    if precision == "auto":
        precision = "bfloat16" if engine != "litert" and not gpu and native_bfloat16() else "float32"
        if precision == "float32" and engine == "auto" and not gpu and int8 and onnxruntime_installed:
            return "onnxruntime", "int8"
    if engine == "auto":
        engine = "tensorflow" if precision == "bfloat16" or not litert_installed or gpu else "litert"
    return engine, precision


def native_bfloat16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU computes bfloat16 natively, by the flags in ``cpuinfo`` (False where it is missing)."""
    with contextlib.suppress(OSError), open(cpuinfo) as file:
        for line in file:
            if line.startswith("flags"):
                return not NATIVE_BFLOAT16_FLAGS.isdisjoint(line.partition(":")[2].split())
    return False


def gpu_visible() -> bool:
    """Whether TensorFlow sees a GPU; TensorFlow is imported to ask only where an NVIDIA device exists."""
    if not glob("/dev/nvidia[0-9]*"):
        return False
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))
