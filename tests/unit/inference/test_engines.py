"""ONNX models classify through the same pipeline as GeoSeg's own (training.inference.engines' ONNX Runtime engine):
an export classifies as its Keras model does, a third-party Deepness segmentor as its weights say, tiles padded to
a fixed-size model's input, and without TensorFlow; an export evaluates and compares as its Keras model does; a
model file's int8 copy classifies as its float32 network does, nearly."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from osgeo import gdal

from onnx_models import expected_classes, write_segmentor
from synthetic import CLASS_NAMES, cut_chips, scene, write_raster
from training.config import ClassifyConfig, EvaluateConfig, ExportConfig
from training.data.classes import class_scheme
from training.data.normalization import fit_normalization, normalize_array
from training.errors import GeoSegError
from training.host import devices
from training.inference.classify import classify_raster
from training.jobs import run_job
from training.learn.baseline import NO_PIXELS, ONNX_PIXELS
from training.learn.evaluate import evaluate_model
from training.models import build_model
from training.models.bundle import ModelInfo, read_info, save_bundle
from training.models.export import export_model
from training.learn.int8 import int8_decision
from training.models.int8 import RECORD
from training.progress import Progress

ROOT = Path(__file__).resolve().parents[3]
WIDTH, HEIGHT = 148, 108
TILED = dict(tile_size=64, overlap=16, batch_size=2)
WITHOUT_TENSORFLOW = """
import runpy, sys
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("tensorflow", "keras", "tf2onnx"):
            raise ImportError(f"{name} is made unimportable by the test")
sys.meta_path.insert(0, Refuse())
sys.argv[0] = "training"
runpy.run_module("training", run_name="__main__")
"""


def read(path) -> np.ndarray:
    return gdal.Open(str(path)).ReadAsArray()


def category_names(path) -> list[str]:
    raster = gdal.Open(str(path))  # held while its band is read
    band = raster.GetRasterBand(1)
    band.GetDescription()  # first: GDAL 3.6 reads the .aux.xml on it, not on GetCategoryNames
    return list(band.GetCategoryNames())


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A tiny 12-band U-Net with decisive (scaled-up) class scores, as a bundle and exported: (keras, onnx)."""
    folder = tmp_path_factory.mktemp("models")
    keras.utils.set_random_seed(0)
    network = build_model("unet", 12, 3, base_filters=4, depth=2)
    last = network.layers[-1]
    last.set_weights([weight * 8 for weight in last.get_weights()])  # few near-ties: the maps can be compared whole
    stats = fit_normalization(np.moveaxis(scene(WIDTH, HEIGHT)[0], 0, -1)[np.newaxis])
    save_bundle(network, ModelInfo("unet", list(range(1, 13)), class_scheme(CLASS_NAMES), stats),
                str(folder / "model.keras"))
    export_model(ExportConfig(str(folder / "model.keras"), str(folder / "model.onnx"), tile_size=TILED["tile_size"],
                              overlap=TILED["overlap"]))
    return folder / "model.keras", folder / "model.onnx"


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    return write_raster(tmp_path_factory.mktemp("image") / "image.tif", scene(WIDTH, HEIGHT)[0])


def classify(source, model, output, progress=None, **options):
    return classify_raster(ClassifyConfig(str(source), str(model), str(output), **{**TILED, **options}), progress)


def test_an_export_classifies_as_its_keras_model(models, image, tmp_path):
    keras_model, onnx_model = models
    expected = classify(image, keras_model, tmp_path / "keras.tif", engine="tensorflow", precision="float32",
                        probabilities_raster=str(tmp_path / "keras-p.tif"))
    got = classify(image, onnx_model, tmp_path / "onnx.tif", probabilities_raster=str(tmp_path / "onnx-p.tif"))
    np.testing.assert_array_equal(read(got.output_raster), read(expected.output_raster))
    assert np.abs(read(got.probabilities_raster).astype(int) - read(expected.probabilities_raster)).max() <= 1
    assert got.class_pixels == expected.class_pixels and len(set(read(got.output_raster).ravel())) == 3
    assert category_names(got.output_raster) == CLASS_NAMES


@pytest.fixture(scope="module")
def bands(tmp_path_factory):
    """A 4-band raster for the third-party model (which reads 3), with nodata in band 4's corner."""
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, (4, 70, 90)).astype(np.uint16)
    data[3, :5, :5] = 9999
    return data, write_raster(tmp_path_factory.mktemp("bands") / "bands.tif", data, nodata=9999)


