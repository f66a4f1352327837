"""Whether flip averaging pays for a trained model, measured on its validation windows at the end of training.

The rule: on only where flip averaging raises the validation mean IoU (over all windows' pixels) by more than
:data:`MIN_GAIN` and by more than the noise, :data:`NOISE_ERRORS` standard errors of the paired per-window gains
(each window's mean IoU with minus without, over the classes labelled in it). With fewer than two labelled
windows the noise is unknown and flip averaging stays off: it costs 4× the computation for a gain nobody can
tell from chance.
"""
from __future__ import annotations

import numpy as np

from ..models.flips import flip_averaged
from .metrics import confusion_matrix, scores

MIN_GAIN = 0.005  # mean IoU flip averaging must add to be worth 4× the computation
NOISE_ERRORS = 2.0  # …and more than this many standard errors of the per-window gains


def flip_decision(model, dataset, classes) -> dict:
    """Score a Keras ``model`` on ``dataset`` (batches of normalised image, label, mask) without and with flip
    averaging and decide by the rule above: the record a bundle keeps (training.models.flips.RECORD)."""
    def plain(images):
        return np.asarray(model.predict_on_batch(images))

    flipped, names = flip_averaged(plain), [c.name for c in classes]
    totals = {"plain": 0, "flipped": 0}
    gains = []
    for images, labels, _ in dataset:
        images, labels = np.asarray(images), np.asarray(labels)
        predicted = {"plain": plain(images).argmax(-1), "flipped": flipped(images).argmax(-1)}
        for i, truth in enumerate(labels):
            matrices = {way: confusion_matrix(truth, found[i], len(names)) for way, found in predicted.items()}
            for way, matrix in matrices.items():
                totals[way] = totals[way] + matrix
            if matrices["plain"].sum():
                plain_iou, flipped_iou = (scores(matrices[way], names)["mean_iou"] for way in ("plain", "flipped"))
                gains.append(flipped_iou - plain_iou)
    without, with_flips = (scores(np.asarray(totals[way]), names)["mean_iou"] for way in ("plain", "flipped"))
    gain = with_flips - without
    noise = NOISE_ERRORS * float(np.std(gains, ddof=1)) / np.sqrt(len(gains)) if len(gains) > 1 else None
    return {"on": bool(noise is not None and gain > max(MIN_GAIN, noise)), "mean_iou_plain": without,
            "mean_iou_flipped": with_flips, "gain": gain, "noise": noise, "windows": len(gains), "min_gain": MIN_GAIN}
