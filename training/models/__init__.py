"""Model builders, one module each, registered in training.architectures; the model bundle (bundle), ImageNet
encoders (imagenet) and copies that compute in another dtype (dtype) or predict with less work (folding).

Importing this package does not import Keras: :func:`build_model` imports a builder when it is called.
"""
from __future__ import annotations

import importlib
import inspect
from typing import TYPE_CHECKING

from ..architectures import architecture as registered

if TYPE_CHECKING:
    import keras


def build_model(architecture: str, num_bands: int, num_classes: int, **options) -> keras.Model:
    """Build ``architecture`` for ``num_bands`` input bands and ``num_classes`` output classes."""
    entry = registered(architecture)
    if entry.backbone:
        options = {"backbone": entry.backbone, **options}
    return _builder(architecture)(num_bands=num_bands, num_classes=num_classes, **options)


def size_multiple(architecture: str, options: dict) -> int:
    """What the sides of ``architecture``'s input must be multiples of, built with ``options``."""
    parameters = inspect.signature(_builder(architecture)).parameters.values()
    defaults = {parameter.name: parameter.default for parameter in parameters
                if parameter.default is not inspect.Parameter.empty}
    return registered(architecture).input_multiple({**defaults, **options})


def _builder(architecture: str):
    module, function = registered(architecture).builder.split(":")
    return getattr(importlib.import_module(f".{module}", __package__), function)
