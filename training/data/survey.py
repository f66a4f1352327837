"""One pass over chip files, one chip at a time: their size, their labels' counts and, on request, the
normalisation fitted on their bands."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import GeoSegError
from ..progress import Progress
from .classes import NODATA_CLASS
from .normalization import NormalizationFit
from .pairs import read_pair


@dataclass
class Survey:
    """What one pass over chip files finds, holding one chip at a time."""

    size: tuple[int, int]  # rows, columns
    label_counts: np.ndarray  # pixels per label value 0–255
    normalization: NormalizationFit | None


def survey_chips(pairs: list[tuple[Path, Path]], bands: tuple[int, ...], progress: Progress,
                 fit: NormalizationFit | None = None, size: tuple[int, int] | None = None) -> Survey:
    """Read every pair (checked by :func:`check_chips`), count its labels and, with ``fit``, fit the
    normalisation on its bands; every chip must be ``size`` (rows, columns) when given."""
    counts = np.zeros(NODATA_CLASS + 1, np.int64)
    for i, (image_path, label_path) in enumerate(pairs):
        progress.check()
        image, label = read_pair(image_path, label_path, bands)
        if size and label.shape != size:
            raise GeoSegError(f"{image_path} is {label.shape[1]}×{label.shape[0]} px but the training chips are "
                              f"{size[1]}×{size[0]}: all chips must share one size.")
        size = label.shape
        counts += np.bincount(label.ravel(), minlength=NODATA_CLASS + 1)
        if fit:
            fit.add(image)
        progress.update((i + 1) / len(pairs))
    return Survey(size, counts, fit)