@pytest.mark.parametrize("side", [None, 64])  # any tile size and batch; or tiles of 64 px, one at a time
def test_a_third_party_segmentor_classifies_as_its_weights_say(bands, tmp_path, side):
    data, source = bands
    model = write_segmentor(tmp_path / "third-party.onnx", side)
    result = classify(source, model, tmp_path / "classes.tif", input_bands=[4, 2, 1])
    expected = expected_classes(data[[3, 1, 0]])
    expected[:5, :5] = 255  # nodata in a band the model reads
    np.testing.assert_array_equal(read(result.output_raster), expected)
    assert category_names(result.output_raster) == ["dark", "bright"]


def test_what_an_onnx_model_cannot_run_with_is_refused(bands, tmp_path):
    _, source = bands
    model = write_segmentor(tmp_path / "third-party.onnx", 64)
    with pytest.raises(GeoSegError, match="takes tiles of 64×64 px.*set the tile size to 64 or less"):
        classify(source, model, tmp_path / "out.tif", tile_size=96, overlap=0)
    with pytest.raises(GeoSegError, match="runs on ONNX Runtime: set the engine to auto, not litert"):
        classify(source, model, tmp_path / "out.tif", engine="litert")
    with pytest.raises(GeoSegError, match="reads 3 bands"):
        classify(source, model, tmp_path / "out.tif", input_bands=[1, 2])
    assert not list(tmp_path.glob("out*"))


def test_classifying_an_onnx_model_needs_no_tensorflow(models, bands, tmp_path):
    data, source = bands
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    commands = [["classify", str(source), str(write_segmentor(tmp_path / "m.onnx")), str(tmp_path / "third-party.tif"),
                 "--input-bands", "1,2,3"],
                ["classify", str(source), str(models[1]), str(tmp_path / "export.tif"),
                 "--input-bands", "1,2,3,4,1,2,3,4,1,2,3,4", "--tile-size", "64"]]
    for command in commands:  # a job that imported TensorFlow would end in an ImportError
        run = subprocess.run([sys.executable, "-c", WITHOUT_TENSORFLOW, *command], env=env, capture_output=True,
                             text=True, timeout=300)
        assert run.returncode == 0, run.stderr
    np.testing.assert_array_equal(read(tmp_path / "third-party.tif"), expected_classes(data[:3]))
    in_process = classify(source, models[1], tmp_path / "in-process.tif", input_bands=[1, 2, 3, 4] * 3)
    np.testing.assert_array_equal(read(tmp_path / "export.tif"), read(in_process.output_raster))
    assert (read(tmp_path / "export.tif")[:5, :5] == 255).all()


@pytest.fixture(scope="module")
def chips(tmp_path_factory):
    """16 chips of 64 px (the export's tile) of a 256-px synthetic scene: the models' 12 bands and classes."""
    return cut_chips(tmp_path_factory.mktemp("chips"), 256, TILED["tile_size"])


def test_an_export_evaluates_as_its_keras_model(models, chips, tmp_path):
    expected, got = (evaluate_model(EvaluateConfig(str(model), str(chips), output_html=str(tmp_path / f"{name}.html"),
                                                   preview_png=str(tmp_path / f"{name}.png"), preview_chips=2))
                     for model, name in zip(models, ("keras", "onnx")))
    assert got.metrics == expected.metrics and got.table == expected.table
    assert 0 < got.metrics["mean_iou"] < 1 and np.sum(got.metrics["confusion_matrix"]) == 16 * 64 * 64
    np.testing.assert_array_equal(read(tmp_path / "onnx.png"), read(tmp_path / "keras.png"))  # the same predictions
    assert got.pixel_baseline is expected.pixel_baseline is None  # neither keeps training pixels, and each says why
    assert ONNX_PIXELS in (tmp_path / "onnx.html").read_text() and NO_PIXELS in (tmp_path / "keras.html").read_text()


