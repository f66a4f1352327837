"""The decision rule for rare classes: a prior correction tuned on validation and folded into the network.

A network trained on a class that covers a fraction of a percent of the pixels learns that the class is
rare, and picking the most probable class then misses much of it. Multiplying a class's probability by a
factor ``s`` (and renormalising) is the correction for a prior ``s`` times larger; GeoSeg picks, per rare
class, the factor among :data:`FACTORS` that gives that class the best F1 on the validation pixels, keeps it
only where it raises that F1 by at least :data:`MIN_GAIN`, and adds ``log(s)`` to the bias of the layer that
feeds the softmax, which is the same correction. So the saved network itself decides with the rule: classify,
evaluate, the held-out scores and exported models all apply it, and its probabilities are those under the
corrected prior.
"""
from __future__ import annotations

import numpy as np

from ..data.classes import NODATA_CLASS
from ..models.dtype import PROBABILITIES

FACTORS = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0)  # the prior factors tried
MIN_GAIN = 0.01  # the smallest gain in a class's validation F1 for which its factor is kept


def tune_factors(predict, batches, classes: list[int], num_classes: int) -> tuple[np.ndarray, dict]:
    """Per class, the prior factor (1 where none pays) that maximises the F1 of each class of ``classes`` on
    ``batches`` of (images, labels, …), ``predict`` giving class probabilities; and per tuned class its
    factor with its validation F1 before and after. Each class is tuned with the others' factors at 1."""
    counts = np.zeros((len(classes), len(FACTORS), 3))  # true positives, false positives, false negatives
    logs = np.log(np.asarray(FACTORS))
    for images, labels, *_ in batches:
        probabilities = np.asarray(predict(images), np.float64)
        labels = np.asarray(labels)
        labelled = labels != NODATA_CLASS
        log_p = np.log(np.maximum(probabilities[labelled], 1e-12))  # (pixels, classes)
        truth = labels[labelled]
        for i, c in enumerate(classes):
            others, actual = np.delete(log_p, c, axis=1).max(axis=1), truth == c
            for j, shift in enumerate(logs):
                chosen = log_p[:, c] + shift > others
                counts[i, j] += ((chosen & actual).sum(), (chosen & ~actual).sum(), (~chosen & actual).sum())
    factors, tuned = np.ones(num_classes), {}
    for i, c in enumerate(classes):
        tp, fp, fn = counts[i].T
        f1 = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros(len(FACTORS)), where=(2 * tp + fp + fn) > 0)
        best = int(f1.argmax())
        if f1[best] >= f1[0] + MIN_GAIN:
            factors[c] = FACTORS[best]
            tuned[c] = {"factor": FACTORS[best], "validation_f1": [round(float(f1[0]), 4), round(float(f1[best]), 4)]}
    return factors, tuned


def fold_factors(model, factors: np.ndarray) -> None:
    """Add ``log(factors)`` to the bias of ``model``'s layer that feeds its softmax (the ``classes`` layer, or
    the layer before it where that is a softmax activation alone)."""
    layer = model.get_layer(PROBABILITIES)
    if not layer.weights:
        layer = layer.input._keras_history.operation
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel, bias + np.log(factors).astype(bias.dtype)])
