"""Segmentation loss: cross-entropy with optional class weights, plus an optional soft Dice term.

Unlabelled pixels (255) are masked inside the loss, so they never contribute to gradients.
"""
from __future__ import annotations

import keras
from keras import ops

from ..data.classes import NODATA_CLASS


@keras.saving.register_keras_serializable(package="geoseg")
class SegmentationLoss(keras.losses.Loss):
    """Per-pixel loss ``w_c · CE + dice_weight · (1 − mean soft Dice over classes)``.

    ``class_weights`` (one per class) scale each pixel's cross-entropy by its true class; the Dice term is
    computed over the labelled pixels of the batch and spread evenly over them.
    """

    def __init__(self, num_classes: int, class_weights=None, dice_weight: float = 0.0, name="segmentation_loss",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes = num_classes
        self.class_weights = list(class_weights) if class_weights is not None else [1.0] * num_classes
        self.dice_weight = float(dice_weight)

    def call(self, y_true, y_pred):
        labels = ops.cast(y_true, "int32")
        labelled = ops.cast(ops.not_equal(labels, NODATA_CLASS), y_pred.dtype)
        labels = ops.where(labels == NODATA_CLASS, 0, labels)
        cross_entropy = keras.losses.sparse_categorical_crossentropy(labels, y_pred)
        weights = ops.take(ops.convert_to_tensor(self.class_weights, y_pred.dtype), labels)
        loss = cross_entropy * weights * labelled
        if self.dice_weight:
            one_hot = ops.one_hot(labels, self.num_classes, dtype=y_pred.dtype) * labelled[..., None]
            probabilities = y_pred * labelled[..., None]
            axes = tuple(range(len(y_pred.shape) - 1))
            overlap = ops.sum(one_hot * probabilities, axis=axes)
            total = ops.sum(one_hot, axis=axes) + ops.sum(probabilities, axis=axes)
            dice = ops.mean((2.0 * overlap + 1.0) / (total + 1.0))
            loss = loss + self.dice_weight * (1.0 - dice) * labelled
        return loss

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "class_weights": self.class_weights,
                "dice_weight": self.dice_weight}


def balanced_class_weights(counts):
    """Inverse-frequency weights from labelled training pixels per class, normalised to a mean of 1."""
    import numpy as np

    counts = np.asarray(counts, np.float64)
    num_classes = len(counts)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / num_classes, 0.0)
    return (weights / weights[counts > 0].mean()).tolist()
