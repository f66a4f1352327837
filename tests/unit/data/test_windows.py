"""Training from a raster: strips, random windows and evaluation tiles."""
import numpy as np
import pytest

from training.data.windows import Strip, WindowSampler, split_strips, tiles


def labels(height=96, width=320):
    values = np.random.default_rng(0).integers(0, 3, (height, width)).astype(np.uint8)
    values[:, 100:140] = 255  # an unlabelled band across the training strip
    return values


def test_strips_run_across_the_longer_side_and_hold_their_shares():
    strips = split_strips(labels(), (0.2, 0.15), 32)
    assert [strips[n].x0 for n in ("train", "validation", "test")] == [0, strips["train"].x1, strips["validation"].x1]
    assert strips["test"].x1 == 320 and all(s.y0 == 0 and s.y1 == 96 for s in strips.values())
    labelled = (labels() != 255).sum(axis=0)
    share = labelled[strips["validation"].x0:strips["validation"].x1].sum() / labelled.sum()
    assert share == pytest.approx(0.2, abs=0.01)
    assert split_strips(labels().T, (0.2, 0.0), 32).keys() == {"train", "validation"}  # taller: rows


def test_windows_never_cross_the_training_strip_and_hold_labelled_pixels():
    values = labels()
    strip = split_strips(values, (0.2, 0.1), 32)["train"]
    sampler = WindowSampler(values, strip, 32, 2000, seed=0)
    corners = sampler.windows()
    assert len(corners) == 2000
    assert (corners[:, 1] >= strip.x0).all() and (corners[:, 1] + 32 <= strip.x1).all()
    assert (corners[:, 0] >= 0).all() and (corners[:, 0] + 32 <= 96).all()
    assert all((values[y:y + 32, x:x + 32] != 255).any() for y, x in corners)
    assert not np.array_equal(corners, sampler.windows())  # new windows every epoch


def test_windows_wholly_unlabelled_are_skipped():
    values = np.full((64, 200), 255, np.uint8)
    values[10:14, 150:154] = 1  # the only labels
    corners = WindowSampler(values, Strip(0, 64, 0, 200), 32, 500, seed=1).windows()
    assert ((corners[:, 1] > 150 - 32) & (corners[:, 1] <= 153) & (corners[:, 0] <= 13)).all()


def test_tiles_cover_a_strip_counting_every_labelled_pixel_once():
    values = labels()
    strip = Strip(0, 96, 200, 290)
    found = list(tiles(values, strip, 64))
    assert all(strip.x0 <= x and x + 64 <= strip.x1 and y + 64 <= 96 for y, x, _ in found)
    assert sum((tile != 255).sum() for *_, tile in found) == (values[:, 200:290] != 255).sum()


def test_strips_too_narrow_for_a_window_are_an_error():
    with pytest.raises(ValueError, match="too small"):
        split_strips(labels(96, 100), (0.2, 0.1), 64)
