"""A network blended with a per-pixel network: each pixel's class probabilities are ``(1 − w)`` times the
network's plus ``w`` times those a small network of that pixel's own band values gives, built into one Keras model
(the per-pixel network as 1×1 convolutions), so classify, evaluate, exports and the int8 copy all carry it; and
what a model bundle's training recorded about the weight ``w`` (training.learn.pixel_blend measures and decides).

Every layer the blend adds is named with :data:`PREFIX`, and computes in float32 under every dtype policy, as the
network's own output does (training.models.dtype).
"""
from __future__ import annotations

import keras
import numpy as np

RECORD = "pixel_blend"  # the key of the decision in a bundle's ModelInfo.metrics
PREFIX = "blend"  # the names of the layers the blend adds


def blended(model: keras.Model, pixel_network: keras.Model, weight: float) -> keras.Model:
    """``model`` (images → class probabilities) blended with ``pixel_network`` (a stack of Dense layers from a
    pixel's bands to its class probabilities) at ``weight``: a new model sharing ``model``'s layers, whose
    output is ``(1 − weight) · model + weight · pixel_network`` at every pixel."""
    if not 0 < weight < 1:
        raise ValueError(f"A blend weight must lie strictly between 0 and 1, not {weight}.")
    dense = [layer for layer in pixel_network.layers if isinstance(layer, keras.layers.Dense)]
    x = model.input
    for i, layer in enumerate(dense, 1):
        last = i == len(dense)
        convolution = keras.layers.Conv2D(layer.units, 1, activation=layer.activation,
                                          name=f"{PREFIX}_pixel_classes" if last else f"{PREFIX}_pixel_hidden_{i}")
        x = convolution(x)
        kernel, bias = layer.get_weights()
        convolution.set_weights([kernel[None, None], bias])
    shares = [keras.layers.Rescaling(1 - weight, name=f"{PREFIX}_network_share")(model.outputs[0]),
              keras.layers.Rescaling(weight, name=f"{PREFIX}_pixel_share")(x)]
    return keras.Model(model.input, keras.layers.Add(name=PREFIX)(shares), name=model.name)


def not_measured(reason: str) -> dict:
    """The record of a model whose blend was not measured, and why: no per-pixel network in it."""
    return {"weight": 0.0, "reason": reason}


def summary(metrics: dict) -> str:
    """The recorded decision and its figures in a sentence (for reports and progress messages)."""
    record = metrics.get(RECORD)
    if not record:
        return "Per-pixel blend: none (a model file written before GeoSeg measured it)."
    if record.get("reason"):
        return f"Per-pixel blend: none, not measured ({record['reason']})."
    by_weight = ", ".join(f"{float(w):g}: {iou:.4f}" for w, iou in record["mean_iou_by_weight"].items())
    chosen = (f"the network's class probabilities blended with a per-pixel network's at weight {record['weight']:g}"
              if record["weight"] else "none")
    return (f"Per-pixel blend: {chosen}; a per-pixel network fitted on {record['pixels']:,} training pixels, "
            f"validation mean IoU by its weight {by_weight} (gain {record['gain']:+.4f}, more than "
            f"{record['min_gain']:.4f} needed).")


def is_blend_layer(name: str) -> bool:
    """Whether a layer named ``name`` is one the blend added."""
    return isinstance(name, str) and (name == PREFIX or name.startswith(f"{PREFIX}_"))


def blend_probabilities(network: np.ndarray, pixel: np.ndarray, weight: float) -> np.ndarray:
    """The blend of two arrays of class probabilities, as :func:`blended` computes it."""
    return (1 - weight) * network + weight * pixel
