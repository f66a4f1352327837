"""Per-band input normalisation, fitted on the training split and stored with the model."""
from __future__ import annotations

import numpy as np

from .config import NORMALIZATIONS
from .errors import GeoSegError


def fit_normalization(images: np.ndarray, method: str = "standard") -> dict:
    """Fit on training images (N, H, W, B).

    ``standard``: per-band mean and standard deviation. ``stretch``: the study's 2–98 % percentile stretch,
    with percentiles taken over the whole training split so every tile of a scene is scaled alike. NaN
    pixels (nodata, see training.raster.read_valid) are left out.
    """
    if method not in NORMALIZATIONS:
        raise GeoSegError(f"Unknown normalisation {method!r}: choose one of {', '.join(NORMALIZATIONS)}.")
    pixels = images.reshape(-1, images.shape[-1]).astype(np.float64)
    if method == "standard":
        offset, scale = np.nanmean(pixels, axis=0), np.nanstd(pixels, axis=0)
    else:
        low, high = np.nanpercentile(pixels, [2, 98], axis=0)
        offset, scale = low, high - low
    scale = np.where(scale > 1e-6, scale, 1.0)
    return {"method": method, "offset": offset.tolist(), "scale": scale.tolist()}


def normalize(images, stats: dict):
    """Apply fitted statistics; works on NumPy arrays and TensorFlow tensors alike."""
    offset = np.asarray(stats["offset"], dtype=np.float32)
    scale = np.asarray(stats["scale"], dtype=np.float32)
    return (images - offset) / scale


def normalize_array(images: np.ndarray, stats: dict) -> np.ndarray:
    """:func:`normalize` for NumPy arrays, as float32, with NaN (nodata) pixels at 0, the bands' offset."""
    return np.nan_to_num(normalize(images, stats).astype(np.float32), nan=0.0)
