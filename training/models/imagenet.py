"""ImageNet-pretrained Keras backbones for any number of bands, and weight transfer between GeoSeg models.

Weights are never downloaded behind the user's back: ``resolve_weights`` takes an explicit file or the one
Keras keeps in its cache (``$KERAS_HOME/models``, else ``~/.keras/models``), and otherwise says which file
to get, from where, and where to put it. ``fetch_weights`` fills the cache on a machine that is online.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from ..data.bands import RGB_BANDS
from ..errors import GeoSegError
from .bundle import load_bundle

_KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications/"

# Keras' "caffe" preprocessing (VGG, ResNet) feeds ImageNet images as BGR, so the pretrained first kernel
# reads input channel 0 = blue, 1 = green, 2 = red. Source bands 4, 3, 2 (red, green, blue) map to 2, 1, 0.
IMAGENET_CHANNEL = {band: 2 - i for i, band in enumerate(RGB_BANDS)}


@dataclass(frozen=True)
class Backbone:
    application: str  # the keras.applications builder
    first_conv: str  # the layer that reads the input bands
    url: str  # Keras' WEIGHTS_PATH_NO_TOP
    file_hash: str  # MD5, as Keras checks it

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[1]


BACKBONES = {
    "vgg16": Backbone("VGG16", "block1_conv1",
                      _KERAS_WEIGHTS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
                      "6d6bbae143d832006294945121d1f1fc"),
    "vgg19": Backbone("VGG19", "block1_conv1",
                      _KERAS_WEIGHTS + "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
                      "253f8cb515780f3b799900260a226db6"),
    "resnet50": Backbone("ResNet50", "conv1_conv",
                         _KERAS_WEIGHTS + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
                         "4d473c1dd8becc155b73f8504c6f6626"),
}


def _backbone(name: str) -> Backbone:
    try:
        return BACKBONES[name]
    except KeyError:
        raise GeoSegError(f"Unknown backbone {name!r}: choose one of {', '.join(BACKBONES)}.") from None


def keras_cache_dir() -> Path:
    """Where Keras caches application weights, read from ``KERAS_HOME`` at call time."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "models"


def resolve_weights(backbone: str, weights_path: str | None = None) -> str:
    """The ImageNet no-top weights file for ``backbone``: ``weights_path`` if given, else Keras' cached file."""
    spec = _backbone(backbone)
    if weights_path:
        if not Path(weights_path).is_file():
            raise GeoSegError(f"The ImageNet weights file {weights_path} does not exist: give the path of "
                              f"{spec.file_name}.")
        return str(weights_path)
    cached = keras_cache_dir() / spec.file_name
    if cached.is_file():
        return str(cached)
    raise GeoSegError(f"No ImageNet weights for {backbone}: download {spec.file_name} from {spec.url} and put it "
                      f"at {cached} (or give its path as weights_path).")


def fetch_weights(backbone: str) -> str:
    """Download ``backbone``'s ImageNet weights into Keras' cache (needs internet); return the file."""
    spec = _backbone(backbone)
    cache = keras_cache_dir()
    return keras.utils.get_file(spec.file_name, spec.url, cache_dir=str(cache.parent), cache_subdir=cache.name,
                                file_hash=spec.file_hash)


def adapt_first_kernel(kernel: np.ndarray, bands: Sequence[int]) -> np.ndarray:
    """Turn an ImageNet first-layer kernel (kh, kw, 3, F), BGR, into one for ``bands`` (kh, kw, N, F).

    Each of source bands 4, 3, 2 takes the kernel of its ImageNet colour; every other band takes the mean
    of the three. A unit's pre-activation sums over its input channels, so with N channels of comparable
    signal it grows by N/3: the kernel is scaled by 3/N to keep the activation magnitude the pretrained
    layers expect.
    """
    mean = kernel.mean(axis=2)
    channels = [kernel[:, :, IMAGENET_CHANNEL[b]] if b in IMAGENET_CHANNEL else mean for b in bands]
    return np.stack(channels, axis=2) * (3.0 / len(bands))


def encoder(backbone: str, inputs, weights: str | None = None, weights_path: str | None = None,
            bands: Sequence[int] | None = None, freeze: bool = False) -> keras.Model:
    """The Keras ``backbone`` (no top) on ``inputs`` (H, W, N). Its layers join the caller's graph.

    ``weights``: None (random), ``"imagenet"`` (file from ``weights_path`` or Keras' cache) or a weights
    file. ``bands``: the 1-based source bands the N inputs hold (default 1..N), used to adapt ImageNet's
    RGB first layer. ``freeze``: make the backbone's layers untrainable.
    """
    spec = _backbone(backbone)
    num_bands = inputs.shape[-1]
    bands = list(bands) if bands is not None else list(range(1, num_bands + 1))
    if len(bands) != num_bands:
        raise GeoSegError(f"{len(bands)} band(s) {bands} were given for a {num_bands}-band model.")
    if weights_path and weights != "imagenet":
        raise GeoSegError(f"weights_path {weights_path} needs weights='imagenet'.")
    model = getattr(keras.applications, spec.application)(include_top=False, weights=None, input_tensor=inputs)
    if weights is not None:
        path = resolve_weights(backbone, weights_path if weights == "imagenet" else weights)
        _load_adapted(model, spec, path, bands)
    if freeze:
        for layer in model.layers:
            layer.trainable = False
    return model


def _load_adapted(model: keras.Model, spec: Backbone, path: str, bands: Sequence[int]) -> None:
    """Load ``path`` into a 3-band copy of the backbone, then copy it layer by layer into ``model``."""
    source = getattr(keras.applications, spec.application)(include_top=False, weights=None,
                                                           input_shape=(None, None, 3))
    source.load_weights(path)
    for layer in source.layers:
        values = layer.get_weights()
        if layer.name == spec.first_conv:
            values[0] = adapt_first_kernel(values[0], bands)
        if values:
            model.get_layer(layer.name).set_weights(values)


def transfer_from(model_path: str, model: keras.Model) -> int:
    """Start ``model`` from a GeoSeg model file: copy every layer whose name and weight shapes match (the
    encoder, and the head too when bands and classes agree). Returns the number of layers copied."""
    source, _ = load_bundle(model_path)
    old_layers = {layer.name: layer for layer in source.layers}
    copied = 0
    for layer in model.layers:
        old = old_layers.get(layer.name)
        shapes = [w.shape for w in layer.weights]
        if old is not None and shapes and shapes == [w.shape for w in old.weights]:
            layer.set_weights(old.get_weights())
            copied += 1
    return copied
