"""Pretrained-backbone models: learning, ImageNet weight adaptation, the Keras cache and transfer between models."""
from __future__ import annotations

import h5py
import keras
import numpy as np
import pytest
from keras.src.applications import resnet as keras_resnet
from keras.src.applications import vgg16 as keras_vgg16
from keras.src.applications import vgg19 as keras_vgg19
from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group

from training.models.bundle import ModelInfo, save_bundle
from training.data.classes import default_scheme
from training.architectures import ARCHITECTURES
from training.models import build_model
from training.models.deeplab import bilinear_kernel
from training.models.imagenet import BACKBONES, fetch_weights, resolve_weights, transfer_from

PRETRAINED = [key for key, architecture in ARCHITECTURES.items() if architecture.backbone]
RGB_CHANNEL = {4: 2, 3: 1, 2: 0}  # Keras' ImageNet kernels read BGR: red band 4 -> channel 2, blue 2 -> 0


@pytest.fixture(scope="module", params=PRETRAINED)
def model12(request):
    """A 12-band, 3-class model of each architecture, shared by the tests that take it."""
    keras.utils.set_random_seed(0)
    return build_model(request.param, 12, 3)


def random_backbone(application) -> dict[str, list[np.ndarray]]:
    """Give a 3-band Keras backbone distinct random weights; return them by layer name."""
    rng = np.random.default_rng(1)
    for layer in application.layers:
        layer.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in layer.get_weights()])
    return {layer.name: layer.get_weights() for layer in application.layers if layer.get_weights()}


