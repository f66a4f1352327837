"""Train straight from a raster and its labels: split the labelled area into strips, sample windows inside them.

The labelled extent is cut across its longer side into a training, a validation and a test strip (in that
order), each holding its share of the labelled pixels. No window ever crosses a strip's edge: training
windows are drawn at random inside the training strip every epoch (those without a labelled pixel are
skipped), and the validation and test strips are covered by fixed tiles that never count a pixel twice.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..architectures import INPUT_MULTIPLE
from ..errors import GeoSegError
from .chips import unlabelled_mask
from .classes import NODATA_CLASS
from .labels import label_names, labels_on_grid
from .raster import open_raster, read_valid

EVAL_TILE = 256  # side of the validation and test tiles (smaller where a strip is narrower)
MIN_STRIP = INPUT_MULTIPLE  # the narrowest validation or test strip: every architecture takes tiles this wide


@dataclass(frozen=True)
class Strip:
    """A rectangle of the raster, rows ``y0:y1`` and columns ``x0:x1``."""

    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def area(self) -> tuple[slice, slice]:
        """Index an (H, W, …) array with this to get the strip."""
        return np.s_[self.y0:self.y1, self.x0:self.x1]

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def width(self) -> int:
        return self.x1 - self.x0


@dataclass
class Scene:
    """A raster's chosen bands (H, W, B) and its labels (H, W; 255 unlabelled), cropped to the labelled extent."""

    image: np.ndarray
    labels: np.ndarray
    class_names: list[str] | None  # the label raster's category names, if it has any


def read_scene(image_path: str, label_path: str, bands: tuple[int, ...]) -> Scene:
    """Read the labels onto the image grid and both over the bounding box of the labelled pixels; pixels that
    are nodata, NaN or infinite in any band are NaN in the image and unlabelled."""
    image = open_raster(image_path, "image raster")
    label = labels_on_grid(image, label_path)
    values = label.GetRasterBand(1).ReadAsArray().astype(np.int64)
    labels = np.where(unlabelled_mask(values, label.GetRasterBand(1).GetNoDataValue()), NODATA_CLASS,
                      values).astype(np.uint8)
    labelled = labels != NODATA_CLASS
    rows, cols = np.nonzero(labelled.any(axis=1))[0], np.nonzero(labelled.any(axis=0))[0]
    if not rows.size:
        raise GeoSegError(f"The label raster {label_path} has no labelled pixel on the image {image_path}.")
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    data, invalid = read_valid(image, bands, (int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
    labels = labels[y0:y1, x0:x1]
    labels[invalid] = NODATA_CLASS
    if (labels == NODATA_CLASS).all():
        raise GeoSegError(f"Every labelled pixel of {label_path} lies on nodata (or NaN) pixels of {image_path}.")
    return Scene(data, labels, label_names(label))


def split_strips(labels: np.ndarray, shares: tuple[float, float], window: int) -> dict[str, Strip]:
    """Training, validation and test strips across the longer side, the last two holding ``shares`` of the
    labelled pixels (a test share of 0 gives no test strip). The training strip is at least ``window`` px
    wide, the others at least :data:`MIN_STRIP` px (their tiles' smallest side)."""
    height, width = labels.shape
    across_columns = width >= height
    counts = (labels != NODATA_CLASS).sum(axis=0 if across_columns else 1)
    cumulative = np.cumsum(counts) / counts.sum()
    length = len(counts)
    validation, test = shares
    test_start = min(int(np.searchsorted(cumulative, 1.0 - test)), length - MIN_STRIP) if test > 0 else length
    validation_start = min(int(np.searchsorted(cumulative, 1.0 - test - validation)), test_start - MIN_STRIP)
    if validation_start < window or min(height, width) < MIN_STRIP:
        raise GeoSegError(f"The labelled area ({width}×{height} px) is too small for a training strip of at least "
                          f"{window} px beside validation{' and test' if test > 0 else ''} strips of at least "
                          f"{MIN_STRIP} px: lower the window size or the shares.")
    cuts = {"train": (0, validation_start), "validation": (validation_start, test_start), "test": (test_start, length)}
    return {name: Strip(0, height, start, end) if across_columns else Strip(start, end, 0, width)
            for name, (start, end) in cuts.items() if end > start}


class WindowSampler:
    """Random ``size``-px windows inside ``strip`` with at least one labelled pixel, ``count`` per epoch."""

    def __init__(self, labels: np.ndarray, strip: Strip, size: int, count: int, seed: int):
        if strip.height < size or strip.width < size:
            raise GeoSegError(f"Windows of {size} px do not fit in the training strip ({strip.width}×{strip.height} "
                              "px): lower the window size.")
        labelled = (labels[strip.area] != NODATA_CLASS).astype(np.int64)
        total = np.pad(labelled.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
        # labelled pixels in the window whose top-left corner is (y, x), for every corner that fits
        inside = total[size:, size:] - total[:-size, size:] - total[size:, :-size] + total[:-size, :-size]
        corners = np.argwhere(inside > 0)
        self.corners = corners + (strip.y0, strip.x0)
        self.size, self.count = size, count
        self.rng = np.random.default_rng(seed)

    def windows(self) -> np.ndarray:
        """(count, 2) top-left corners (y, x) of this epoch's windows."""
        return self.corners[self.rng.integers(len(self.corners), size=self.count)]


def tiles(labels: np.ndarray, strip: Strip, size: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """``size``-px tiles covering ``strip`` (at least ``size`` px each way): (y, x, labels) with labels of
    pixels that an earlier tile counted set to 255, so that every pixel counts once; tiles without a labelled
    pixel are skipped."""
    counted = np.zeros(labels.shape, bool)
    for y in _starts(strip.y0, strip.y1, size):
        for x in _starts(strip.x0, strip.x1, size):
            window = np.s_[y:y + size, x:x + size]
            tile = np.where(counted[window], NODATA_CLASS, labels[window])
            counted[window] = True
            if (tile != NODATA_CLASS).any():
                yield y, x, tile


def tile_arrays(scene_image: np.ndarray, labels: np.ndarray, strip: Strip, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The tiles of ``strip`` as stacked images (N, s, s, B) and labels (N, s, s); sides rounded down to a
    multiple of :data:`MIN_STRIP` so that every architecture takes them."""
    side = min(size, strip.height, strip.width) // MIN_STRIP * MIN_STRIP
    found = list(tiles(labels, strip, side))
    images = np.stack([scene_image[y:y + side, x:x + side] for y, x, _ in found])
    return images, np.stack([tile for _, _, tile in found])


def _starts(start: int, end: int, side: int) -> list[int]:
    """Tile starts from ``start`` every ``side`` px, the last one moved back to end at ``end``."""
    starts = list(range(start, end - side + 1, side))
    if starts[-1] + side < end:
        starts.append(end - side)
    return starts
