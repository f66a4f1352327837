"""What the Python running GeoSeg's jobs has: package versions, devices and the engine classify would pick.

Run as the ``check`` job in the worker's Python, so it reports that environment, not the caller's.
"""
from __future__ import annotations

import importlib
import platform
import sys
from importlib import metadata

from ..config import CheckConfig, CheckResult
from ..progress import Progress

# What the jobs import, by the name users know; the first three are needed, the rest are reported.
PACKAGES = {"TensorFlow": "tensorflow", "NumPy": "numpy", "GDAL": "osgeo.gdal", "Keras": "keras",
            "LiteRT": "ai_edge_litert", "scikit-learn": "sklearn", "ONNX Runtime": "onnxruntime"}
REQUIRED = ("TensorFlow", "NumPy", "GDAL")
REQUIRED_FOR_ONNX = ("ONNX Runtime", "NumPy", "GDAL")  # classifying ONNX models (the classification-only set-up)


def check_environment(config: CheckConfig, progress: Progress | None = None) -> CheckResult:
    progress = progress or Progress()
    versions, problems = {}, {}
    for step, (name, module) in enumerate(PACKAGES.items()):
        progress.update(step / (len(PACKAGES) + 1), f"Importing {name}…")
        try:
            versions[name] = _version(importlib.import_module(module), module)
        except Exception as err:  # noqa: BLE001 (any import failure is a finding to report)
            problems[name] = f"{type(err).__name__}: {err}"
    devices, engine, precision, bfloat16 = [], "", "", False
    if "TensorFlow" in versions:
        from .devices import choose_engine, native_bfloat16

        devices = _devices()
        bfloat16 = native_bfloat16()
        try:
            engine, precision = choose_engine("auto")
        except Exception as err:  # noqa: BLE001
            problems["Engine"] = f"{type(err).__name__}: {err}"
    progress.update(1.0, "")
    return CheckResult(
        python=sys.executable, python_version=platform.python_version(),
        platform=f"{platform.system()} {platform.machine()}", versions=versions, problems=problems,
        devices=devices, native_bfloat16=bfloat16, engine=engine, precision=precision,
        ready=all(name in versions for name in REQUIRED),
        onnx_ready=all(name in versions for name in REQUIRED_FOR_ONNX))


def _version(module, name: str) -> str:
    version = getattr(module, "__version__", None)
    if version is None:
        distribution = {"ai_edge_litert": "ai-edge-litert", "sklearn": "scikit-learn"}.get(name, name.split(".")[0])
        version = metadata.version(distribution)
    return str(version)


def _devices() -> list[str]:
    """TensorFlow's devices, GPUs by their model name."""
    import tensorflow as tf

    names = []
    for device in tf.config.list_physical_devices():
        details = tf.config.experimental.get_device_details(device) if device.device_type == "GPU" else {}
        names.append(f"{device.device_type}: {details.get('device_name', device.name)}")
    return names
