"""Training from a raster: spatial blocks, random windows and evaluation tiles."""
import numpy as np
import pytest

from training.data.windows import Block, Scene, WindowSampler, mosaic, rare_classes, split_blocks, tiles


def labels(height=256, width=512):
    values = np.random.default_rng(0).integers(0, 3, (height, width)).astype(np.uint8)
    values[:, 100:140] = 255  # an unlabelled band
    return values


def held_out_mask(split, shape):
    mask = np.zeros(shape, bool)
    for block in split.validation + split.test:
        mask[block.area] = True
    return mask


def test_blocks_hold_their_shares_spread_over_the_area_and_never_overlap():
    values = labels()
    split = split_blocks(values, (0.2, 0.1), 64, 64)
    labelled = values != 255
    for blocks, share in ((split.validation, 0.2), (split.test, 0.1)):
        held = sum(labelled[b.area].sum() for b in blocks) / labelled.sum()
        assert share <= held < share + 0.05
    coverage = np.zeros(values.shape, int)
    for block in split.validation + split.test:
        coverage[block.area] += 1
    assert coverage.max() == 1  # no overlap
    assert len({b.x0 for b in split.validation}) > 1 and len({b.y0 for b in split.validation}) > 1  # not one strip
    assert split_blocks(values, (0.2, 0.1), 64, 64).validation == split.validation  # the labels decide, no seed


def test_training_keeps_half_a_window_away_from_validation_and_test():
    values = labels()
    split = split_blocks(values, (0.2, 0.1), 32, 128)
    assert split.buffer == 16
    held = held_out_mask(split, values.shape)
    near = np.zeros(values.shape, bool)
    for y, x in np.argwhere(held):  # every pixel within 16 px (Chebyshev) of a held-out pixel
        near[max(y - 16, 0):y + 17, max(x - 16, 0):x + 17] = True
    assert not (split.training & near).any()
    assert split.training.sum() > 0.3 * values.size


def test_every_class_reaches_validation_and_test_where_training_can_spare_it():
    values = np.zeros((256, 512), np.uint8)
    values[:64, :128] = 2  # class 2 in two blocks only (64-px blocks: (0, 0) and (0, 64))
    split = split_blocks(values, (0.2, 0.1), 32, 64)
    assert split.missing == {"validation": [], "test": [2]}
    assert any((values[b.area] == 2).any() for b in split.validation)
    assert (values[split.training] == 2).any()  # training kept one
    scarce = np.zeros((256, 512), np.uint8)
    scarce[:32, :32] = 1  # class 1 in one block only: training keeps it, validation and test go without
    split = split_blocks(scarce, (0.2, 0.1), 32, 64)
    assert split.missing == {"validation": [1], "test": [1]}


def test_windows_lie_wholly_in_the_training_area_and_hold_labelled_pixels():
    values = labels()
    split = split_blocks(values, (0.2, 0.1), 32, 64)
    sampler = WindowSampler(values, split.training, 32, 2000, seed=0)
    corners = sampler.windows()
    assert len(corners) == 2000
    assert all(split.training[y:y + 32, x:x + 32].all() for y, x in corners)
    assert all((values[y:y + 32, x:x + 32] != 255).any() for y, x in corners)
    assert not np.array_equal(corners, sampler.windows())  # new windows every epoch


def test_windows_wholly_unlabelled_are_skipped():
    values = np.full((64, 200), 255, np.uint8)
    values[10:14, 150:154] = 1  # the only labels
    corners = WindowSampler(values, np.ones(values.shape, bool), 32, 500, seed=1).windows()
    assert ((corners[:, 1] > 150 - 32) & (corners[:, 1] <= 153) & (corners[:, 0] <= 13)).all()


def test_tiles_cover_a_block_counting_every_labelled_pixel_once():
    values = labels()
    block = Block(0, 96, 200, 290)
    found = list(tiles(values, block, 64))
    assert all(block.x0 <= x and x + 64 <= block.x1 and y + 64 <= 96 for y, x, _ in found)
    assert sum((tile != 255).sum() for *_, tile in found) == (values[:96, 200:290] != 255).sum()


def test_a_labelled_area_too_small_for_blocks_is_an_error():
    with pytest.raises(ValueError, match="too small"):
        split_blocks(labels(64, 64), (0.2, 0.1), 32, 128)
    with pytest.raises(ValueError, match="two 64-px windows"):
        split_blocks(labels(128, 128), (0.2, 0.1), 64, 128)
    with pytest.raises(ValueError, match="No 32-px window"):
        WindowSampler(labels(128, 128), np.zeros((128, 128), bool), 32, 10, seed=0)


def test_a_mosaic_keeps_each_scene_whole_and_a_gap_of_nodata_around_it():
    rng = np.random.default_rng(0)
    scenes = [Scene(rng.random((h, w, 2)).astype(np.float32), rng.integers(0, 3, (h, w)).astype(np.uint8), names)
              for h, w, names in ((50, 120, None), (90, 40, ["a", "b", "c"]), (30, 30, None), (64, 200, None))]
    joined, corners = mosaic(scenes, gap=16)
    owner = np.full(joined.labels.shape, -1)
    for i, ((y, x), scene) in enumerate(zip(corners, scenes)):
        h, w = scene.labels.shape
        np.testing.assert_array_equal(joined.image[y:y + h, x:x + w], scene.image)
        np.testing.assert_array_equal(joined.labels[y:y + h, x:x + w], scene.labels)
        grown = owner[max(y - 15, 0):y + h + 15, max(x - 15, 0):x + w + 15]  # 15 px around: only gap
        assert (grown == -1).all(), "scenes closer than the gap"
        owner[y:y + h, x:x + w] = i
    assert (joined.labels[owner == -1] == 255).all() and np.isnan(joined.image[owner == -1]).all()
    assert joined.class_names == ["a", "b", "c"] and len({y for y, _ in corners}) > 1  # rows of scenes


def test_rare_windows_are_drawn_at_the_declared_share_and_without_focus_the_draws_are_uniform_ones():
    values = np.zeros((256, 256), np.uint8)
    values[200:204, 30:34] = 1  # 16 px of a rare class
    allowed = np.ones(values.shape, bool)
    assert rare_classes(np.bincount(values.ravel(), minlength=3), 0.02) == [1]
    sampler = WindowSampler(values, allowed, 32, 400, seed=0, focus=values == 1, focus_share=0.25)
    corners = sampler.windows()
    holds = [(values[y:y + 32, x:x + 32] == 1).any() for y, x in corners]
    assert sampler.focus_count == 100 and sum(holds) >= 100
    assert sum(holds) < 150  # the rest drawn among all windows, where few hold the class
    plain = WindowSampler(values, allowed, 32, 400, seed=0)
    expected = plain.corners[np.random.default_rng(0).integers(len(plain.corners), size=400)]
    np.testing.assert_array_equal(plain.windows(), expected)  # as before rare windows existed
    nothing = WindowSampler(values, allowed, 32, 400, seed=0, focus=values == 2, focus_share=0.5)
    assert nothing.focus_count == 0  # no window holds the focus: uniform draws
