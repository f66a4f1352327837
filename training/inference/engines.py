"""Inference engines for the tile model: TensorFlow itself, or LiteRT running XNNPACK; float32 or bfloat16; and
ONNX Runtime for ONNX models (:mod:`training.models.onnx_metadata`) and for the int8 copy a model file may carry
(:mod:`training.models.int8`), which never imports TensorFlow.

The tile model is a bundle's network for raw tiles of one fixed shape: it normalises them, classifies
them and weights the class probabilities by the blend window; its batch normalisations are folded into
the convolutions (:func:`training.models.folding.inference_copy`). Which engine and precision ``auto``
picks on this machine is :func:`training.host.devices.choose_engine`'s to say.
How fast each is: docs/benchmarks.md (bench/classify.py); how closely they agree: docs/algorithms.md (Classify raster).

Converting needs TensorFlow and takes a few seconds, so each conversion is kept in a
cache folder (``GEOSEG_CACHE_DIR``, else ``~/.cache/geoseg``), keyed by the model file's contents, the tile
shape and the window. With a cached conversion the LiteRT engine never imports TensorFlow.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..data.normalization import normalize
from ..errors import GeoSegError
from ..models.bundle import read_info, read_int8
from ..models.litert import flatbuffer, raw_tile_model
from ..models.onnx_metadata import onnx_probabilities, onnx_session, read_onnx_info

LABELS = {"litert": "LiteRT (XNNPACK)", "tensorflow": "TensorFlow", "onnxruntime": "ONNX Runtime"}
CACHE_ENV = "GEOSEG_CACHE_DIR"
CACHED_CONVERSIONS = 8  # the most recently used are kept; a U-Net's takes ~30 MB


def compile_tiles(model_path: str, shape: tuple[int, int, int, int], window: np.ndarray, engine: str,
                  precision: str = "float32", on_convert: Callable[[], None] = lambda: None,
                  ) -> Callable[[np.ndarray], np.ndarray]:
    """The tile model of the bundle at ``model_path`` for batches of ``shape``, as a NumPy-in, NumPy-out
    function run by ``engine`` (``litert``, ``tensorflow``, or ``onnxruntime`` for an ONNX model) in
    ``precision`` (``float32`` or ``bfloat16``; ``int8`` on ``onnxruntime`` for the int8 copy a GeoSeg model file
    carries). ``on_convert`` is called before a LiteRT conversion that is not cached yet."""
    if engine == "onnxruntime" and precision == "int8":
        return _int8(model_path, shape, window)
    if engine == "onnxruntime":
        return _onnxruntime(model_path, shape, window)
    if engine == "litert":
        return _litert(_converted(model_path, shape, window, on_convert))
    import tensorflow as tf

    model = raw_tile_model(model_path, shape, window, precision == "bfloat16")
    function = tf.function(lambda images: model(images, training=False),
                           input_signature=[tf.TensorSpec(shape, tf.float32)])
    return lambda images: function(images).numpy()


def _onnxruntime(model_path: str, shape: tuple[int, ...], window: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """An ONNX model's tile model: its probabilities of the normalised tiles, weighted by ``window``."""
    session = onnx_session(model_path)
    info, probabilities = read_onnx_info(model_path, session), onnx_probabilities(model_path, session, shape)
    return lambda images: probabilities(normalize(images, info.normalization)) * window[np.newaxis, :, :, np.newaxis]


def _int8(model_path: str, shape: tuple[int, ...], window: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The tile model of the int8 copy a GeoSeg model file carries, on ONNX Runtime's CPU provider."""
    import onnxruntime as ort

    info, int8 = read_info(model_path), read_int8(model_path)
    if int8 is None:
        raise GeoSegError(f"The model file {model_path} carries no int8 copy: set the precision to auto or float32.")
    session = ort.InferenceSession(int8, providers=["CPUExecutionProvider"])
    probabilities = onnx_probabilities(model_path, session, shape)
    return lambda images: probabilities(normalize(images, info.normalization)) * window[np.newaxis, :, :, np.newaxis]


def cache_folder() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "geoseg"
    return Path(os.environ.get(CACHE_ENV) or default)


def _converted(model_path: str, shape: tuple[int, ...], window: np.ndarray, on_convert: Callable[[], None]) -> bytes:
    """The tile model's LiteRT flatbuffer: from the cache folder, or converted and stored there."""
    digest = hashlib.sha256(f"{shape}".encode())
    with open(model_path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    digest.update(window.astype(np.float32).tobytes())
    path = cache_folder() / f"{digest.hexdigest()[:32]}.tflite"
    if path.exists():
        os.utime(path)  # recently used: kept longest
        return path.read_bytes()
    on_convert()
    converted = flatbuffer(raw_tile_model(model_path, shape, window))
    with contextlib.suppress(OSError):  # an unwritable cache only costs the next run a conversion
        _store(path, converted)
    return converted


def _store(path: Path, flatbuffer: bytes) -> None:
    """Write atomically (runs in parallel may convert the same model), then drop the least recently used."""
    path.parent.mkdir(parents=True, exist_ok=True)
    file = tempfile.NamedTemporaryFile(dir=path.parent, suffix=".partial", delete=False)
    try:
        with file:
            file.write(flatbuffer)
        os.replace(file.name, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(file.name)
    conversions = sorted(path.parent.glob("*.tflite"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in conversions[CACHED_CONVERSIONS:]:
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def _litert(flatbuffer: bytes) -> Callable[[np.ndarray], np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=flatbuffer, num_threads=os.cpu_count())
    interpreter.allocate_tensors()
    (source,), (target,) = interpreter.get_input_details(), interpreter.get_output_details()

    def run(images: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(source["index"], images)
        interpreter.invoke()
        return interpreter.get_tensor(target["index"])

    return run
