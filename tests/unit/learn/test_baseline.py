"""The per-pixel baseline: real figures on toy problems, scored on exactly the labelled pixels the network is."""
import sys

import numpy as np

from training.data.classes import NODATA_CLASS, class_scheme
from training.learn.baseline import METHOD, fit_baseline, missing, recorded_decision
from training.learn.metrics import confusion_matrix, scores

CLASSES = class_scheme(["a", "b", "c"])


def toy(count, seed, separable=True):
    """``count`` pixels of 4 bands: with ``separable``, each class has its own mean (noise 0.1 around 0, 2, 4 in
    every band); else the labels are drawn apart from the values."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, count).astype(np.uint8)
    values = rng.normal(0, 0.1, (count, 4)) + (2.0 * labels[:, None] if separable else rng.normal(0, 1, (count, 4)))
    return values.astype(np.float32), labels


def batches(values, labels, size=8):
    """(image, label, mask) batches of 8×8 chips, as training.data.dataset gives them, the first row of each chip
    unlabelled."""
    images, chips = values.reshape(-1, 8, 8, values.shape[-1]), labels.reshape(-1, 8, 8).astype(np.int32).copy()
    chips[:, 0] = NODATA_CLASS
    return [(images[i:i + size], chips[i:i + size], (chips[i:i + size] != NODATA_CLASS).astype(np.float32))
            for i in range(0, len(images), size)]


def test_a_separable_problem_scores_about_one_and_a_random_one_does_not():
    separable = fit_baseline(*toy(5000, 0), 3).scores(batches(*toy(64 * 40, 1)), CLASSES)
    assert separable["method"] == METHOD and separable["sample_pixels"] == 5000
    assert separable["pixel_accuracy"] > 0.99 and separable["mean_iou"] > 0.98
    random = fit_baseline(*toy(5000, 0, separable=False), 3).scores(batches(*toy(64 * 40, 1, separable=False)),
                                                                    CLASSES)
    assert 0.2 < random["pixel_accuracy"] < 0.5 and random["mean_iou"] < 0.35


def test_it_scores_exactly_the_labelled_pixels_as_the_metrics_do():
    values, labels = toy(64 * 10, 2, separable=False)
    pixel = fit_baseline(*toy(2000, 3, separable=False), 3)
    figures = pixel.scores(batches(values, labels), CLASSES)
    keep = np.arange(len(labels)).reshape(-1, 8, 8)[:, 1:].ravel()  # every chip's first row is unlabelled
    expected = scores(confusion_matrix(labels[keep], pixel.predict(values[keep]), 3), ["a", "b", "c"])
    assert figures["pixels"] == 10 * 56 and figures["confusion_matrix"] == expected["confusion_matrix"]
    assert {key: figures[key] for key in expected} == expected
    assert figures["fit_seconds"] > 0 and figures["megapixels_per_second"] > 0


def test_the_same_sample_fits_the_same_classifier():
    values, labels = toy(3000, 4, separable=False)
    first, second = fit_baseline(values, labels, 3), fit_baseline(values, labels, 3)
    test = toy(2000, 5, separable=False)[0]
    np.testing.assert_array_equal(first.predict(test), second.predict(test))
    assert first.predict(test.reshape(10, 10, 20, 4)).shape == (10, 10, 20)


def test_samples_without_two_pixels_of_each_class_or_with_unknown_classes_still_fit():
    values, labels = toy(300, 6)
    labels[0], labels[1] = 2, 7  # one pixel of class 2 (too few for a stratified early-stopping split), one unknown
    labels[2:] = np.where(labels[2:] == 2, 0, labels[2:])
    pixel = fit_baseline(values, labels, 3)
    assert pixel.sample_pixels == 299 and set(pixel.predict(values)) <= {0, 1, 2}
    single = fit_baseline(values[:50], np.ones(50, np.uint8), 3)
    assert (single.predict(values) == 1).all()
    assert fit_baseline(values[:0], labels[:0], 3) is None


def test_fitting_fifty_thousand_pixels_of_twelve_bands_takes_seconds():
    values, labels = toy(50_000, 7)
    values = np.concatenate([values, values ** 2, np.sqrt(np.abs(values))], axis=1)
    assert fit_baseline(values, labels, 3).fit_seconds < 20


def test_a_python_without_scikit_learn_is_told_why_there_is_no_baseline(monkeypatch):
    assert missing() == ""
    monkeypatch.setitem(sys.modules, "sklearn", None)  # as if it were not installed
    assert missing().startswith("scikit-learn is not installed in the Python running GeoSeg's jobs")


def test_a_rare_class_decision_weighs_its_probability_and_is_reported_and_recorded():
    values, labels = toy(3000, 7, separable=False)
    pixel = fit_baseline(values, labels, 3)
    test, test_labels = toy(64 * 10, 8, separable=False)
    np.testing.assert_array_equal(pixel.predict(test), pixel.classifier.predict(test))  # no decision: the classifier's
    assert "rare_decision" not in pixel.scores(batches(test, test_labels), CLASSES)
    rules = {"c": {"factor": 1000.0, "validation_f1": [0.1, 0.2]}}
    pixel.decide(rules, CLASSES)
    probabilities = pixel.probabilities(test)
    assert probabilities.shape == (len(test), 3) and np.allclose(probabilities.sum(-1), 1)
    np.testing.assert_array_equal(pixel.predict(test), (probabilities * [1, 1, 1000]).argmax(-1))
    assert (pixel.predict(test) == 2).mean() > 0.95 > (pixel.classifier.predict(test) == 2).mean()
    assert pixel.scores(batches(test, test_labels), CLASSES)["rare_decision"] == rules
    assert recorded_decision({"pixel_baseline": {"rare_decision": rules}}) == rules
    assert recorded_decision({"pixel_baseline": None}) == {}
