import keras
import numpy as np
import pytest

from training.models import build_model
from training.precision import FusedBatchNormalization, in_float32, with_policy

TINY = {"base_filters": 4, "depth": 2}


def pair(policy: str, **options):
    """Keras' batch normalisation and the fused one with the same weights, computing under ``policy``."""
    layers = [cls(momentum=0.9, dtype=policy, **options) for cls in (keras.layers.BatchNormalization,
                                                                     FusedBatchNormalization)]
    for layer in layers:
        layer.build((None, 8, 8, 5))
    rng = np.random.default_rng(0)  # moved off their initial values (variances stay positive)
    weights = [(w + rng.uniform(0.5, 1.5, w.shape)).astype("float32") for w in layers[0].get_weights()]
    for layer in layers:
        layer.set_weights(weights)
    return layers


@pytest.mark.parametrize(("policy", "tolerance"), [("float32", 1e-4), ("mixed_bfloat16", 3e-2)])
def test_fused_batch_norm_trains_as_keras_does(policy, tolerance):
    import tensorflow as tf

    keras_norm, fused = pair(policy)
    inputs = tf.constant(np.random.default_rng(1).normal(3, 2, (4, 8, 8, 5)), tf.float32)
    results = []
    for layer in (keras_norm, fused):
        with tf.GradientTape() as tape:
            outputs = layer(inputs, training=True)
            loss = tf.reduce_sum(tf.cast(outputs, tf.float32) * tf.range(5, dtype=tf.float32))
        results.append((outputs, tape.gradient(loss, layer.trainable_variables), layer.get_weights()))
    (keras_out, keras_grads, keras_weights), (fused_out, fused_grads, fused_weights) = results
    assert fused_out.dtype == keras_out.dtype
    np.testing.assert_allclose(np.float32(fused_out), np.float32(keras_out), atol=tolerance * 4)
    for ours, theirs in zip(fused_grads, keras_grads):
        np.testing.assert_allclose(np.float32(ours), np.float32(theirs), rtol=tolerance, atol=tolerance * 64)
    for ours, theirs in zip(fused_weights, keras_weights):  # moving mean and (biased) variance moved alike
        np.testing.assert_allclose(ours, theirs, rtol=tolerance)
    assert not np.allclose(fused_weights[2], pair(policy)[1].get_weights()[2])  # they did move


def test_fused_batch_norm_infers_and_falls_back_as_keras_does():
    import tensorflow as tf

    inputs = tf.constant(np.random.default_rng(2).normal(size=(2, 8, 8, 5)), tf.float32)
    keras_norm, fused = pair("float32")
    np.testing.assert_allclose(fused(inputs, training=False), keras_norm(inputs, training=False), atol=1e-5)
    keras_norm, fused = pair("float32", renorm=True)  # an option the fused kernel lacks: Keras' own path
    np.testing.assert_allclose(fused(inputs, training=True), keras_norm(inputs, training=True), atol=1e-5)


def test_training_copies_fuse_batch_norm_and_float32_copies_do_not():
    model = build_model("unet", 3, 2, **TINY)
    count = sum(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
    fused = with_policy(model, "mixed_bfloat16")
    assert sum(isinstance(layer, FusedBatchNormalization) for layer in fused.layers) == count > 0
    saved = in_float32(fused)
    assert not any(isinstance(layer, FusedBatchNormalization) for layer in saved.layers)
    assert sum(type(layer) is keras.layers.BatchNormalization for layer in saved.layers) == count
    for ours, theirs in zip(saved.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
