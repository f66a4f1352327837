"""The per-pixel blend's decision: fit a per-pixel network, weigh it against the network on validation, keep the
weight only where it pays."""
from __future__ import annotations

import numpy as np
import pytest

from training.config import BLEND_MIN_GAIN, BLEND_WEIGHTS
from training.data.classes import class_scheme
from training.learn.pixel_blend import MIN_PIXELS, blend_decision

CLASSES = class_scheme(["Water", "Forest", "Open land"])


def pixels_of(count: int, seed: int = 0):
    """Two bands whose values tell the class apart (class = which third the first band falls in)."""
    values = np.random.default_rng(seed).normal(size=(count, 2)).astype(np.float32)
    return values, np.digitize(values[:, 0], [-0.43, 0.43]).astype(np.uint8)


def validation(count: int = 4, side: int = 16):
    """Batches of (images, labels, mask) whose labels follow the per-pixel rule, every tenth pixel unlabelled."""
    values, labels = pixels_of(count * side * side, seed=1)
    labels[::10] = 255
    return [(values.reshape(count, side, side, 2), labels.reshape(count, side, side), labels != 255)]


class Network:
    """A stand-in network, unsure, whose most probable class is right on a share ``right`` of the pixels."""

    def __init__(self, right: float):
        self.right = right

    def predict_on_batch(self, images):
        truth = np.digitize(images[..., 0], [-0.43, 0.43])
        wrong = np.random.default_rng(2).random(truth.shape) > self.right
        picked = np.where(wrong, (truth + 1) % 3, truth)
        return np.eye(3, dtype=np.float32)[picked] * 0.2 + 0.8 / 3


def test_a_weaker_network_gets_the_per_pixel_network_blended_in():
    record, pixel_network = blend_decision(Network(right=0.7), pixels_of(3000), validation(), CLASSES, seed=0)
    by_weight = [record["mean_iou_by_weight"][str(w)] for w in BLEND_WEIGHTS]
    assert record["weight"] == BLEND_WEIGHTS[int(np.argmax(by_weight))] > 0
    assert record["gain"] == pytest.approx(max(by_weight) - by_weight[0]) and record["gain"] > BLEND_MIN_GAIN
    assert record["pixels"] == 3000 and pixel_network is not None
    assert pixel_network.predict_on_batch(np.array([[-2.0, 0.0], [2.0, 0.0]])).argmax(-1).tolist() == [0, 2]


def test_a_network_already_right_everywhere_stays_as_it_is():
    record, pixel_network = blend_decision(Network(right=1.0), pixels_of(3000), validation(), CLASSES, seed=0)
    assert record["weight"] == 0.0 and pixel_network is None
    assert record["mean_iou_by_weight"]["0.0"] == 1.0 and record["gain"] <= BLEND_MIN_GAIN


def test_too_few_pixels_or_a_cancel_measure_nothing():
    record, pixel_network = blend_decision(Network(0.7), pixels_of(MIN_PIXELS - 1), validation(), CLASSES, seed=0)
    assert record == {"weight": 0.0, "reason": f"only {MIN_PIXELS - 1} labelled training pixels, fewer than "
                                               f"{MIN_PIXELS}"} and pixel_network is None
    asked = []
    record, pixel_network = blend_decision(Network(0.7), pixels_of(3000), validation(), CLASSES, seed=0,
                                           cancelled=lambda: asked.append(1) or True)
    assert record == {"weight": 0.0, "reason": "training was cancelled"} and pixel_network is None
    assert len(asked) == 2  # after the first batch of the fit, then once more: the fit stopped at once
