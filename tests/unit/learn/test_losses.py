import numpy as np
import pytest

from training.learn.losses import SegmentationLoss, balanced_class_weights


def test_unlabelled_pixels_add_nothing_and_class_weights_scale_cross_entropy():
    y_pred = np.full((1, 1, 3, 2), 0.5, np.float32)
    y_true = np.array([[[0, 1, 255]]])
    plain = np.asarray(SegmentationLoss(2).call(y_true, y_pred))
    assert plain[0, 0] == pytest.approx([np.log(2), np.log(2), 0.0], rel=1e-5)
    weighted = np.asarray(SegmentationLoss(2, class_weights=[1.0, 3.0]).call(y_true, y_pred))
    assert weighted[0, 0] == pytest.approx([np.log(2), 3 * np.log(2), 0.0], rel=1e-5)


def test_dice_term_is_zero_for_a_perfect_prediction():
    y_true = np.array([[[0, 1, 255]]])
    perfect = np.array([[[[1, 0], [0, 1], [0.5, 0.5]]]], np.float32)
    loss = np.asarray(SegmentationLoss(2, dice_weight=1.0).call(y_true, perfect))
    assert loss[0, 0, :2] == pytest.approx([0.0, 0.0], abs=1e-5) and loss[0, 0, 2] == 0.0


def test_balanced_weights_favour_rare_classes():
    low, high = balanced_class_weights([90, 10])
    assert high == pytest.approx(9 * low) and (low + high) / 2 == pytest.approx(1.0)
