"""The per-pixel baseline beside every network: does deep learning pay on these data?

scikit-learn's histogram gradient boosting (its wheels bundle OpenMP on every platform) learns each pixel's
class from its own normalised band values, without its neighbourhood, from a seeded sample of labelled
training pixels (training.data.dataset's ``pixels``; the model file keeps it), and is scored on the very
held-out pixels the network is scored on. Where training tunes a rare class's decision for the network
(training.learn.decision), it tunes the baseline's own on the same validation pixels, so that the margin on a
rare class is not flattered; the model file records those rules, and a refit applies them. It runs on one
thread: on two cores shared with another busy process, two OpenMP threads took 20–44 s to fit 50 000 pixels of
12 bands, one thread 1.6–2.4 s.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .metrics import confusion_matrix, object_scores
from .objects import ObjectCounts

METHOD = "Pixel classifier (gradient boosting, per pixel)"
SAMPLE_PIXELS = 50_000  # labelled training pixels it is fitted on
NO_PIXELS = ("No training pixels are kept in the model file (it was written before GeoSeg kept them), so the per-pixel "
             "baseline is not shown.")
ONNX_PIXELS = ("An ONNX model keeps no training pixels (an export leaves them out), so the per-pixel baseline is not "
               "shown: give the .keras model it was exported from to see it.")
SEED = 0  # the classifier's own (its early-stopping split): fixed, so a model file's sample refits alike
ROUNDS = 100  # at most; early stopping on a tenth of the sample ends it once 10 rounds bring nothing
LEAVES = 31


@dataclass
class PixelBaseline:
    """A classifier of single pixels fitted on ``sample_pixels`` training pixels in ``fit_seconds``; each class's
    probability weighed by its prior ``factors`` (all 1 unless :meth:`decide` set a rare class's) before the most
    probable class is picked."""

    classifier: object
    sample_pixels: int
    fit_seconds: float
    factors: np.ndarray
    decision: dict = field(default_factory=dict)  # per class name, its rule (training.learn.decision)

    def decide(self, rules: dict, classes) -> None:
        """Decide with the rare classes' ``rules`` (per class name, its ``factor``) among ``classes``."""
        self.decision = rules
        self.factors = np.array([rules.get(c.name, {}).get("factor", 1.0) for c in classes])

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Every pixel's class probabilities (..., classes) for ``images`` (..., bands), normalised as the sample
        was; 0 for a class the sample lacked."""
        from threadpoolctl import threadpool_limits

        values = np.asarray(images, np.float32)
        found, learnt = np.zeros((*values.shape[:-1], len(self.factors)), np.float32), self.classifier.classes_
        if len(learnt) == 1:  # a sample of one class (scikit-learn answers two columns then)
            found[..., learnt[0]] = 1
        elif values[..., 0].size:
            with threadpool_limits(1, user_api="openmp"):
                found[..., learnt] = self.classifier.predict_proba(
                    values.reshape(-1, values.shape[-1])).reshape(*values.shape[:-1], -1)
        return found

    def predict(self, images: np.ndarray) -> np.ndarray:
        """The class of every pixel of ``images`` (..., bands)."""
        return (self.probabilities(images) * self.factors).argmax(axis=-1).astype(np.uint8)

    def scores(self, batches, classes) -> dict:
        """:func:`~training.learn.metrics.object_scores` over ``batches`` of (normalised image, label, mask), as the
        network is scored: whole images classified, labelled pixels of a known class scored; with the ``method``,
        ``sample_pixels``, ``fit_seconds`` and ``megapixels_per_second`` (pixels classified a second)."""
        matrix = np.zeros((len(classes), len(classes)), np.int64)
        objects = ObjectCounts(len(classes))
        pixels, seconds = 0, 0.0
        for images, labels, _ in batches:
            labels = np.asarray(labels)
            start = time.perf_counter()
            predicted = self.predict(np.asarray(images))
            seconds += time.perf_counter() - start
            pixels += predicted.size
            matrix += confusion_matrix(labels, predicted, len(classes))
            objects.add(labels, predicted)
        return {**object_scores(matrix, objects, [c.name for c in classes]), "method": METHOD,
                "sample_pixels": self.sample_pixels, "fit_seconds": self.fit_seconds,
                "megapixels_per_second": pixels / seconds / 1e6 if seconds else float("nan"),
                **({"rare_decision": self.decision} if self.decision else {})}


def missing() -> str:
    """Why this Python cannot fit the baseline ("" where scikit-learn imports): a Python chosen by hand may lack
    it, and training should not fail for it once the network is trained."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return ("scikit-learn is not installed in the Python running GeoSeg's jobs, so the per-pixel baseline is not "
                "shown: install it there (pip install scikit-learn) or set up GeoSeg's environment")
    return ""


def recorded_decision(metrics: dict) -> dict:
    """The rare classes' rules of the baseline whose scores a model file's ``metrics`` record, for a refit."""
    return (metrics.get("pixel_baseline") or {}).get("rare_decision", {})


def fit_baseline(values: np.ndarray, labels: np.ndarray, num_classes: int) -> PixelBaseline | None:
    """Fit on training pixels, band values (N, bands) and labels (N,); None without a pixel of a known class."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    known = np.asarray(labels) < num_classes
    values, labels = np.asarray(values, np.float32)[known], np.asarray(labels, np.uint8)[known]
    if not len(labels):
        return None
    counts = np.unique(labels, return_counts=True)[1]
    # Early stopping splits off a stratified tenth: every class needs two pixels, the tenth one of each class.
    early = bool(counts.min() >= 2 and len(labels) // 10 >= len(counts))
    classifier = HistGradientBoostingClassifier(learning_rate=0.1, max_iter=ROUNDS, max_leaf_nodes=LEAVES,
                                                early_stopping=early, validation_fraction=0.1, n_iter_no_change=10,
                                                random_state=SEED)
    start = time.perf_counter()
    with threadpool_limits(1, user_api="openmp"):
        classifier.fit(values, labels)
    return PixelBaseline(classifier, len(labels), time.perf_counter() - start, np.ones(num_classes))
