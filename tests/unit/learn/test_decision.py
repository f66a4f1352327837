"""The rare classes' decision rule: prior factors tuned on validation and folded into the network."""
import numpy as np
import pytest

from training.learn.decision import FACTORS, fold_factors, tune_factors
from training.models import build_model


def batches(probabilities, labels, size=2):
    return [(probabilities[i:i + size], labels[i:i + size]) for i in range(0, len(labels), size)]


def test_a_rare_class_the_argmax_misses_gets_the_smallest_factor_that_finds_it():
    labels = np.zeros((4, 8, 8), np.uint8)
    labels[:, 2:4, 2:4] = 1  # the rare class
    labels[:, 0, :] = 255  # unlabelled: never counted
    probabilities = np.stack([np.full(labels.shape, 0.95), np.full(labels.shape, 0.05)], axis=-1)
    probabilities[labels == 1] = (0.7, 0.3)  # argmax says background; ×3 (0.9 > 0.7) finds it, ×2 (0.6) does not
    probabilities[labels == 255] = (0.01, 0.99)  # would be false alarms if counted
    factors, tuned = tune_factors(lambda images: images, batches(probabilities, labels), [1], 2)
    assert factors.tolist() == [1.0, 3.0]
    assert tuned == {1: {"factor": 3.0, "validation_f1": [0.0, 1.0]}}


def test_a_class_the_argmax_already_finds_keeps_factor_one():
    labels = np.zeros((2, 8, 8), np.uint8)
    labels[:, :2] = 1
    probabilities = np.where(labels[..., None] == 1, (0.2, 0.8), (0.9, 0.1))
    factors, tuned = tune_factors(lambda images: images, batches(probabilities, labels), [1], 2)
    assert factors.tolist() == [1.0, 1.0] and tuned == {}


@pytest.mark.parametrize("architecture, options", [("unet", {"base_filters": 4, "depth": 2}),
                                                   ("deeplabv3_resnet50", {"weights": None})])
def test_folded_factors_are_the_prior_correction_of_the_probabilities(architecture, options):
    model = build_model(architecture, 3, 3, **options)
    images = np.random.default_rng(0).normal(size=(1, 32, 32, 3)).astype(np.float32)
    before = model(images, training=False).numpy()
    factors = np.array([1.0, FACTORS[4], 0.5])
    fold_factors(model, factors)
    expected = before * factors / (before * factors).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(model(images, training=False).numpy(), expected, atol=1e-5)
