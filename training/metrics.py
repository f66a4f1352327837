"""Segmentation metrics from a confusion matrix; unlabelled pixels never count."""
from __future__ import annotations

import time

import numpy as np

from .classes import NODATA_CLASS


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


def majority_baseline(train_labels: np.ndarray, test_labels: np.ndarray, num_classes: int) -> dict:
    """Accuracy of always predicting the most frequent training class."""
    counts = np.bincount(train_labels[train_labels < num_classes].ravel(), minlength=num_classes)
    majority = int(counts.argmax())
    labelled = test_labels[test_labels < num_classes]
    accuracy = float((labelled == majority).mean()) if labelled.size else float("nan")
    return {"class": majority, "pixel_accuracy": accuracy}


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def model_scores(model, images: np.ndarray, labels: np.ndarray, classes, batch_size: int) -> dict:
    """:func:`scores` of a Keras ``model`` on normalised ``images`` against ``labels``."""
    predicted = model.predict(images, batch_size=batch_size, verbose=0).argmax(axis=-1)
    return scores(confusion_matrix(labels, predicted, len(classes)), [c.name for c in classes])


def timed_scores(model, images: np.ndarray, labels: np.ndarray, classes, batch_size: int) -> tuple[dict, float]:
    """:func:`model_scores` and the megapixels classified a second, timed after one warm-up batch."""
    model.predict(images[:batch_size], verbose=0)
    start = time.perf_counter()
    metrics = model_scores(model, images, labels, classes, batch_size)
    return metrics, images[..., 0].size / (time.perf_counter() - start) / 1e6
