"""The contract every registered architecture keeps (training.architectures), as keras-hub's backbone tests check
theirs: it builds for any band count, answers class probabilities at its input's size, takes the input multiple
the registry declares, saves and loads as a GeoSeg model file, classifies tiles, and a pretrained one starts from
an ImageNet weights file. A new registry entry is tested here without a line added."""
import keras
import numpy as np
import pytest

from training.architectures import ARCHITECTURES, INPUT_MULTIPLE
from training.data.classes import default_scheme
from training.inference.engines import compile_tiles
from training.inference.tiling import TileGrid
from training.models import build_model, size_multiple
from training.models.bundle import ModelInfo, load_bundle, save_bundle
from training.models.imagenet import BACKBONES

BANDS = [2, 3, 4, 8, 11]  # not three: the first layer adapts to any band count
CLASSES = 3
PRETRAINED = [key for key, architecture in ARCHITECTURES.items() if architecture.backbone]


@pytest.fixture(scope="module", params=list(ARCHITECTURES))
def built(request):
    """Each registered architecture, built with its defaults for 5 bands and 3 classes."""
    keras.utils.set_random_seed(0)
    return request.param, build_model(request.param, len(BANDS), CLASSES)


def images(*shape: int) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(*shape, len(BANDS))).astype(np.float32)


def test_its_default_input_multiple_divides_the_common_one(built):
    key, _ = built
    assert INPUT_MULTIPLE % size_multiple(key, {}) == 0


def test_class_probabilities_come_at_the_input_size_for_any_size(built):
    _, model = built
    for shape in [(2, INPUT_MULTIPLE * 2, INPUT_MULTIPLE * 2), (1, INPUT_MULTIPLE * 3, INPUT_MULTIPLE * 4)]:
        probabilities = model.predict(images(*shape), verbose=0)  # the second size retraces with other sides
        assert probabilities.shape == (*shape, CLASSES)
        np.testing.assert_allclose(probabilities.sum(axis=-1), 1, rtol=1e-5)


def test_it_saves_loads_and_classifies_tiles_as_it_predicts(built, tmp_path):
    key, model = built
    path = str(tmp_path / "model.keras")
    stats = {"method": "standard", "offset": [0.0] * len(BANDS), "scale": [1.0] * len(BANDS)}
    save_bundle(model, ModelInfo(key, BANDS, default_scheme(CLASSES), stats), path)
    loaded, info = load_bundle(path)
    assert (info.architecture, info.bands, info.num_classes) == (key, BANDS, CLASSES)
    tile = images(1, INPUT_MULTIPLE * 2, INPUT_MULTIPLE * 2)
    expected = model.predict(tile, verbose=0)
    np.testing.assert_allclose(loaded.predict(tile, verbose=0), expected, rtol=0, atol=1e-6)
    window = TileGrid.fit(tile.shape[2], tile.shape[1], tile.shape[1], 0).window()  # a lone tile: all ones
    classify_tiles = compile_tiles(path, tile.shape, window, "tensorflow")  # batch normalisation folded
    np.testing.assert_allclose(classify_tiles(tile), expected, rtol=0, atol=1e-4)


@pytest.mark.parametrize("key", PRETRAINED)
def test_a_pretrained_one_starts_from_an_imagenet_weights_file(key, tmp_path):
    backbone = BACKBONES[ARCHITECTURES[key].backbone]
    source = getattr(keras.applications, backbone.application)(include_top=False, weights=None,
                                                                input_shape=(None, None, 3))
    second = [layer for layer in source.layers if layer.get_weights()][1]  # the layer after the one adapted
    second.set_weights([np.full(w.shape, 0.5, np.float32) for w in second.get_weights()])
    source.save_weights(tmp_path / "imagenet.weights.h5")
    model = build_model(key, len(BANDS), CLASSES, weights="imagenet", bands=BANDS,
                        weights_path=str(tmp_path / "imagenet.weights.h5"))
    assert model.get_layer(backbone.first_conv).get_weights()[0].shape[2] == len(BANDS)
    for got in model.get_layer(second.name).get_weights():
        np.testing.assert_array_equal(got, 0.5)
