"""Inference copies of trained networks: batch normalisation folded away, optionally computing in bfloat16."""
from __future__ import annotations

import keras
import numpy as np

from .dtype import with_policy


def inference_copy(model: keras.Model, bfloat16: bool = False) -> keras.Model:
    """A copy of ``model`` that predicts as it does, computed with less work.

    Every batch normalisation that is the only consumer of a 2-D convolution is folded into that
    convolution's kernel and bias (exact up to rounding; it saves a pass over each activation, which
    bfloat16 would otherwise make in float32). With ``bfloat16`` every layer but the output computes in
    bfloat16 while the weights stay float32 (:func:`training.models.dtype.with_policy`).
    """
    if bfloat16:
        model = with_policy(model, "mixed_bfloat16")
    folds = _foldable(model)
    folded_norms = {norm.name for norm in folds.values()}

    def clone(layer):
        config = layer.get_config()
        if layer.name in folded_norms:
            return _Folded(name=layer.name, dtype=config["dtype"])
        if layer.name in folds:
            config["use_bias"] = True
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    for layer in model.layers:
        target = copy.get_layer(layer.name)
        if layer.name in folds:
            target.set_weights(_fold(layer, folds[layer.name]))
        elif layer.name not in folded_norms:
            target.set_weights(layer.get_weights())
    return copy


class _Folded(keras.layers.Layer):
    """Stands where a folded batch normalisation was: passes its input on."""

    def call(self, inputs, training=None, mask=None):
        return inputs


def _foldable(model: keras.Model) -> dict[str, keras.layers.BatchNormalization]:
    """Convolution name → the batch normalisation that alone consumes its output (channels last)."""
    folds = {}
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization) or len(layer._inbound_nodes) != 1:
            continue
        parents = layer._inbound_nodes[0].parent_nodes
        source = parents[0].operation if len(parents) == 1 else None
        if (type(source) is keras.layers.Conv2D and len(source._inbound_nodes) == 1
                and len(source._outbound_nodes) == 1 and layer.axis in (-1, 3)):
            folds[source.name] = layer
    return folds


def _fold(convolution: keras.layers.Conv2D, norm: keras.layers.BatchNormalization) -> list[np.ndarray]:
    """Kernel and bias of ``norm(convolution(x))`` as one convolution."""
    kernel = convolution.kernel.numpy()
    bias = convolution.bias.numpy() if convolution.use_bias else np.zeros(kernel.shape[-1], np.float32)
    gamma = norm.gamma.numpy() if norm.scale else 1.0
    beta = norm.beta.numpy() if norm.center else 0.0
    scale = gamma / np.sqrt(norm.moving_variance.numpy() + norm.epsilon)
    return [kernel * scale, (bias - norm.moving_mean.numpy()) * scale + beta]
