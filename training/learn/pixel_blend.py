"""Whether blending a per-pixel network into a trained network pays, measured on its validation windows at the end
of training.

A small network of each pixel's own band values (:data:`HIDDEN` units in two ReLU layers, a softmax) is fitted
with Adam on the training pixels the model file keeps (training.data.dataset's ``pixels``), a tenth of them kept
aside to stop it early. The blend weight ``w`` (training.models.pixel_blend) is then the one among :data:`WEIGHTS`
giving the best validation mean IoU (over all windows' pixels), kept only where it gains more than
:data:`MIN_GAIN` over the network alone (both declared in training.config; flip averaging's bar); else the
network stays as it is. Replayed on bench/stability.py's default U-Nets, it was kept for every demo model and half
the scene models (held-out mean IoU −0.001 to +0.018) and for none of the water-chips or vessel models; on base-16
U-Nets the demo's few validation tiles overrated it (docs/experiments.md).
"""
from __future__ import annotations

import time

import keras
import numpy as np

from ..config import BLEND_MIN_GAIN as MIN_GAIN
from ..config import BLEND_WEIGHTS as WEIGHTS
from ..models.pixel_blend import blend_probabilities, not_measured
from .metrics import confusion_matrix, scores

HIDDEN = 64  # units in each of the per-pixel network's two hidden layers
EPOCHS = 30  # at most; early stopping on a tenth of the pixels ends it once PATIENCE epochs bring nothing
PATIENCE = 4
BATCH = 256
MIN_PIXELS = 100  # fewer training pixels than this fit no per-pixel network


def fit_pixel_network(values: np.ndarray, labels: np.ndarray, num_classes: int, seed: int,
                      cancelled=lambda: False) -> keras.Model:
    """A per-pixel network (bands → class probabilities) fitted on ``values`` (N, bands; normalised as the network's
    inputs) and their ``labels`` (N,), seeded; it stops after the batch during which ``cancelled()`` turns true."""
    keras.utils.set_random_seed(seed)
    network = keras.Sequential([keras.Input((values.shape[1],)), keras.layers.Dense(HIDDEN, activation="relu"),
                                keras.layers.Dense(HIDDEN, activation="relu"),
                                keras.layers.Dense(num_classes, activation="softmax")])
    network.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    network.fit(values, labels, batch_size=BATCH, epochs=EPOCHS, validation_split=0.1, verbose=0,
                callbacks=[keras.callbacks.EarlyStopping(patience=PATIENCE, restore_best_weights=True),
                           keras.callbacks.LambdaCallback(on_batch_end=lambda *_, **__: _stop_if(network, cancelled))])
    return network


def blend_decision(model, pixels: tuple[np.ndarray, np.ndarray], dataset, classes, seed: int,
                   cancelled=lambda: False) -> tuple[dict, keras.Model | None]:
    """Fit the per-pixel network on ``pixels`` (values, labels), score a Keras ``model`` blended with it at each of
    :data:`WEIGHTS` on ``dataset`` (batches of normalised image, label, mask) and decide by the rule above: (the
    record a bundle keeps, training.models.pixel_blend.RECORD; the per-pixel network, or None where it is not
    blended); after a cancel (``cancelled()`` true) nothing is blended."""
    values, labels = pixels
    if len(labels) < MIN_PIXELS:
        return not_measured(f"only {len(labels)} labelled training pixels, fewer than {MIN_PIXELS}"), None
    started = time.monotonic()
    pixel_network = fit_pixel_network(values, labels, len(classes), seed, cancelled)
    if cancelled():
        return not_measured("training was cancelled"), None
    names, totals = [c.name for c in classes], [0] * len(WEIGHTS)
    for images, truth, _ in dataset:
        images, truth = np.asarray(images), np.asarray(truth)
        network = np.asarray(model.predict_on_batch(images))
        pixel = np.asarray(pixel_network.predict_on_batch(images.reshape(-1, images.shape[-1]))).reshape(network.shape)
        for i, weight in enumerate(WEIGHTS):
            found = blend_probabilities(network, pixel, weight).argmax(-1)
            totals[i] = totals[i] + confusion_matrix(truth, found, len(names))
    if not np.asarray(totals[0]).sum():
        return not_measured("no labelled validation pixel to check it on"), None
    by_weight = [scores(np.asarray(total), names)["mean_iou"] for total in totals]
    best = int(np.argmax(by_weight))
    gain = by_weight[best] - by_weight[0]
    weight = WEIGHTS[best] if gain > MIN_GAIN else 0.0
    record = {"weight": weight, "mean_iou_by_weight": {str(w): iou for w, iou in zip(WEIGHTS, by_weight)},
              "gain": gain, "min_gain": MIN_GAIN, "pixels": int(len(labels)), "seconds": time.monotonic() - started}
    return record, pixel_network if weight else None


def _stop_if(network: keras.Model, cancelled) -> None:
    if cancelled():
        network.stop_training = True
