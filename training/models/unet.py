"""The study's vanilla U-Net, trained from scratch."""
from __future__ import annotations

import keras
from keras import layers


def _conv_block(x, filters: int, dropout: float, name: str):
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{i}")(x)
        x = layers.Activation("relu", name=f"{name}_relu{i}")(x)
    if dropout:
        x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return x


def unet(num_bands: int, num_classes: int, base_filters: int = 32, depth: int = 4,
         dropout: float = 0.2) -> keras.Model:
    """U-Net with ``depth`` down and up blocks (32→512 filters by default), batch norm, dropout and
    transposed-convolution upsampling. Fully convolutional: input sides must be multiples of 2**depth."""
    inputs = keras.Input((None, None, num_bands), name="image")
    x, skips = inputs, []
    for level in range(depth):
        x = _conv_block(x, base_filters * 2**level, dropout, f"down{level + 1}")
        skips.append(x)
        x = layers.MaxPooling2D(name=f"down{level + 1}_pool")(x)
    x = _conv_block(x, base_filters * 2**depth, dropout, "bottleneck")
    for level in reversed(range(depth)):
        x = layers.Conv2DTranspose(base_filters * 2**level, 2, strides=2, padding="same",
                                   name=f"up{level + 1}_upconv")(x)
        x = layers.Concatenate(name=f"up{level + 1}_concat")([x, skips[level]])
        x = _conv_block(x, base_filters * 2**level, dropout, f"up{level + 1}")
    outputs = layers.Conv2D(num_classes, 1, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="unet")
