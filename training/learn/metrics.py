"""Segmentation metrics from a confusion matrix, unlabelled pixels never counting; and the model files scored,
run as :func:`scoring_model` runs them."""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ..data.classes import NODATA_CLASS
from ..models.bundle import load_bundle
from ..models.onnx_metadata import is_onnx, onnx_probabilities, onnx_session
from .objects import ObjectCounts


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted classes; pixels labelled 255 are left out."""
    keep = (truth != NODATA_CLASS) & (truth < num_classes)
    index = truth[keep].astype(np.int64) * num_classes + predicted[keep].astype(np.int64)
    return np.bincount(index, minlength=num_classes**2).reshape(num_classes, num_classes)


def scores(matrix: np.ndarray, class_names: list[str]) -> dict:
    """Pixel accuracy, per-class IoU and F1, and their unweighted (macro) means over classes present."""
    matrix = matrix.astype(np.float64)
    true_positive = np.diag(matrix)
    actual, predicted = matrix.sum(axis=1), matrix.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = true_positive / (actual + predicted - true_positive)
        f1 = 2 * true_positive / (actual + predicted)
    present = actual > 0
    total = matrix.sum()
    return {
        "pixels": int(total),
        "pixel_accuracy": float(true_positive.sum() / total) if total else float("nan"),
        "mean_iou": float(np.nanmean(iou[present])) if present.any() else float("nan"),
        "mean_f1": float(np.nanmean(f1[present])) if present.any() else float("nan"),
        "iou": {name: _number(v) for name, v in zip(class_names, iou)},
        "f1": {name: _number(v) for name, v in zip(class_names, f1)},
        "confusion_matrix": matrix.astype(np.int64).tolist(),
    }


def class_counts(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Labelled pixels per class 0 … ``num_classes`` − 1."""
    return np.bincount(labels[labels < num_classes].ravel(), minlength=num_classes)[:num_classes]


def majority_baseline(train_counts: np.ndarray, test_counts: np.ndarray) -> dict:
    """Accuracy of always predicting the most frequent training class, from pixels per class."""
    majority = int(np.argmax(train_counts))
    total = int(np.sum(test_counts))
    return {"class": majority, "pixel_accuracy": float(test_counts[majority] / total) if total else float("nan")}


def scoring_model(model_path: str, shape: tuple[int, int, int, int]
                  ) -> tuple[Callable[[np.ndarray], np.ndarray], int | None]:
    """The model file at ``model_path`` as *Evaluate* and *Compare* score it, on normalised chips of ``shape``
    (batches of at most ``shape[0]``): the function answering a batch's class probabilities, and the parameter
    count. A GeoSeg model runs in Keras, as training scores it; an ONNX model on ONNX Runtime, as classify runs it
    (training.models.onnx_metadata.onnx_probabilities), its parameters uncounted."""
    if is_onnx(model_path):
        return onnx_probabilities(model_path, onnx_session(model_path), shape), None
    model, _ = load_bundle(model_path)
    return model.predict_on_batch, model.count_params()


def model_scores(predict, dataset, classes) -> dict:
    """:func:`scores` of a model on a dataset of (normalised image, label, mask) batches, one batch at a time, with
    the object metrics of each chip or tile scored whole (:func:`object_scores`); ``predict`` answers a batch's
    class probabilities (a Keras model's ``predict_on_batch``, or :func:`scoring_model`'s)."""
    return timed_scores(predict, dataset, classes, warm_up=False)[0]


def timed_scores(predict, dataset, classes, warm_up: bool = True) -> tuple[dict, float]:
    """:func:`model_scores` and the megapixels the model classifies a second (reading not counted; with
    ``warm_up``, the first batch is classified once more before, untimed)."""
    matrix = np.zeros((len(classes), len(classes)), np.int64)
    objects = ObjectCounts(len(classes))
    pixels, seconds = 0, 0.0
    for images, labels, _ in dataset:
        if warm_up and not pixels:
            predict(images)
        start = time.perf_counter()
        predicted = np.asarray(predict(images)).argmax(axis=-1)
        seconds += time.perf_counter() - start
        pixels += predicted.size
        matrix += confusion_matrix(np.asarray(labels), predicted, len(classes))
        objects.add(labels, predicted)
    speed = pixels / seconds / 1e6 if seconds else float("nan")
    return object_scores(matrix, objects, [c.name for c in classes]), speed


def predicted_classes(predict, images: np.ndarray, batch_size: int) -> np.ndarray:
    """The most probable class of each pixel of normalised ``images``, ``batch_size`` images at a time."""
    return np.concatenate([np.asarray(predict(images[start:start + batch_size])).argmax(axis=-1)
                           for start in range(0, len(images), batch_size)])


def object_scores(matrix: np.ndarray, objects: ObjectCounts, class_names: list[str]) -> dict:
    """:func:`scores` of the confusion ``matrix`` with the object metrics of the same images
    (training.learn.objects: ``objects`` and ``mean_object_f1``)."""
    return {**scores(matrix, class_names), **objects.scores(class_names, matrix.sum(axis=1))}


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)
