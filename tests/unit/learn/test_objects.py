"""Object metrics on hand-made masks: every case the matching rule names."""
import numpy as np
import pytest

from training.learn.objects import ObjectCounts, match_objects


def masks(shape=(12, 12)):
    return np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)


def test_exact_matches_and_diagonal_pixels_make_one_object():
    truth, predicted = masks()
    truth[1:3, 1:4] = predicted[1:3, 1:4] = 1
    truth[6, 6] = truth[7, 7] = predicted[6, 6] = predicted[7, 7] = 1  # touching by a corner: one object
    assert match_objects(truth, predicted, 1) == (2, 2, 2)


def test_a_split_object_matches_one_piece_the_other_is_a_false_alarm():
    truth, predicted = masks()
    truth[2:4, 1:9] = 1  # one vessel of 16 pixels
    predicted[2:4, 1:4] = predicted[2:4, 6:9] = 1  # predicted as two pieces of 6 pixels: IoU 0.375 each
    assert match_objects(truth, predicted, 1) == (1, 2, 1)


def test_a_merged_object_matches_one_reference_the_other_is_missed():
    truth, predicted = masks()
    truth[2:4, 1:4] = truth[2:4, 6:9] = 1
    predicted[2:4, 1:9] = 1
    assert match_objects(truth, predicted, 1) == (1, 1, 2)


def test_the_centroid_rule_matches_below_the_iou_threshold():
    truth, predicted = masks()
    truth[1:10, 1:10] = 1  # 81 pixels
    predicted[4:7, 4:7] = 1  # 9 pixels inside it: IoU 0.11, centroid inside
    assert match_objects(truth, predicted, 1) == (1, 1, 1)
    predicted[:] = 0
    predicted[0:3, 9:12] = 1  # overlaps two pixels, centroid (1, 10) outside the reference
    assert match_objects(truth, predicted, 1) == (0, 1, 1)


def test_missed_objects_and_false_alarms():
    truth, predicted = masks()
    truth[1:3, 1:3] = 1  # missed
    predicted[8:10, 8:10] = 1  # false alarm
    assert match_objects(truth, predicted, 1) == (0, 1, 1)


def test_predicted_objects_in_unlabelled_pixels_are_not_counted():
    truth, predicted = masks()
    truth[:, 6:] = 255
    predicted[2:4, 8:10] = 1  # wholly unlabelled: not counted
    truth[7:9, 2:6] = 1
    predicted[7:9, 2:9] = 1  # 4 labelled pixels right, 6 on unlabelled ground: IoU 4/4 over labelled pixels
    assert match_objects(truth, predicted, 1) == (1, 1, 1)


def test_scores_add_up_over_images_and_skip_the_background_class():
    truth, predicted = masks((2, 12, 12))
    truth[0, 2:4, 1:9] = 1
    predicted[0, 2:4, 1:4] = predicted[0, 2:4, 6:9] = 1  # split: 1 match, 1 false alarm
    truth[1, 1:3, 1:3] = truth[1, 8:10, 8:10] = 1
    predicted[1, 1:3, 1:3] = 1  # 1 match, 1 missed
    counts = ObjectCounts(2)
    counts.add(truth, predicted)
    result = counts.scores(["Sea", "Vessel"], np.bincount(truth.ravel(), minlength=2))
    assert list(result["objects"]) == ["Vessel"]
    vessel = result["objects"]["Vessel"]
    assert (vessel["predicted"], vessel["reference"], vessel["count_error"]) == (3, 3, 0)
    assert vessel["precision"] == vessel["recall"] == vessel["f1"] == pytest.approx(2 / 3)
    assert result["mean_object_f1"] == pytest.approx(2 / 3)


def test_a_class_with_no_objects_has_no_ratios():
    truth, predicted = masks()
    counts = ObjectCounts(3)
    counts.add(truth, predicted)
    result = counts.scores(["Sea", "Vessel", "Buoy"], np.bincount(truth.ravel(), minlength=3))
    assert result["objects"]["Buoy"] == {"precision": None, "recall": None, "f1": None, "predicted": 0,
                                         "reference": 0, "count_error": 0}
    assert result["mean_object_f1"] is None
