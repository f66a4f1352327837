"""Inference engines for the fixed-shape tile model: TensorFlow itself, or LiteRT running XNNPACK.

On 2 CPU cores the networks ran 1.1× (VGG U-Net) to 1.6× (U-Net) faster converted to LiteRT, whose
XNNPACK kernels fold batch normalisation into the convolutions; probabilities agree to ~1e-6. ``auto`` picks
LiteRT unless TensorFlow sees a GPU, bfloat16 is asked for (TensorFlow only) or ``ai-edge-litert`` is
not installed.
"""
from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from .config import ENGINES

LABELS = {"litert": "LiteRT (XNNPACK)", "tensorflow": "TensorFlow"}


def choose_engine(engine: str, bfloat16: bool = False) -> str:
    """Resolve ``engine`` (one of :data:`ENGINES`) to ``litert`` or ``tensorflow`` on this machine."""
    if engine not in ENGINES:
        raise ValueError(f"Unknown engine {engine!r}: choose one of {', '.join(ENGINES)}.")
    litert_installed = importlib.util.find_spec("ai_edge_litert") is not None
    if engine == "auto":
        use_tensorflow = bfloat16 or not litert_installed or tf.config.list_physical_devices("GPU")
        return "tensorflow" if use_tensorflow else "litert"
    if engine == "litert" and bfloat16:
        raise ValueError("bfloat16 runs on the TensorFlow engine only: set the engine to tensorflow or auto.")
    if engine == "litert" and not litert_installed:
        raise ValueError("The LiteRT engine needs the ai-edge-litert package: install it "
                         "(pip install ai-edge-litert) or set the engine to tensorflow.")
    return engine


def compile_tiles(model: keras.Model, engine: str) -> Callable[[np.ndarray], np.ndarray]:
    """``model`` (with one fixed input shape) as a NumPy-in, NumPy-out function traced for ``engine``
    (``litert`` or ``tensorflow``)."""
    if engine == "litert":
        return _litert(model)
    function = tf.function(lambda images: model(images, training=False),
                           input_signature=[tf.TensorSpec(model.input.shape, tf.float32)])
    return lambda images: function(images).numpy()


def _litert(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter

    flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    interpreter = Interpreter(model_content=flatbuffer, num_threads=os.cpu_count())
    interpreter.allocate_tensors()
    (source,), (target,) = interpreter.get_input_details(), interpreter.get_output_details()

    def run(images: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(source["index"], images)
        interpreter.invoke()
        return interpreter.get_tensor(target["index"])

    return run