def write_keras_h5(application, path) -> None:
    """Write weights in the legacy HDF5 layout of Keras' downloadable ImageNet files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        save_weights_to_hdf5_group(f, application)


@pytest.fixture(scope="module")
def vgg16_weights(tmp_path_factory):
    vgg = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    weights = random_backbone(vgg)
    folder = tmp_path_factory.mktemp("weights")
    write_keras_h5(vgg, folder / BACKBONES["vgg16"].file_name)
    vgg.save_weights(folder / "mine.weights.h5")  # Keras 3's own format works as an explicit file too
    return folder, weights


def expected_first_kernel(rgb_kernel: np.ndarray, bands) -> np.ndarray:
    mean = rgb_kernel.mean(axis=2)
    return np.stack([rgb_kernel[:, :, RGB_CHANNEL[b]] if b in RGB_CHANNEL else mean for b in bands],
                    axis=2) * 3 / len(bands)


def test_bilinear_upsampling_kernel():
    upsample = keras.layers.Conv2DTranspose(2, 8, strides=4, padding="same")
    upsample.build((None, None, None, 2))
    upsample.set_weights([bilinear_kernel(4, 2), np.zeros(2, np.float32)])
    x = np.random.default_rng(0).random((1, 6, 5, 2)).astype(np.float32)
    bilinear = keras.ops.image.resize(x, (24, 20), interpolation="bilinear")
    np.testing.assert_allclose(np.asarray(upsample(x))[:, 2:-2, 2:-2], np.asarray(bilinear)[:, 2:-2, 2:-2],
                               atol=1e-6)


def test_loss_falls(model12):
    rng = np.random.default_rng(0)
    images = rng.normal(size=(4, 64, 64, 12)).astype(np.float32)
    labels = (images[..., 0] > 0).astype(np.int32) + (images[..., 1] > 1)  # a per-pixel rule
    model12.compile(keras.optimizers.Adam(3e-4), keras.losses.SparseCategoricalCrossentropy(),
                    run_eagerly=True)  # for 8 steps, tracing the train step costs more than it saves
    losses = [float(model12.train_on_batch(images, labels)) for _ in range(8)]
    assert losses[-1] < 0.9 * losses[0], losses


@pytest.mark.parametrize("bands, weights_file", [(list(range(1, 13)), BACKBONES["vgg16"].file_name),
                                                 ([4, 3, 2], "mine.weights.h5")])
def test_imagenet_adaptation(vgg16_weights, bands, weights_file):
    folder, source = vgg16_weights
    model = build_model("unet_vgg16", len(bands), 2, weights="imagenet", weights_path=str(folder / weights_file),
                        bands=bands, freeze_encoder=True)
    kernel, bias = model.get_layer("block1_conv1").get_weights()
    np.testing.assert_allclose(kernel, expected_first_kernel(source["block1_conv1"][0], bands), rtol=1e-6)
    np.testing.assert_array_equal(bias, source["block1_conv1"][1])
    for name, values in source.items():
        if name != "block1_conv1":
            for got, want in zip(model.get_layer(name).get_weights(), values):
                np.testing.assert_array_equal(got, want)
        assert not model.get_layer(name).trainable
    assert model.get_layer("classes").trainable and model.get_layer("up1_conv1").trainable


def test_imagenet_weights_from_keras_cache(tmp_path, monkeypatch):
    resnet = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(None, None, 3))
    source = random_backbone(resnet)
    write_keras_h5(resnet, tmp_path / "models" / BACKBONES["resnet50"].file_name)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    bands = [2, 3, 4, 8]
    model = build_model("deeplabv3_resnet50", 4, 2, weights="imagenet", bands=bands)
    np.testing.assert_allclose(model.get_layer("conv1_conv").get_weights()[0],
                               expected_first_kernel(source["conv1_conv"][0], bands), rtol=1e-6)
    for name in ("conv1_bn", "conv2_block3_3_conv", "conv3_block4_3_bn"):
        for got, want in zip(model.get_layer(name).get_weights(), source[name]):
            np.testing.assert_array_equal(got, want)
        assert model.get_layer(name).trainable


def test_missing_weights_name_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    expected = tmp_path / "models" / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    with pytest.raises(ValueError, match="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5") as error:
        build_model("unet_vgg16", 12, 2, weights="imagenet")
    assert str(expected) in str(error.value) and keras_vgg16.WEIGHTS_PATH_NO_TOP in str(error.value)
    with pytest.raises(ValueError, match="nowhere.h5"):
        resolve_weights("resnet50", str(tmp_path / "nowhere.h5"))


def test_fetch_fills_the_keras_cache(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras.utils, "get_file", lambda *args, **kwargs: calls.append((args, kwargs)))
    fetch_weights("vgg19")
    (name, url), options = calls[0]
    assert (name, url) == (BACKBONES["vgg19"].file_name, keras_vgg19.WEIGHTS_PATH_NO_TOP)
    assert (options["cache_dir"], options["cache_subdir"]) == (str(tmp_path), "models")


def test_urls_are_keras_urls():
    assert BACKBONES["vgg16"].url == keras_vgg16.WEIGHTS_PATH_NO_TOP
    assert BACKBONES["vgg19"].url == keras_vgg19.WEIGHTS_PATH_NO_TOP
    assert BACKBONES["resnet50"].url == (keras_resnet.BASE_WEIGHTS_PATH
                                         + "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5")


def test_transfer_from_keeps_encoder_and_renews_head(tmp_path):
    old = build_model("unet_vgg16", 12, 3)
    info = ModelInfo(architecture="unet_vgg16", bands=list(range(1, 13)), classes=default_scheme(3),
                     normalization={"method": "standard", "offset": [0.0] * 12, "scale": [1.0] * 12})
    save_bundle(old, info, str(tmp_path / "old.keras"))
    new = build_model("unet_vgg16", 12, 2)
    head = new.get_layer("classes").get_weights()
    copied = transfer_from(str(tmp_path / "old.keras"), new)
    weighted = [layer for layer in new.layers if layer.get_weights()]
    assert copied == len(weighted) - 1
    for layer in weighted:
        want = head if layer.name == "classes" else old.get_layer(layer.name).get_weights()
        for got, value in zip(layer.get_weights(), want):
            np.testing.assert_array_equal(got, value)
