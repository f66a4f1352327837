"""Copies of a network that compute under another Keras dtype policy, every layer but those giving class
probabilities (the output, the network's ``classes`` where a per-pixel blend follows it, the blend's layers of
training.models.pixel_blend): probabilities, and so the loss, stay float32; weights stay float32 under every
policy. Training computes in such a copy (training.learn.precision), classify's TensorFlow engine in a bfloat16
one (training.models.folding), and model files are written from a float32 copy without optimizer state
(:func:`in_float32`), so they load and classify alike whatever trained them.
"""
from __future__ import annotations

import weakref

import keras

from .pixel_blend import is_blend_layer

PROBABILITIES = "classes"  # the name of every architecture's layer giving the network's class probabilities
_FLOAT32_COPIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model → its float32 copy (in_float32)


def with_policy(model: keras.Model, policy: str) -> keras.Model:
    """An uncompiled copy of ``model`` with its weights whose layers compute under ``policy``, but for those giving
    class probabilities, which stay float32 (probabilities and the loss in full precision)."""
    output = model.layers[-1].name
    config = _retyped(keras.saving.serialize_keras_object(model), policy,
                      lambda name: name in (output, PROBABILITIES) or is_blend_layer(name))
    config.pop("compile_config", None)
    copy = keras.saving.deserialize_keras_object(config)
    copy.set_weights(model.get_weights())
    return copy


def in_float32(model: keras.Model) -> keras.Model:
    """An uncompiled float32 copy of ``model`` with its current weights, to save (without optimizer state):
    made once per model, then given its new weights."""
    copy = _FLOAT32_COPIES.get(model)
    if copy is None:
        copy = _FLOAT32_COPIES[model] = with_policy(model, "float32")
    else:
        copy.set_weights(model.get_weights())
    return copy


def _retyped(node, policy: str, keep):
    """A serialised model with every dtype policy set to ``policy``, but float32 inside the layers whose names
    ``keep`` accepts."""
    if isinstance(node, list):
        return [_retyped(item, policy, keep) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("class_name") == "DTypePolicy":
        return {**node, "config": {**node["config"], "name": policy}}
    if isinstance(node.get("config"), dict) and keep(node["config"].get("name")):
        policy = "float32"
    return {key: _retyped(value, policy, keep) for key, value in node.items()}
