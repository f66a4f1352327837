import keras
import numpy as np
import pytest
import tensorflow as tf

from training.dropout import BITS, FastDropout

SIDE = 256  # a (4, 256, 256, 4) batch: a million activations


def test_drops_the_rate_and_scales_the_kept_so_the_mean_stays():
    layer = FastDropout(0.2, seed=1)
    ones = tf.ones((4, SIDE, SIDE, 4))
    out = layer(ones, training=True).numpy()
    scale = 2**BITS / (2**BITS - round(0.2 * 2**BITS))
    assert set(np.unique(out)) == {0.0, np.float32(scale)}
    assert np.mean(out == 0) == pytest.approx(0.2, abs=0.002)
    assert out.mean() == pytest.approx(1.0, abs=0.003)


def test_each_call_draws_a_new_mask_and_a_seed_repeats_them():
    def masks(seed):
        layer = FastDropout(0.5, seed=seed)
        return [layer(tf.ones((3, 7, 5, 3)), training=True).numpy() > 0 for _ in range(2)]  # an odd count

    first, second = masks(7)
    assert not np.array_equal(first, second)
    assert all(np.array_equal(a, b) for a, b in zip(masks(7), (first, second)))
    assert not np.array_equal(masks(8)[0], first)


def test_the_gradient_passes_through_the_kept_activations_only():
    layer = FastDropout(0.3, seed=2)
    x = tf.Variable(tf.ones((2, 16, 16, 8)))
    with tf.GradientTape() as tape:
        out = layer(x, training=True)
    np.testing.assert_array_equal(tape.gradient(out, x).numpy(), out.numpy())


def test_bfloat16_in_bfloat16_out_and_identity_outside_training():
    layer = FastDropout(0.2, seed=3, dtype="mixed_bfloat16")
    x = tf.random.normal((2, 8, 8, 4))
    assert layer(x, training=True).dtype == tf.bfloat16
    np.testing.assert_array_equal(FastDropout(0.2)(x, training=False).numpy(), x.numpy())


def test_a_noise_shape_takes_keras_own_path():
    out = FastDropout(0.5, noise_shape=(2, 1, 1, 4), seed=4)(tf.ones((2, 8, 8, 4)), training=True).numpy()
    assert all(len(np.unique(out[b, :, :, c])) == 1 for b in range(2) for c in range(4))  # one draw per map


def test_it_serialises_as_a_keras_layer():
    layer = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(FastDropout(0.25)))
    assert isinstance(layer, FastDropout) and layer.rate == 0.25
