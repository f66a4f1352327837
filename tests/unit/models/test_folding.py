"""Inference copies: batch normalisation folded into the convolutions, optionally in bfloat16."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from training.models import build_model
from training.models.folding import inference_copy


def with_trained_statistics(model: keras.Model) -> keras.Model:
    """Give every batch normalisation statistics and scales far from the identity they start as."""
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            size = layer.moving_mean.shape
            layer.moving_mean.assign(rng.normal(0, 0.5, size))
            layer.moving_variance.assign(rng.uniform(0.2, 3.0, size))
            layer.gamma.assign(rng.uniform(0.5, 2.0, size))
            layer.beta.assign(rng.normal(0, 0.5, size))
    return model


def follows_a_convolution(layer) -> bool:
    parents = layer._inbound_nodes[0].parent_nodes
    return isinstance(layer, keras.layers.BatchNormalization) and isinstance(parents[0].operation, keras.layers.Conv2D)


@pytest.mark.parametrize("architecture, options", [("unet", dict(base_filters=4, depth=2)),
                                                   ("deeplabv3_resnet50", {})])
def test_folded_copy_predicts_as_the_model_does(architecture, options):
    keras.utils.set_random_seed(0)
    model = with_trained_statistics(build_model(architecture, 12, 3, **options))
    copy = inference_copy(model)
    assert any(map(follows_a_convolution, model.layers))
    assert not any(map(follows_a_convolution, copy.layers))
    images = np.random.default_rng(1).normal(size=(2, 64, 64, 12)).astype(np.float32)
    expected = model(images, training=False).numpy()
    np.testing.assert_allclose(copy(images, training=False).numpy(), expected, atol=2e-5)


def test_bfloat16_copy_computes_in_bfloat16_and_answers_in_float32():
    keras.utils.set_random_seed(0)
    model = with_trained_statistics(build_model("unet", 12, 3, base_filters=4, depth=2))
    copy = inference_copy(model, bfloat16=True)
    assert {layer.compute_dtype for layer in copy.layers[1:-1]} == {"bfloat16"}
    images = np.random.default_rng(1).normal(size=(2, 64, 64, 12)).astype(np.float32)
    probabilities = copy(images, training=False)
    assert probabilities.dtype == "float32"
    assert np.abs(probabilities.numpy() - model(images, training=False).numpy()).max() < 0.05
    assert model.layers[1].compute_dtype == "float32"  # the original is left alone
