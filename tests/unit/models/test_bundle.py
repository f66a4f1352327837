"""The model file: the network, GeoSeg's metadata and, where training kept them, training pixels."""
import zipfile

import numpy as np
import pytest

from training.data.classes import class_scheme
from training.errors import GeoSegError
from training.models import build_model
from training.models.bundle import METADATA_ENTRY, PIXELS_ENTRY, ModelInfo, load_bundle, read_pixels, save_bundle

STATS = {"method": "standard", "offset": [0.0, 0.0], "scale": [1.0, 1.0]}


@pytest.fixture(scope="module")
def model():
    return build_model("unet", 2, 3, base_filters=4, depth=2)


def test_training_pixels_travel_inside_the_model_file_and_survive_reloading(model, tmp_path):
    rng = np.random.default_rng(0)
    values, labels = rng.normal(size=(1000, 2)).astype(np.float32), rng.integers(0, 3, 1000).astype(np.uint8)
    path = str(tmp_path / "m.keras")
    save_bundle(model, ModelInfo("unet", [1, 2], class_scheme(["a", "b", "c"]), STATS), path, pixels=(values, labels))
    assert {METADATA_ENTRY, PIXELS_ENTRY} <= set(zipfile.ZipFile(path).namelist())
    read_values, read_labels = read_pixels(path)
    np.testing.assert_array_equal(read_values, values)
    np.testing.assert_array_equal(read_labels, labels)
    assert read_values.dtype == np.float32 and read_labels.dtype == np.uint8
    loaded, info = load_bundle(path)  # safe_mode=True: Keras ignores the extra entries
    assert info.bands == [1, 2] and loaded.count_params() == model.count_params()


def test_a_model_file_without_training_pixels_loads_and_says_it_has_none(model, tmp_path):
    path = str(tmp_path / "old.keras")
    save_bundle(model, ModelInfo("unet", [1, 2], class_scheme(["a", "b", "c"]), STATS), path)
    assert PIXELS_ENTRY not in zipfile.ZipFile(path).namelist()
    assert read_pixels(path) is None and load_bundle(path)[1].architecture == "unet"
    (tmp_path / "other.keras").write_bytes(b"not a zip")
    with pytest.raises(GeoSegError, match="is not a GeoSeg model"):
        read_pixels(str(tmp_path / "other.keras"))
