"""Dropout for training that draws half the random numbers of Keras' layer."""
from __future__ import annotations

import keras

BITS = 16  # random bits that keep or drop one activation


@keras.saving.register_keras_serializable(package="geoseg")
class FastDropout(keras.layers.Dropout):
    """Keras' ``Dropout``, but each activation is kept or dropped by 16 random bits instead of a random float,
    so one 32-bit random number serves two activations: drawing them was a tenth of a U-Net's training step.
    ``rate`` is rounded to a multiple of 2⁻¹⁶ (0.2 → 0.199997) and the kept activations are scaled by
    1 / (1 − rounded rate), so the expected output is the input, as with Keras' layer. Outside training, and
    with a ``noise_shape``, it is Keras' layer."""

    def call(self, inputs, training=False):
        if not (training and 0 < self.rate < 1) or self.noise_shape is not None:
            return super().call(inputs, training=training)
        import tensorflow as tf

        dropped = round(self.rate * 2**BITS)  # bit patterns below this drop the activation
        seed = tf.cast(tf.math.floormod(self.seed_generator.next(), tf.int32.max - 1), tf.int32)  # as Keras'
        count = tf.size(inputs)
        words = tf.random.stateless_uniform([(count + 1) // 2], seed, minval=None, maxval=None, dtype=tf.uint32)
        bits = tf.reshape(tf.bitcast(words, tf.uint16), [-1])[:count]
        kept = tf.reshape(bits >= dropped, tf.shape(inputs))
        return inputs * (tf.cast(kept, inputs.dtype) * (2**BITS / (2**BITS - dropped)))
