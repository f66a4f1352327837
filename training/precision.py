"""Mixed precision for training: the Keras dtype policy a precision setting gives on this machine, and copies
of a network computing under another policy. Weights stay float32 under every policy, and model files are
always written in float32 without optimizer state (:func:`in_float32`), so they load and classify as before.

``auto`` trains in ``mixed_bfloat16`` where the CPU computes bfloat16 natively (the detection classify uses,
:func:`training.engines.native_bfloat16`), in ``mixed_float16`` with loss scaling where TensorFlow sees a GPU,
and in float32 elsewhere.
"""
from __future__ import annotations

import weakref

import keras

from .config import PRECISIONS
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


def with_policy(model: keras.Model, policy: str) -> keras.Model:
    """An uncompiled copy of ``model`` with its weights whose layers compute under ``policy``, but for the output
    layer, which stays float32 (class probabilities and the loss in full precision)."""
    config = _retyped(keras.saving.serialize_keras_object(model), policy, model.layers[-1].name)
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


def _retyped(node, policy: str, keep: str):
    """A serialised model with every dtype policy set to ``policy``, but float32 inside the layer ``keep``."""
    if isinstance(node, list):
        return [_retyped(item, policy, keep) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("class_name") == "DTypePolicy":
        return {**node, "config": {**node["config"], "name": policy}}
    if isinstance(node.get("config"), dict) and node["config"].get("name") == keep:
        policy = "float32"
    return {key: _retyped(value, policy, keep) for key, value in node.items()}