def test_an_export_compares_as_its_keras_model(models, chips, tmp_path):
    keras_model, onnx_model = models
    shutil.copy(onnx_model, tmp_path / "export.onnx")  # its own name in the table
    result = run_job("compare", {"output_html": str(tmp_path / "c.html"), "test_dir": str(chips), "preview_chips": 2,
                                 "model_paths": [str(keras_model), str(tmp_path / "export.onnx")]})
    keras_row, onnx_row = result["table"]
    own = ("model", "parameters", "megapixels_per_second")  # the name, the size Keras counts, the speed
    assert {k: v for k, v in onnx_row.items() if k not in own} == {k: v for k, v in keras_row.items() if k not in own}
    assert onnx_row["model"] == "export" and onnx_row["mean_iou"] == keras_row["mean_iou"] > 0
    assert onnx_row["parameters"] is None and keras_row["parameters"] > 0 and onnx_row["megapixels_per_second"] > 0
    alone = run_job("compare", {"output_html": str(tmp_path / "alone.html"), "test_dir": str(chips),
                                "preview_chips": 0, "model_paths": [str(onnx_model)]})
    assert alone["best_mean_iou"] == keras_row["mean_iou"] and ONNX_PIXELS in (tmp_path / "alone.html").read_text()


@pytest.fixture(scope="module")
def int8_models(tmp_path_factory):
    """A tiny 12-band U-Net trained briefly on another scene (10 epochs of 40 windows), saved with the int8 copy and
    record training's check made (calibrated on 8 of its windows, checked on a third scene's), and saved again as if
    that check had failed (no copy): (passed, failed, float32 reference)."""
    folder = tmp_path_factory.mktemp("int8")
    image, labels = scene(WIDTH, HEIGHT, seed=1)
    stats = fit_normalization(np.moveaxis(image, 0, -1)[np.newaxis])

    def windows(seed):
        image, labels = scene(WIDTH, HEIGHT, seed=seed)
        scaled = normalize_array(np.moveaxis(image, 0, -1).astype(np.float32), stats)
        corners = [(y, x) for y in range(0, HEIGHT - 32, 16) for x in range(0, WIDTH - 32, 16)]
        return (np.stack([scaled[y:y + 32, x:x + 32] for y, x in corners]),
                np.stack([labels[y:y + 32, x:x + 32] for y, x in corners]))

    keras.utils.set_random_seed(0)
    network = build_model("unet", 12, 3, base_filters=4, depth=2)
    network.compile("adam", "sparse_categorical_crossentropy")
    training, truth = windows(1)
    network.fit(training, truth, epochs=10, batch_size=8, verbose=0)
    validation, checked = windows(2)
    record, copy = int8_decision(network, 12, training[::5], [(validation, checked, None)], class_scheme(CLASS_NAMES))
    info = ModelInfo("unet", list(range(1, 13)), class_scheme(CLASS_NAMES), stats, metrics={RECORD: record})
    save_bundle(network, info, str(folder / "passed.keras"), int8=copy)
    info.metrics = {RECORD: {**record, "used": False, "reason": "it lost 0.0200 mean IoU, more than 0.005"}}
    save_bundle(network, info, str(folder / "failed.keras"))
    return folder / "passed.keras", folder / "failed.keras"


def test_the_int8_copy_classifies_as_float32_does_on_nearly_every_pixel(int8_models, image, tmp_path):
    passed, _ = int8_models
    assert read_info(str(passed)).metrics[RECORD]["used"]  # the check recorded in the model file
    messages = []
    said = Progress(lambda percent, message: messages.append(message))
    expected = classify(image, passed, tmp_path / "float32.tif", engine="tensorflow", precision="float32")
    got = classify(image, passed, tmp_path / "int8.tif", said, precision="int8")
    agreement = (read(got.output_raster) == read(expected.output_raster)).mean()
    assert agreement >= 0.99 and len(set(read(got.output_raster).ravel())) == 3
    assert "with ONNX Runtime in int8" in messages[0]


def test_auto_runs_the_int8_copy_only_where_its_check_passed(int8_models, image, tmp_path, monkeypatch):
    monkeypatch.setattr(devices, "native_bfloat16", lambda: False)
    monkeypatch.setattr(devices, "gpu_visible", lambda: False)
    passed, failed = int8_models
    for model, precision in ((passed, "int8"), (failed, "float32")):
        messages = []
        classify(image, model, tmp_path / f"{model.stem}.tif", Progress(lambda p, m, into=messages: into.append(m)))
        assert f" in {precision}" in messages[0]
    with pytest.raises(GeoSegError, match=r"carries no int8 copy \(its training kept none: it lost 0.0200 mean "
                                          r"IoU, more than 0.005\): set the precision to auto or float32"):
        classify(image, failed, tmp_path / "refused.tif", precision="int8")
    assert not list(tmp_path.glob("refused*"))
