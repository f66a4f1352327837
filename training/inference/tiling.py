"""Tile geometry: overlapping tiles fitted to a raster, and the weight window that blends them."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..architectures import INPUT_MULTIPLE
from ..errors import GeoSegError


@dataclass(frozen=True)
class TileAxis:
    """Tiles along one side of the raster: the side's ``length``, the tiles' ``side``, start ``offsets`` and
    the ``overlap`` their blend weights ramp across."""

    length: int
    side: int
    offsets: tuple[int, ...]
    overlap: int

    @classmethod
    def fit(cls, length: int, tile: int, overlap: int) -> TileAxis:
        """Tiles of at most ``tile`` px, neighbours overlapping by at least ``overlap`` px, spread evenly from
        edge to edge. Of the tile counts that can cover ``length``, the one computing the fewest pixels wins
        (then the fewest tiles); a side shorter than ``tile`` gets one tile, padded to a multiple of
        :data:`~training.architectures.INPUT_MULTIPLE`."""
        if length <= tile:
            return cls(length, _round_up(length), (0,), overlap)
        fewest = math.ceil((length - overlap) / (tile - overlap))
        count = min(range(fewest, 2 * fewest + 1), key=lambda n: (n * _side(length, n, overlap), n))
        side = _side(length, count, overlap)
        return cls(length, side, tuple(round(i * (length - side) / (count - 1)) for i in range(count)), overlap)

    def profile(self) -> np.ndarray:
        """A tile's blend weights along this axis: 1 inside, sin² ramps across the ``overlap`` at both ends,
        so that the ramps of two neighbours overlapping by ``overlap`` px sum to 1 (never 0). A lone tile
        has no neighbours to blend with: all 1."""
        weights = np.ones(self.side, np.float32)
        if len(self.offsets) == 1:
            return weights
        ramp = np.sin(np.pi / 2 * (np.arange(self.overlap) + 0.5) / max(self.overlap, 1)) ** 2
        weights[:self.overlap] = ramp
        weights[self.side - self.overlap:] = ramp[::-1]
        return weights

    def coverage(self) -> np.ndarray:
        """The tiles' blend weights summed per pixel along this axis (length at least one tile)."""
        total, profile = np.zeros(max(self.length, self.side), np.float32), self.profile()
        for offset in self.offsets:
            total[offset:offset + self.side] += profile
        return total


def _side(length: int, count: int, overlap: int) -> int:
    """The smallest tile side (a multiple of :data:`INPUT_MULTIPLE`) with which ``count`` tiles overlapping by
    ``overlap`` cover ``length``."""
    return _round_up(math.ceil((length + (count - 1) * overlap) / count))


def _round_up(length: int) -> int:
    return -(-length // INPUT_MULTIPLE) * INPUT_MULTIPLE


@dataclass(frozen=True)
class TileGrid:
    """Tiles of one shape, ``y.side`` × ``x.side``, covering the raster in rows (see :meth:`TileAxis.fit`)."""

    x: TileAxis
    y: TileAxis

    @classmethod
    def fit(cls, width: int, height: int, tile: int, overlap: int) -> TileGrid:
        if tile < INPUT_MULTIPLE or tile % INPUT_MULTIPLE:
            raise GeoSegError(f"Tile size {tile} must be a positive multiple of {INPUT_MULTIPLE}.")
        if not 0 <= overlap <= tile // 2:
            raise GeoSegError(f"Overlap {overlap} must lie between 0 and half the tile size ({tile // 2}).")
        return cls(TileAxis.fit(width, tile, overlap), TileAxis.fit(height, tile, overlap))

    @property
    def count(self) -> int:
        return len(self.x.offsets) * len(self.y.offsets)

    def window(self) -> np.ndarray:
        """A tile's (height, width) blend weights; separable, so the weights of all tiles sum to the outer
        product of the axes' coverages."""
        return np.outer(self.y.profile(), self.x.profile())
