"""Train straight from a raster and its labels: split the labelled area into spatial blocks, sample windows.

The labelled extent is cut into a grid of blocks of about ``block`` px; whole blocks, drawn in an order that
depends on the labels only (not on the training seed, so runs with different seeds are scored on the same
pixels), go to test and validation until each holds its share of the labelled pixels, spread over the whole
area instead of one corner. Every class goes to validation, and to test, where a block holding it can be
spared without leaving training without it. Training windows lie wholly inside the training blocks and at
least ``buffer`` px from every validation and test block, so no window sees, or borders, held-out pixels;
they are drawn at random every epoch (those without a labelled pixel are skipped), a share of them among
those holding a rare class. The validation and test blocks are covered by fixed tiles that never count a
pixel twice. Several scenes are laid out as one mosaic (:func:`mosaic`), so all of this applies to them
unchanged.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..architectures import INPUT_MULTIPLE
from ..errors import GeoSegError
from .classes import NODATA_CLASS
from .labels import read_labels
from .raster import open_raster, read_valid

EVAL_TILE = 256  # side of the validation and test tiles (smaller where a block is smaller)
MIN_BLOCK = INPUT_MULTIPLE  # the smallest side of a validation or test block: every architecture takes such tiles
SPLIT_SEED = 0  # the blocks' order: fixed, so that the split depends on the labels only
MIN_BLOCKS = 12  # a smaller labelled area gets smaller blocks (down to two windows or 2 × MIN_BLOCK px) for this many


@dataclass(frozen=True)
class Block:
    """A rectangle of the raster, rows ``y0:y1`` and columns ``x0:x1``."""

    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def area(self) -> tuple[slice, slice]:
        """Index an (H, W, …) array with this to get the block."""
        return np.s_[self.y0:self.y1, self.x0:self.x1]

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def width(self) -> int:
        return self.x1 - self.x0


@dataclass(frozen=True, eq=False)
class BlockSplit:
    """Where a scene's labelled pixels go. Validation and test blocks never overlap; every ``True`` pixel of
    ``training`` lies in a training block and at least ``buffer`` px (either way, diagonals included) from
    every validation and test block. ``missing`` names, per held-out part, the classes that no block of it
    holds because training could not spare one."""

    validation: tuple[Block, ...]
    test: tuple[Block, ...]
    training: np.ndarray  # (H, W) bool: where training windows may lie
    buffer: int
    missing: dict[str, list[int]]

    def held_out(self) -> dict[str, tuple[Block, ...]]:
        """The validation blocks, and the test blocks where there are any."""
        return {"validation": self.validation, **({"test": self.test} if self.test else {})}


@dataclass
class Scene:
    """A raster's chosen bands (H, W, B) and its labels (H, W; 255 unlabelled), cropped to the labelled extent."""

    image: np.ndarray
    labels: np.ndarray
    class_names: list[str] | None  # the label raster's category names, if it has any


