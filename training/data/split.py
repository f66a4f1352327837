"""Chips split by a seed into training, validation and test parts: whole places at a time where the chips
carry map coordinates and cover enough places (chips that lie in the same grid cell stay together), else
chip by chip."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import GeoSegError
from .raster import open_raster

MIN_PLACES = 10  # chips in fewer places are split chip by chip


def split_indices(count: int, validation: float, test: float, seed: int, need_validation: bool = True,
                  groups: Sequence[int] | None = None) -> tuple[np.ndarray, ...]:
    """Deterministic train/validation/test indices; shares below 1 are fractions (a positive validation fraction
    gives at least one chip), 1 or more are counts. With ``groups`` (a group number per chip) whole groups, in a
    seeded order, fill test then validation until each holds at least its count."""
    def size(share: float) -> int:
        return int(share) if share >= 1 else int(round(share * count))

    n_val, n_test = max(size(validation), 1 if validation > 0 else 0), size(test)
    if n_val < 1 and need_validation:
        raise GeoSegError(f"A validation share of {validation} leaves no validation chip out of {count}: raise it.")
    if count - n_val - n_test < 1:
        raise GeoSegError(f"{count} chips cannot give {n_val} validation and {n_test} test chips and still train: "
                          "make more chips or lower the shares.")
    rng = np.random.default_rng(seed)
    if groups is None:
        order = rng.permutation(count)
        return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]
    members: dict[int, list[int]] = {}
    for chip, group in enumerate(groups):
        members.setdefault(group, []).append(chip)
    parts: dict[str, list[int]] = {"test": [], "validation": [], "train": []}
    for g in rng.permutation(sorted(members)):
        name = "test" if len(parts["test"]) < n_test else "validation" if len(parts["validation"]) < n_val else "train"
        parts[name] += members[g]
    if not parts["train"]:
        raise GeoSegError(f"The {count} chips lie in {len(members)} places, too few to give {n_val} validation and "
                          f"{n_test} test chips and still train: make chips over a larger area or lower the shares.")
    return tuple(np.array(parts[name], int) for name in ("train", "validation", "test"))


def place_groups(image_paths: Sequence[Path], block: int) -> list[int] | None:
    """A group number per chip: chips whose top-left corners lie in the same cell of a grid of ``block``-pixel
    squares (in their map coordinates and CRS) share one; None where a chip has no map coordinates or the
    chips lie in fewer than :data:`MIN_PLACES` places."""
    cells: dict[tuple, int] = {}
    groups = []
    for path in image_paths:
        chip = open_raster(path, "image chip")
        x0, width, _, y0, _, height = chip.GetGeoTransform(can_return_null=True) or (0, 0, 0, 0, 0, 0)
        if not width or not chip.GetProjection():
            return None
        side_x, side_y = block * abs(width), block * abs(height)
        cell = (chip.GetProjection(), int(np.floor(x0 / side_x)), int(np.floor(y0 / side_y)))
        groups.append(cells.setdefault(cell, len(cells)))
    return groups if len(cells) >= MIN_PLACES else None
