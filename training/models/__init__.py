"""Model builders. Each returns a ``keras.Model`` mapping (H, W, bands) to per-pixel class probabilities."""
from __future__ import annotations

import inspect
from collections.abc import Callable

import keras

from ..errors import GeoSegError
from .deeplab import deeplabv3_resnet50
from .unet import unet
from .unet_vgg import unet_vgg16, unet_vgg19

ARCHITECTURES: dict[str, Callable[..., keras.Model]] = {
    "unet": unet,
    "unet_vgg16": unet_vgg16,
    "unet_vgg19": unet_vgg19,
    "deeplabv3_resnet50": deeplabv3_resnet50,
}


def build_model(architecture: str, num_bands: int, num_classes: int, **options) -> keras.Model:
    """Build ``architecture`` for ``num_bands`` input bands and ``num_classes`` output classes."""
    try:
        builder = ARCHITECTURES[architecture]
    except KeyError:
        raise GeoSegError(f"Unknown model {architecture!r}: choose one of {', '.join(ARCHITECTURES)}.") from None
    return builder(num_bands=num_bands, num_classes=num_classes, **options)


def size_multiple(architecture: str, options: dict) -> int:
    """What the sides of ``architecture``'s input must be multiples of, with ``options``: 2**depth for the
    U-Net, the output stride for DeepLabv3+, 16 for the VGG U-Nets (four poolings before block 5)."""
    if architecture == "unet":
        return 2 ** options.get("depth", inspect.signature(unet).parameters["depth"].default)
    if architecture == "deeplabv3_resnet50":
        return options.get("output_stride", inspect.signature(deeplabv3_resnet50).parameters["output_stride"].default)
    return 16