def read_scene(image_path: str, label_path: str, bands: tuple[int, ...]) -> Scene:
    """Read the labels onto the image grid (:func:`read_labels`) and both over the bounding box of the labelled
    pixels; pixels that are nodata, NaN or infinite in any band are NaN in the image and unlabelled."""
    image = open_raster(image_path, "image raster")
    labels, names = read_labels(image, label_path)
    labelled = labels != NODATA_CLASS
    rows, cols = np.nonzero(labelled.any(axis=1))[0], np.nonzero(labelled.any(axis=0))[0]
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    data, invalid = read_valid(image, bands, (int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
    labels = labels[y0:y1, x0:x1]
    labels[invalid] = NODATA_CLASS
    if (labels == NODATA_CLASS).all():
        raise GeoSegError(f"Every labelled pixel of {label_path} lies on nodata (or NaN) pixels of {image_path}.")
    return Scene(data, labels, names)


def mosaic(scenes: list[Scene], gap: int) -> tuple[Scene, list[tuple[int, int]]]:
    """``scenes`` laid out as one scene, in rows of scenes about as wide as the mosaic is high, ``gap`` px of
    nodata (NaN, unlabelled) around each, and the top-left corner (y, x) of each scene in it. With ``gap`` at
    least a window, no window spans two scenes; a scene's pixels keep their neighbours. Class names are the
    first that a scene has."""
    width = max(max(s.labels.shape[1] for s in scenes), int(sum(s.labels.size for s in scenes) ** 0.5))
    corners, y, x, row_height = [], 0, 0, 0
    for scene in scenes:
        height, side = scene.labels.shape
        if x and x + side > width:
            y, x, row_height = y + row_height + gap, 0, 0
        corners.append((y, x))
        x, row_height = x + side + gap, max(row_height, height)
    shape = (max(cy + s.labels.shape[0] for (cy, _), s in zip(corners, scenes)),
             max(cx + s.labels.shape[1] for (_, cx), s in zip(corners, scenes)))
    image = np.full((*shape, scenes[0].image.shape[-1]), np.nan, np.float32)
    labels = np.full(shape, NODATA_CLASS, np.uint8)
    for (cy, cx), scene in zip(corners, scenes):
        rows, cols = scene.labels.shape
        image[cy:cy + rows, cx:cx + cols], labels[cy:cy + rows, cx:cx + cols] = scene.image, scene.labels
    names = next((s.class_names for s in scenes if s.class_names), None)
    return Scene(image, labels, names), corners


def rare_classes(counts: np.ndarray, share: float) -> list[int]:
    """The classes with labelled pixels (``counts`` per class) but fewer than ``share`` of them all."""
    return [int(c) for c in np.flatnonzero((counts > 0) & (counts < share * counts.sum()))]


def split_blocks(labels: np.ndarray, shares: tuple[float, float], window: int, block: int) -> BlockSplit:
    """Validation and test blocks holding ``shares`` of the labelled pixels (a test share of 0 gives no test
    block) in a grid of blocks of about ``block`` px (less where that gives fewer than :data:`MIN_BLOCKS`, but
    at least two windows, so that a window fits in a training block between held-out ones); the rest trains,
    ``window // 2`` px away from them."""
    height, width = labels.shape
    buffer = window // 2
    block = max(min(block, int((height * width / MIN_BLOCKS) ** 0.5)), 2 * MIN_BLOCK, 2 * window)
    rows, columns = _edges(height, block), _edges(width, block)
    if min(height, width) < MIN_BLOCK or (len(rows) - 1) * (len(columns) - 1) < (3 if shares[1] > 0 else 2):
        raise GeoSegError(f"The labelled area ({width}×{height} px) is too small to split into blocks of about "
                          f"{block} px (at least two {window}-px windows) for training, validation"
                          f"{' and test' if shares[1] > 0 else ''}: lower the window size or the block size, or "
                          "label a larger area.")
    blocks = [Block(int(y0), int(y1), int(x0), int(x1))
              for y0, y1 in zip(rows, rows[1:]) for x0, x1 in zip(columns, columns[1:])]
    counts = np.array([np.bincount(labels[b.area].ravel(), minlength=NODATA_CLASS + 1)[:NODATA_CLASS]
                       for b in blocks])
    roles = _assign(counts, {"test": shares[1], "validation": shares[0]})
    held = {name: tuple(b for b, role in zip(blocks, roles) if role == name) for name in ("validation", "test")}
    if not held["validation"]:  # (training always keeps a labelled block: see _assign)
        raise GeoSegError(f"The labelled pixels lie in too few blocks of about {block} px to train and validate on "
                          "different ones: lower the block size, or label a larger area.")
    training = np.zeros(labels.shape, bool)
    for b, role in zip(blocks, roles):
        training[b.area] = role == "train"
    for b in held["validation"] + held["test"]:
        training[max(b.y0 - buffer, 0):b.y1 + buffer, max(b.x0 - buffer, 0):b.x1 + buffer] = False
    present = np.flatnonzero(counts.sum(axis=0))
    missing = {name: [int(c) for c in present if not any(counts[i, c] for i, r in enumerate(roles) if r == name)]
               for name in ("validation", "test") if held[name]}
    return BlockSplit(held["validation"], held["test"], training, buffer, missing)


def _edges(length: int, block: int) -> np.ndarray:
    """Edges of the most blocks, as equal as whole pixels allow, that are each at least about ``block`` px."""
    return np.linspace(0, length, max(round(length / block), 1) + 1).round().astype(int)


def _assign(counts: np.ndarray, shares: dict[str, float]) -> list[str]:
    """Each block's role ("train", or a name of ``shares``) from its labelled pixels per class ``counts``
    (blocks × classes): blocks with labels, in a fixed random order, fill each part's share in turn; then
    validation, and test, take for every class they lack the first training block holding it. A block leaves
    training only where training keeps every class it has, and some labelled block."""
    labelled = counts.sum(axis=1)
    order = [int(i) for i in np.random.default_rng(SPLIT_SEED).permutation(len(counts)) if labelled[i]]
    roles = ["train"] * len(counts)
    kept = counts.sum(axis=0)  # training's labelled pixels per class

    def move(i: int, name: str) -> bool:
        nonlocal kept
        left = kept - counts[i]
        if roles[i] != "train" or left.sum() == 0 or ((kept > 0) & (left == 0)).any():
            return False
        roles[i], kept = name, left
        return True

    for name, share in shares.items():
        taken = 0
        for i in order:
            if taken >= share * labelled.sum():
                break
            if move(i, name):
                taken += labelled[i]
    for name in ("validation", "test"):
        if name in roles:
            for c in np.flatnonzero(counts.sum(axis=0)):
                if not any(counts[i, c] for i in order if roles[i] == name):
                    next((True for i in order if counts[i, c] and move(i, name)), False)
    return roles


class WindowSampler:
    """Random ``size``-px windows lying wholly where ``allowed`` (H, W bool) is true and holding at least one
    labelled pixel there, ``count`` per epoch; of them, a ``focus_share`` (rounded) among the windows holding a
    pixel where ``focus`` (H, W bool, e.g. a rare class's pixels) is true there, where any window does, the
    others among all, in random order. Without focus windows, the draws are those of uniform sampling alone."""

    def __init__(self, labels: np.ndarray, allowed: np.ndarray, size: int, count: int, seed: int,
                 focus: np.ndarray | None = None, focus_share: float = 0.0):
        inside = _window_sums(allowed, size) == size * size
        has_labels = _window_sums(allowed & (labels != NODATA_CLASS), size) > 0
        self.corners = np.argwhere(inside & has_labels)
        if not len(self.corners):
            raise GeoSegError(f"No {size}-px window with labels fits in the training area (between the validation "
                              "and test blocks and their buffers): lower the window size or raise the block size.")
        focused = (_window_sums(allowed & focus, size) > 0 if focus is not None
                   else np.zeros(inside.shape, bool))[tuple(self.corners.T)]
        self.focused = np.flatnonzero(focused)  # indices of corners whose window holds a focus pixel
        self.focus_count = round(count * focus_share) if len(self.focused) else 0
        self.size, self.count = size, count
        self.rng = np.random.default_rng(seed)

    def windows(self) -> np.ndarray:
        """(count, 2) top-left corners (y, x) of this epoch's windows."""
        picks = self.rng.integers(len(self.corners), size=self.count - self.focus_count)
        if self.focus_count:
            focused = self.focused[self.rng.integers(len(self.focused), size=self.focus_count)]
            picks = self.rng.permutation(np.concatenate([focused, picks]))
        return self.corners[picks]


def _window_sums(values: np.ndarray, size: int) -> np.ndarray:
    """Sum of ``values`` in the ``size``-px window whose top-left corner is (y, x), for every corner that fits."""
    total = np.pad(values.astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    return total[size:, size:] - total[:-size, size:] - total[size:, :-size] + total[:-size, :-size]


def tiles(labels: np.ndarray, block: Block, size: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """``size``-px tiles covering ``block`` (at least ``size`` px each way): (y, x, labels) with labels of
    pixels that an earlier tile counted set to 255, so that every pixel counts once; tiles without a labelled
    pixel are skipped."""
    counted = np.zeros(labels.shape, bool)
    for y in _starts(block.y0, block.y1, size):
        for x in _starts(block.x0, block.x1, size):
            window = np.s_[y:y + size, x:x + size]
            tile = np.where(counted[window], NODATA_CLASS, labels[window])
            counted[window] = True
            if (tile != NODATA_CLASS).any():
                yield y, x, tile


def tile_arrays(scene_image: np.ndarray, labels: np.ndarray, blocks: tuple[Block, ...],
                size: int) -> tuple[np.ndarray, np.ndarray]:
    """The tiles of ``blocks`` as stacked images (N, s, s, B) and labels (N, s, s); one side for all, at most
    ``size`` and rounded down to a multiple of :data:`MIN_BLOCK` so that every architecture takes them."""
    side = min([size] + [min(b.height, b.width) for b in blocks]) // MIN_BLOCK * MIN_BLOCK
    found = [(y, x, tile) for b in blocks for y, x, tile in tiles(labels, b, side)]
    images = np.stack([scene_image[y:y + side, x:x + side] for y, x, _ in found])
    return images, np.stack([tile for _, _, tile in found])


def _starts(start: int, end: int, side: int) -> list[int]:
    """Tile starts from ``start`` every ``side`` px, the last one moved back to end at ``end``."""
    starts = list(range(start, end - side + 1, side))
    if starts[-1] + side < end:
        starts.append(end - side)
    return starts
