"""Chips split at random, by a seed, into training, validation and test parts."""
from __future__ import annotations

import numpy as np

from ..errors import GeoSegError


def split_indices(count: int, validation: float, test: float, seed: int,
                  need_validation: bool = True) -> tuple[np.ndarray, ...]:
    """Deterministic train/validation/test indices; shares below 1 are fractions, 1 or more are counts."""
    def size(share: float) -> int:
        return int(share) if share >= 1 else int(round(share * count))

    n_val, n_test = size(validation), size(test)
    if n_val < 1 and need_validation:
        raise GeoSegError(f"A validation share of {validation} leaves no validation chip out of {count}: raise it.")
    if count - n_val - n_test < 1:
        raise GeoSegError(f"{count} chips cannot give {n_val} validation and {n_test} test chips and still train: "
                          "make more chips or lower the shares.")
    order = np.random.default_rng(seed).permutation(count)
    return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]
