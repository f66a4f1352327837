"""Test-time flip averaging: a prediction averaged over the input and its three mirror images, and what a model
bundle's training recorded about whether that pays for the model (training.learn.flips measures and decides).

Classify's ``flip_average`` choice (training.config.FLIP_AVERAGES): ``on`` and ``off`` as they say; ``auto`` the
recorded decision, off for a model file written before GeoSeg recorded one.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

RECORD = "flip_average"  # the key of the decision in a bundle's ModelInfo.metrics


def flip_averaged(predict: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """``predict`` (batches (N, H, W, B) → (N, H, W, classes)) averaged over the batch and its left-right,
    up-down and double mirror images, each mirrored back: test-time augmentation."""
    def averaged(images: np.ndarray) -> np.ndarray:
        total = predict(images)
        for axes in ((2,), (1,), (1, 2)):
            total = total + np.flip(predict(np.ascontiguousarray(np.flip(images, axes))), axes)
        return total / 4

    return averaged


def flips_used(choice: str, metrics: dict) -> bool:
    """Whether classify averages over flips for ``choice`` (``auto``, ``on`` or ``off``) with a bundle whose
    ``ModelInfo.metrics`` are ``metrics``."""
    return choice == "on" or (choice == "auto" and bool((metrics.get(RECORD) or {}).get("on")))


def not_measured(reason: str) -> dict:
    """The record of a model whose gain from flip averaging was not measured, and why: off for ``auto``."""
    return {"on": False, "reason": reason}


def summary(metrics: dict) -> str:
    """The recorded decision and its figures in a sentence (for reports and progress messages)."""
    record = metrics.get(RECORD)
    if not record:
        return ("Flip averaging: no decision recorded (a model file written before GeoSeg measured it), so the "
                "automatic choice leaves it off.")
    if record.get("reason"):
        return f"Flip averaging: off for the automatic choice, not measured ({record['reason']})."
    noise = "unknown (fewer than two windows)" if record["noise"] is None else f"±{record['noise']:.4f}"
    return (f"Flip averaging: {'on' if record['on'] else 'off'} for the automatic choice; on "
            f"{record['windows']} validation windows, mean IoU {record['mean_iou_plain']:.4f} without, "
            f"{record['mean_iou_flipped']:.4f} with (gain {record['gain']:+.4f}, noise {noise}, at least "
            f"{record['min_gain']:.4f} needed).")
