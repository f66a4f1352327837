"""How sure a model is of each pixel: the normalised entropy of its class probabilities."""
from __future__ import annotations

import numpy as np


def normalised_entropy(probabilities: np.ndarray) -> np.ndarray:
    """H = −Σ p log p / log K over the last axis (the K classes), in [0, 1]: 0 where one class has probability
    1, 1 where all are equally likely. Classes of probability 0 add nothing (p log p → 0); a one-class model
    is always sure."""
    p = np.asarray(probabilities, np.float32)
    terms = p * np.log(np.where(p > 0, p, 1))
    return np.clip(-terms.sum(axis=-1) / np.log(max(p.shape[-1], 2)), 0, 1)
