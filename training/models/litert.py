"""LiteRT (formerly TensorFlow Lite) flatbuffers of a bundle's network for raw tiles: the raw band values
``[N, H, W, bands]`` normalised inside (GeoSeg's ``(raw − offset) / scale``), the network's batch normalisations
folded into its convolutions (:func:`training.models.folding.inference_copy`), softmax probabilities
``[N, H, W, classes]`` out. Classify's LiteRT engine converts it for a fixed batch and weights the probabilities by
its blend window (training.inference.engines); the export writes it for any batch (training.models.export).
"""
from __future__ import annotations

import numpy as np

from ..data.normalization import normalize
from .bundle import load_bundle

SUFFIX = ".tflite"


def raw_tile_model(model_path: str, shape: tuple, window: np.ndarray | None = None, bfloat16: bool = False):
    """The Keras model of the bundle at ``model_path`` for raw tiles of ``shape`` (batch, height, width, bands;
    a batch of ``None`` is free), its probabilities weighted by ``window`` (height, width) where one is given,
    computed in bfloat16 where asked (weights and outputs stay float32)."""
    import keras

    from .folding import inference_copy

    model, info = load_bundle(model_path)
    model = inference_copy(model, bfloat16)
    images = keras.Input(shape[1:], batch_size=shape[0], name="tiles")
    probabilities = model(normalize(images, info.normalization))
    if window is not None:
        probabilities = probabilities * window[np.newaxis, :, :, np.newaxis]
    return keras.Model(images, probabilities)


def flatbuffer(model) -> bytes:
    """The LiteRT flatbuffer of a Keras ``model`` (float32, LiteRT's built-in operators)."""
    import tensorflow as tf

    return tf.lite.TFLiteConverter.from_keras_model(model).convert()
