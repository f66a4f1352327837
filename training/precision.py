"""Mixed precision for training: the Keras dtype policy a precision setting gives on this machine, the copy of a
network that trains (:func:`training_copy`: under that policy, with :class:`~training.dropout.FastDropout`) and the
copy that is saved (:func:`in_float32`: float32, Keras' own layers). Weights stay float32 under every policy, and
model files are always written in float32 without optimizer state, so they load and classify as before.

``auto`` trains in ``mixed_bfloat16`` where the CPU computes bfloat16 natively (the detection classify uses,
:func:`training.engines.native_bfloat16`), in ``mixed_float16`` with loss scaling where TensorFlow sees a GPU,
and in float32 elsewhere.
"""
from __future__ import annotations

import weakref

import keras

from .config import PRECISIONS
from .dropout import FastDropout
from .engines import gpu_visible, native_bfloat16
from .errors import GeoSegError

POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
_FLOAT32_COPIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model → its float32 copy (in_float32)


def training_policy(precision: str) -> str:
    """The Keras dtype policy for ``precision`` (one of :data:`~training.config.PRECISIONS`) on this machine."""
    if precision not in PRECISIONS:
        raise GeoSegError(f"Unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}.")
    if precision == "auto":
        precision = "float16" if gpu_visible() else "bfloat16" if native_bfloat16() else "float32"
    return POLICIES[precision]


def training_copy(model: keras.Model, policy: str) -> keras.Model:
    """An uncompiled copy of ``model`` with its weights to train: its layers compute under ``policy``, but for
    the output layer, which stays float32 (class probabilities and the loss in full precision), and its dropout
    is :class:`~training.dropout.FastDropout`."""
    return _copy(model, policy, training=True)


def _copy(model: keras.Model, policy: str, training: bool) -> keras.Model:
    """An uncompiled copy of ``model`` with its weights, under ``policy``, to train or to save."""
    config = _retyped(keras.saving.serialize_keras_object(model), policy, model.layers[-1].name, _DROPOUTS[training])
    config.pop("compile_config", None)
    copy = keras.saving.deserialize_keras_object(config)
    copy.set_weights(model.get_weights())
    return copy


def in_float32(model: keras.Model) -> keras.Model:
    """An uncompiled float32 copy of ``model`` with its current weights, to save (without optimizer state):
    made once per model, then given its new weights."""
    copy = _FLOAT32_COPIES.get(model)
    if copy is None:
        copy = _FLOAT32_COPIES[model] = _copy(model, "float32", training=False)
    else:
        copy.set_weights(model.get_weights())
    return copy


_DROPOUTS = {  # how a serialised dropout layer names its class, in the copy that trains and in the one saved
    True: {"module": FastDropout.__module__, "class_name": FastDropout.__name__,
           "registered_name": keras.saving.get_registered_name(FastDropout)},
    False: {"module": "keras.layers", "class_name": "Dropout", "registered_name": None}}


def _retyped(node, policy: str, keep: str, dropout: dict):
    """A serialised model with every dtype policy set to ``policy``, but float32 inside the layer ``keep``, and
    each dropout layer of the class ``dropout`` names (an entry of :data:`_DROPOUTS`)."""
    if isinstance(node, list):
        return [_retyped(item, policy, keep, dropout) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("class_name") in ("Dropout", FastDropout.__name__):
        node = {**node, **dropout}
    if node.get("class_name") == "DTypePolicy":
        return {**node, "config": {**node["config"], "name": policy}}
    if isinstance(node.get("config"), dict) and node["config"].get("name") == keep:
        policy = "float32"
    return {key: _retyped(value, policy, keep, dropout) for key, value in node.items()}
