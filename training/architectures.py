"""The networks GeoSeg trains and classifies with, each declared once: the label users see, its builder, the
ImageNet backbone it starts from and the input sides it takes. The settings' choices (training.config), the
command line, the QGIS dialogs, training, tiling, windows and the tests read this table; it never imports
Keras (a builder is imported only when a model is built, by training.models.build_model).

Adding an architecture takes a builder module in training/models and one entry here (docs/development.md).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import GeoSegError

# Every architecture, with its default options, takes input sides that are multiples of this (it halves its
# input at most five times): tiles, windows and held-out strips are cut to multiples of it.
INPUT_MULTIPLE = 32


@dataclass(frozen=True)
class Architecture:
    """A network: the ``label`` users see; its ``builder``, ``"module:function"`` in training.models, called as
    ``builder(num_bands=…, num_classes=…, **options)`` (plus ``backbone=`` for a pretrained one) and returning a
    ``keras.Model`` from (H, W, bands) to per-pixel class probabilities; the ImageNet ``backbone`` of
    training.models.imagenet its encoder starts from ("" for a network trained from scratch), which also takes
    ``weights``, ``weights_path``, ``bands`` and ``freeze_encoder``; and ``input_multiple``: what the input's
    sides must be multiples of, given the builder's options with its defaults filled in.

    Invariant (the contract test checks it): with the default options, ``input_multiple`` divides
    :data:`INPUT_MULTIPLE`.
    """

    label: str
    builder: str
    input_multiple: Callable[[dict], int]
    backbone: str = ""


ARCHITECTURES = {
    "unet": Architecture("U-Net (from scratch)", "unet:unet", lambda options: 2 ** options["depth"]),
    "unet_vgg16": Architecture("U-Net with VGG16 encoder (ImageNet)", "unet_vgg:unet_vgg", lambda options: 16,
                               "vgg16"),
    "unet_vgg19": Architecture("U-Net with VGG19 encoder (ImageNet)", "unet_vgg:unet_vgg", lambda options: 16,
                               "vgg19"),
    "deeplabv3_resnet50": Architecture("DeepLabv3+ with ResNet50 backbone (ImageNet)", "deeplab:deeplabv3",
                                       lambda options: options["output_stride"], "resnet50"),
}
LABELS = {key: architecture.label for key, architecture in ARCHITECTURES.items()}  # the choices users see


def architecture(key: str) -> Architecture:
    """The registered architecture ``key``, or an error that lists the others."""
    try:
        return ARCHITECTURES[key]
    except KeyError:
        raise GeoSegError(f"Unknown model {key!r}: choose one of {', '.join(ARCHITECTURES)}.") from None
