"""Where to label next: squares of a raster where a model is most uncertain, spread out, shared among the classes
it predicts, and away from the pixels already labelled (uncertainty sampling, as in active learning).

The raster is cut into a grid of ``size``×``size`` squares; a square is a candidate where every pixel has a class
and an uncertainty and none is labelled or next to a labelled pixel. Each candidate has its mean uncertainty and
its predicted class (the most frequent in it). :func:`select` picks the most uncertain candidates, round by round
one per predicted class, so that rare classes get their share, then the most uncertain of any class, never two
closer than a minimum distance.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.classes import NODATA_CLASS


@dataclass(frozen=True)
class Square:
    """A suggested square: its top-left pixel (``row``, ``col``), predicted class and mean uncertainty (0–1)."""

    row: int
    col: int
    predicted: int
    uncertainty: float


def candidates(uncertainty: np.ndarray, classes: np.ndarray, labelled: np.ndarray, size: int) -> list[Square]:
    """The grid's squares of ``size`` px that can be suggested: none of their pixels nodata (NaN uncertainty or
    class 255) nor labelled, nor touching a ``labelled`` pixel (8 neighbours)."""
    rows, cols = (side // size * size for side in uncertainty.shape)
    blocked = _grown(labelled) | np.isnan(uncertainty) | (classes == NODATA_CLASS)
    blocks = [_squares(values[:rows, :cols], size) for values in (uncertainty, classes, blocked)]
    free = ~blocks[2].any(axis=-1)
    means = np.where(free[..., np.newaxis], blocks[0], 0).mean(axis=-1)
    return [Square(int(r) * size, int(c) * size, _majority(blocks[1][r, c]), float(means[r, c]))
            for r, c in zip(*np.nonzero(free))]


def select(squares: list[Square], count: int, min_distance: float) -> list[Square]:
    """Up to ``count`` of ``squares``, no two closer than ``min_distance`` px (between their corners, as between
    their centres): ``count`` // classes of each predicted class, taken in turns, then the most uncertain of any
    class for the rest; the most uncertain first within each."""
    ranked = sorted(squares, key=lambda square: (-square.uncertainty, square.row, square.col))
    by_class = {value: [s for s in ranked if s.predicted == value] for value in sorted({s.predicted for s in ranked})}
    chosen: list[Square] = []
    for _ in range(count // max(len(by_class), 1)):
        for queue in by_class.values():
            _take(queue, chosen, min_distance)
    while len(chosen) < count and _take(ranked, chosen, min_distance):
        pass
    return chosen


def _take(queue: list[Square], chosen: list[Square], min_distance: float) -> bool:
    """Move the first square of ``queue`` far enough from every chosen one into ``chosen`` (dropping those before
    it, and those chosen already); False when there is none."""
    while queue:
        square = queue.pop(0)
        if square not in chosen and all(
                np.hypot(square.row - other.row, square.col - other.col) >= min_distance for other in chosen):
            chosen.append(square)
            return True
    return False


def _grown(mask: np.ndarray) -> np.ndarray:
    """``mask`` with each set pixel's 8 neighbours set too."""
    padded = np.pad(mask, 1)
    height, width = mask.shape
    return np.logical_or.reduce([padded[dy:dy + height, dx:dx + width] for dy in range(3) for dx in range(3)])


def _squares(values: np.ndarray, size: int) -> np.ndarray:
    """(rows, cols) → (rows / size, cols / size, size²): each square's pixels."""
    rows, cols = values.shape
    return values.reshape(rows // size, size, cols // size, size).swapaxes(1, 2).reshape(
        rows // size, cols // size, size * size)


def _majority(values: np.ndarray) -> int:
    return int(np.bincount(values).argmax())
