"""Inference engines for the tile model: TensorFlow itself, or LiteRT running XNNPACK.

The tile model is a bundle's network for raw tiles of one fixed shape: it normalises them, classifies
them and weights the class probabilities by the blend window. On 2 CPU cores the networks ran 1.1× (VGG
U-Net) to 1.6× (U-Net) faster converted to LiteRT, whose XNNPACK kernels fold batch normalisation into the
convolutions; probabilities agree to ~1e-6. ``auto`` picks LiteRT unless TensorFlow sees a GPU, bfloat16
is asked for (TensorFlow only) or ``ai-edge-litert`` is not installed.

Converting takes TensorFlow (about 0.5 GiB once imported) and ~5 s, so each conversion is kept in a
cache folder (``GEOSEG_CACHE_DIR``, else ``~/.cache/geoseg``), keyed by the model file's contents, the tile
shape and the window. With a cached conversion the LiteRT engine never imports TensorFlow.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Callable
from glob import glob
from pathlib import Path

import numpy as np

from .bundle import load_bundle
from .config import ENGINES
from .normalization import normalize

LABELS = {"litert": "LiteRT (XNNPACK)", "tensorflow": "TensorFlow"}
CACHE_ENV = "GEOSEG_CACHE_DIR"
CACHED_CONVERSIONS = 8  # the most recently used are kept; a U-Net's takes ~30 MB


def choose_engine(engine: str, bfloat16: bool = False) -> str:
    """Resolve ``engine`` (one of :data:`ENGINES`) to ``litert`` or ``tensorflow`` on this machine."""
    if engine not in ENGINES:
        raise ValueError(f"Unknown engine {engine!r}: choose one of {', '.join(ENGINES)}.")
    litert_installed = importlib.util.find_spec("ai_edge_litert") is not None
    if engine == "auto":
        return "tensorflow" if bfloat16 or not litert_installed or _gpu_visible() else "litert"
    if engine == "litert" and bfloat16:
        raise ValueError("bfloat16 runs on the TensorFlow engine only: set the engine to tensorflow or auto.")
    if engine == "litert" and not litert_installed:
        raise ValueError("The LiteRT engine needs the ai-edge-litert package: install it "
                         "(pip install ai-edge-litert) or set the engine to tensorflow.")
    return engine


def _gpu_visible() -> bool:
    """Whether TensorFlow sees a GPU; TensorFlow is imported to ask only where an NVIDIA device exists."""
    if not glob("/dev/nvidia[0-9]*"):
        return False
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def compile_tiles(model_path: str, shape: tuple[int, int, int, int], window: np.ndarray, engine: str,
                  bfloat16: bool = False, on_convert: Callable[[], None] = lambda: None,
                  ) -> Callable[[np.ndarray], np.ndarray]:
    """The tile model of the bundle at ``model_path`` for batches of ``shape``, as a NumPy-in, NumPy-out
    function run by ``engine`` (``litert`` or ``tensorflow``). ``on_convert`` is called before a LiteRT
    conversion that is not cached yet."""
    if engine == "litert":
        return _litert(_converted(model_path, shape, window, on_convert))
    import tensorflow as tf

    model = _tile_model(model_path, shape, window, bfloat16)
    function = tf.function(lambda images: model(images, training=False),
                           input_signature=[tf.TensorSpec(shape, tf.float32)])
    return lambda images: function(images).numpy()


def _tile_model(model_path: str, shape: tuple[int, ...], window: np.ndarray, bfloat16: bool = False):
    import keras

    model, info = load_bundle(model_path)
    model = _bfloat16(model) if bfloat16 else model
    images = keras.Input(shape[1:], batch_size=shape[0], name="tiles")
    return keras.Model(images, model(normalize(images, info.normalization)) * window[np.newaxis, :, :, np.newaxis])


def _bfloat16(model):
    """A copy of ``model`` computing in bfloat16 with float32 weights; its output layer stays float32."""
    import keras

    output_layer = model.layers[-1]

    def clone(layer):
        config = layer.get_config()
        if layer is not output_layer:
            config["dtype"] = "mixed_bfloat16"
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone, recursive=True)
    copy.set_weights(model.get_weights())
    return copy


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
    import tensorflow as tf

    flatbuffer = tf.lite.TFLiteConverter.from_keras_model(_tile_model(model_path, shape, window)).convert()
    with contextlib.suppress(OSError):  # an unwritable cache only costs the next run a conversion
        _store(path, flatbuffer)
    return flatbuffer


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
