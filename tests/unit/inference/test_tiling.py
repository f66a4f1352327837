"""Tile geometry: tiles fitted to a raster's sides, and the separable window that blends them."""
import numpy as np
import pytest

from training.architectures import INPUT_MULTIPLE
from training.inference.tiling import TileAxis, TileGrid


@pytest.mark.parametrize("tile, overlap", [(64, 16), (512, 32), (256, 0)])
def test_tiles_cover_each_side_with_at_least_the_overlap(tile, overlap):
    for length in [*range(1, 1100, 7), 4096, 10980]:
        axis = TileAxis.fit(length, tile, overlap)
        assert axis.side % INPUT_MULTIPLE == 0 and axis.side <= tile
        assert axis.offsets[0] == 0 and axis.offsets[-1] + axis.side >= length
        if len(axis.offsets) > 1:
            assert axis.offsets[-1] + axis.side == length
            assert all(b - a <= axis.side - overlap for a, b in zip(axis.offsets, axis.offsets[1:]))


def test_tiles_are_fitted_to_compute_few_pixels():
    # Fixed 512 px tiles with a 480 px stride need 9 tiles (4608 px) for 4096 px; 10 tiles of 448 px need 4480.
    axis = TileAxis.fit(4096, 512, 32)
    assert (axis.side, len(axis.offsets)) == (448, 10)
    assert TileAxis.fit(520, 512, 32).side == 288  # two small tiles, not two of 512 px


@pytest.mark.parametrize("width, height, tile, overlap", [(1000, 700, 256, 32), (300, 5000, 448, 64), (40, 40, 64, 16)])
def test_blend_weights_sum_to_the_product_of_the_coverages_and_never_vanish(width, height, tile, overlap):
    grid = TileGrid.fit(width, height, tile, overlap)
    total = np.zeros((max(height, grid.y.side), max(width, grid.x.side)), np.float32)
    for y in grid.y.offsets:
        for x in grid.x.offsets:
            total[y:y + grid.y.side, x:x + grid.x.side] += grid.window()
    np.testing.assert_allclose(total, np.outer(grid.y.coverage(), grid.x.coverage()), rtol=1e-5)
    assert total[:height, :width].min() > 0


@pytest.mark.parametrize("tile, overlap, message", [(48, 8, "multiple of 32"), (0, 0, "multiple of 32"),
                                                    (64, 40, "between 0 and half")])
def test_bad_tile_settings_are_refused(tile, overlap, message):
    with pytest.raises(ValueError, match=message):
        TileGrid.fit(100, 100, tile, overlap)
