"""Scores from confusion matrices, and the majority-class baseline."""
import numpy as np
import pytest

from training.learn.metrics import class_counts, confusion_matrix, majority_baseline, scores


def test_scores_ignore_unlabelled_pixels_and_average_over_present_classes():
    truth = np.array([[0, 0, 1, 1], [2, 2, 255, 255]])
    predicted = np.array([[0, 1, 1, 1], [2, 0, 2, 2]])
    matrix = confusion_matrix(truth, predicted, 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    result = scores(matrix, ["a", "b", "c"])
    assert result["pixel_accuracy"] == pytest.approx(4 / 6)
    assert result["iou"] == pytest.approx({"a": 1 / 3, "b": 2 / 3, "c": 1 / 2})
    assert result["mean_iou"] == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 3)
    assert result["f1"]["b"] == pytest.approx(0.8)


def test_majority_baseline_uses_the_training_majority():
    train = class_counts(np.array([1, 1, 1, 0, 255]), 2)
    test = class_counts(np.array([1, 0, 0, 255]), 2)
    assert list(train) == [1, 3]
    assert majority_baseline(train, test) == {"class": 1, "pixel_accuracy": pytest.approx(1 / 3)}
