import numpy as np
import pytest

from training.models.flips import RECORD, flip_averaged, flips_used, summary


def looks_up_and_left(images: np.ndarray) -> np.ndarray:
    """A prediction no mirror image leaves alone: running sums down and across each tile, two 'classes'."""
    return np.stack([images.sum(-1).cumsum(1), images.sum(-1).cumsum(2)], axis=-1)


def test_the_flip_averaged_prediction_is_the_mean_of_the_four_views_each_mirrored_back():
    batch = np.random.default_rng(0).random((3, 8, 12, 4)).astype(np.float32)
    views = [looks_up_and_left(batch)] + [np.flip(looks_up_and_left(np.flip(batch, axes)), axes)
                                          for axes in ((2,), (1,), (1, 2))]
    averaged = flip_averaged(looks_up_and_left)(batch)
    assert not np.allclose(views[0], views[1])  # the views differ, so the mean is no plain prediction
    np.testing.assert_allclose(averaged, np.mean(views, axis=0), rtol=1e-6)


@pytest.mark.parametrize("recorded, auto", [({"on": True}, True), ({"on": False}, False), (None, False)])
def test_on_and_off_are_as_said_and_auto_is_the_recorded_decision(recorded, auto):
    metrics = {RECORD: recorded} if recorded is not None else {}
    assert flips_used("on", metrics) and not flips_used("off", metrics)
    assert flips_used("auto", metrics) == auto


def test_the_summary_gives_the_decision_and_its_figures():
    record = {"on": False, "mean_iou_plain": 0.61234, "mean_iou_flipped": 0.61456, "gain": 0.00222,
              "noise": 0.0031, "windows": 12, "min_gain": 0.005}
    said = summary({RECORD: record})
    assert said.startswith("Flip averaging: off for the automatic choice; on 12 validation windows")
    assert all(figure in said for figure in ("0.6123 without", "0.6146 with", "gain +0.0022", "noise ±0.0031",
                                             "0.0050 needed"))
    assert "noise unknown" in summary({RECORD: {**record, "noise": None, "windows": 1}})
    assert "no decision recorded" in summary({})
