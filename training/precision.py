"""Mixed precision for training: the Keras dtype policy a precision setting gives on this machine, and copies
of a network computing under another policy. Weights stay float32 under every policy, and model files are
always written in float32 without optimizer state (:func:`in_float32`), so they load and classify as before.

``auto`` trains in ``mixed_bfloat16`` where the CPU computes bfloat16 natively (the detection classify uses,
:func:`training.engines.native_bfloat16`), in ``mixed_float16`` with loss scaling where TensorFlow sees a GPU,
and in float32 elsewhere. Under a 16-bit policy the training copy's batch normalisation runs in TensorFlow's
fused kernel (:class:`FusedBatchNormalization`); the float32 copies that are saved hold Keras' own layer.
"""
from __future__ import annotations

import weakref

import keras

from .config import PRECISIONS
from .engines import gpu_visible, native_bfloat16
from .errors import GeoSegError

POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
_FLOAT32_COPIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model → its float32 copy (in_float32)


@keras.saving.register_keras_serializable(package="geoseg")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """Keras' batch normalisation, but training in one fused TensorFlow kernel (``FusedBatchNormV3``, oneDNN
    on CPUs, cuDNN on GPUs) that reads 16-bit activations and keeps its statistics in float32. Keras' own layer
    casts every activation to float32 and back, which costs a mixed-bfloat16 U-Net about a fifth of its speed.
    Same weights, same moving statistics (the biased batch variance, as Keras'); inference, masks and the
    options the kernel lacks (renorm, synchronised, no centre or scale, other layouts) take Keras' path."""

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable and self._fusable(inputs, mask)):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, tf.convert_to_tensor(self.gamma), tf.convert_to_tensor(self.beta), epsilon=self.epsilon,
            is_training=True)
        count = tf.cast(tf.reduce_prod(tf.shape(inputs)[:-1]), variance.dtype)
        variance = variance * tf.maximum(count - 1.0, 0.0) / count  # the kernel returns the unbiased variance
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return outputs

    def _fusable(self, inputs, mask) -> bool:
        return (mask is None and len(inputs.shape) == 4 and list(self._reduction_axes) == [0, 1, 2]
                and self.center and self.scale and not (self.renorm or self.synchronized))


def training_policy(precision: str) -> str:
    """The Keras dtype policy for ``precision`` (one of :data:`~training.config.PRECISIONS`) on this machine."""
    if precision not in PRECISIONS:
        raise GeoSegError(f"Unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}.")
    if precision == "auto":
        precision = "float16" if gpu_visible() else "bfloat16" if native_bfloat16() else "float32"
    return POLICIES[precision]


def with_policy(model: keras.Model, policy: str) -> keras.Model:
    """An uncompiled copy of ``model`` with its weights whose layers compute under ``policy``, but for the output
    layer, which stays float32 (class probabilities and the loss in full precision). Batch normalisation is
    :class:`FusedBatchNormalization` under a 16-bit policy, Keras' own layer under float32."""
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


_BATCH_NORMS = {  # how a serialised batch normalisation layer names its class, under float32 and under 16 bits
    False: {"module": "keras.layers", "class_name": "BatchNormalization", "registered_name": None},
    True: {"module": FusedBatchNormalization.__module__, "class_name": "FusedBatchNormalization",
           "registered_name": keras.saving.get_registered_name(FusedBatchNormalization)}}


def _retyped(node, policy: str, keep: str):
    """A serialised model with every dtype policy set to ``policy``, but float32 inside the layer ``keep``, and
    its batch normalisation layers the kind for that policy."""
    if isinstance(node, list):
        return [_retyped(item, policy, keep) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("class_name") in ("BatchNormalization", "FusedBatchNormalization"):
        node = {**node, **_BATCH_NORMS[policy != "float32"]}
    if node.get("class_name") == "DTypePolicy":
        return {**node, "config": {**node["config"], "name": policy}}
    if isinstance(node.get("config"), dict) and node["config"].get("name") == keep:
        policy = "float32"
    return {key: _retyped(value, policy, keep) for key, value in node.items()}
