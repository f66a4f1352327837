"""Per-band input normalisation, fitted on the training split and stored with the model."""
from __future__ import annotations

import numpy as np

from ..config import NORMALIZATIONS
from ..errors import GeoSegError

STRETCH_SAMPLE = 1 << 20  # the most pixels the stretch's percentiles are taken from (evenly thinned beyond)


def fit_normalization(images: np.ndarray, method: str = "standard") -> dict:
    """Fit on training images (N, H, W, B): :class:`NormalizationFit` of them all at once."""
    fit = NormalizationFit(method)
    fit.add(images)
    return fit.result()


class NormalizationFit:
    """Fit the normalisation on training images added a few at a time, in memory that does not grow with them.

    ``standard``: per-band mean and standard deviation (merged exactly, Chan et al.). ``stretch``: the study's
    2–98 % percentile stretch, with percentiles taken over the whole training split so every tile of a scene
    is scaled alike — from every pixel up to :data:`STRETCH_SAMPLE` pixels, beyond that from every 2nd, 4th, …
    pixel of each image. NaN pixels (nodata, see training.data.raster.read_valid) are left out.
    """

    def __init__(self, method: str = "standard"):
        if method not in NORMALIZATIONS:
            raise GeoSegError(f"Unknown normalisation {method!r}: choose one of {', '.join(NORMALIZATIONS)}.")
        self.method, self.count, self.mean, self.squares = method, 0, 0.0, 0.0
        self.sample: list[np.ndarray] = []
        self.stride = 1

    def add(self, images: np.ndarray) -> None:
        """Add images (…, B)."""
        pixels = images.reshape(-1, images.shape[-1]).astype(np.float64)
        pixels = pixels[~np.isnan(pixels).any(axis=1)]
        if not len(pixels):
            return
        if self.method == "standard":
            count, mean = len(pixels), pixels.mean(axis=0)
            delta, total = mean - self.mean, self.count + count
            self.squares = self.squares + ((pixels - mean) ** 2).sum(axis=0) + delta**2 * self.count * count / total
            self.mean, self.count = self.mean + delta * count / total, total
            return
        self.sample.append(pixels[::self.stride])
        while sum(len(part) for part in self.sample) > STRETCH_SAMPLE:
            self.stride *= 2
            self.sample = [part[::2] for part in self.sample]

    def result(self) -> dict:
        if not self.count and not self.sample:
            raise GeoSegError("Every training pixel is nodata, NaN or infinite: there is nothing to learn from.")
        if self.method == "standard":
            offset, scale = np.asarray(self.mean), np.sqrt(self.squares / self.count)
        else:
            low, high = np.percentile(np.concatenate(self.sample), [2, 98], axis=0)
            offset, scale = low, high - low
        scale = np.where(scale > 1e-6, scale, 1.0)
        return {"method": self.method, "offset": offset.tolist(), "scale": scale.tolist()}


def normalize(images, stats: dict):
    """Apply fitted statistics; works on NumPy arrays and TensorFlow tensors alike."""
    offset = np.asarray(stats["offset"], dtype=np.float32)
    scale = np.asarray(stats["scale"], dtype=np.float32)
    return (images - offset) / scale


def normalize_array(images: np.ndarray, stats: dict) -> np.ndarray:
    """:func:`normalize` for NumPy arrays, as float32, with NaN (nodata) pixels at 0, the bands' offset."""
    return np.nan_to_num(normalize(images, stats).astype(np.float32), nan=0.0)
