"""U-Net whose encoder is Keras' VGG16 or VGG19, optionally ImageNet-pretrained."""
from __future__ import annotations

import keras
from keras import layers

from .imagenet import encoder
from .unet import _conv_block


def unet_vgg(num_bands: int, num_classes: int, backbone: str, weights: str | None = None,
             weights_path: str | None = None, bands=None, freeze_encoder: bool = False,
             decoder_filters=(256, 128, 64, 32)) -> keras.Model:
    """U-Net on VGG ``backbone`` ("vgg16" or "vgg19"): block 5's last convolution (stride 16, 4×4 on a
    64 px chip) is the bottleneck; four transposed-convolution steps join the last convolution of blocks
    4..1 and the softmax head works at full size. Fully convolutional: sides must be multiples of 16.
    ``weights``, ``weights_path``, ``bands``, ``freeze_encoder``: see ``imagenet.encoder``."""
    inputs = keras.Input((None, None, num_bands), name="image")
    vgg = encoder(backbone, inputs, weights, weights_path, bands, freeze_encoder)

    def block_output(block: int):  # the last convolution of a block feeds its pooling layer
        return vgg.get_layer(f"block{block}_pool").input

    x = block_output(5)
    for block, filters in zip((4, 3, 2, 1), decoder_filters):
        x = layers.Conv2DTranspose(filters, 2, strides=2, padding="same", name=f"up{block}_upconv")(x)
        x = layers.Concatenate(name=f"up{block}_concat")([x, block_output(block)])
        x = _conv_block(x, filters, 0.0, f"up{block}")
    outputs = layers.Conv2D(num_classes, 1, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name=f"unet_{backbone}")
