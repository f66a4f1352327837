"""Model comparison and the training report: figures checked against evaluate's, reports looked at in a browser."""
import csv

import numpy as np
import pytest

from browser import look_at
from synthetic import CLASS_NAMES, write_scene
from training.data.chips import create_chips
from training.config import ChipsConfig, EvaluateConfig, TrainConfig
from training.errors import GeoSegError
from training.learn.baseline import METHOD
from training.learn.evaluate import evaluate_model
from training.models.bundle import read_info, read_pixels
from training.jobs import run_job
from training.rows import parse_rows
from training.learn.train import train

TINY = 'model_options={"base_filters": 4, "depth": 2}'


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """Two tiny U-Nets (all bands, RGB) and a VGG16 row without ImageNet weights, compared on 32-px chips."""
    folder = tmp_path_factory.mktemp("compare")
    image, labels = write_scene(folder, 128, 128)
    create_chips(ChipsConfig(str(image), str(folder / "chips"), str(labels), chip_size=32))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_HOME", str(folder / "no-keras-cache"))
        result = run_job("compare", {
            "output_html": str(folder / "compare.html"), "chips_dir": str(folder / "chips"), "preview_chips": 3,
            "runs": f"architecture=unet {TINY}; architecture=unet bands=rgb {TINY}\narchitecture=unet_vgg16",
            "shared": "epochs=2 batch_size=8 validation_split=3 test_split=4 seed=1 pixel_blend=false"})
    return folder, result


def test_compare_trains_each_configuration_and_says_which_has_no_imagenet_weights(compared):
    folder, result = compared
    rows = result["table"]
    assert [r["model"] for r in rows] == [f"architecture=unet {TINY}", f"architecture=unet bands=rgb {TINY}",
                                          "architecture=unet_vgg16", METHOD]
    assert all(0 <= r["mean_iou"] <= r["mean_f1"] <= 1 and r["parameters"] > 0 and r["training_seconds"] > 0
               and r["megapixels_per_second"] > 0 and not r["note"] for r in rows[:2])
    assert rows[2]["mean_iou"] is None and "No ImageNet weights for vgg16" in rows[2]["note"]
    assert rows[0]["parameters"] > rows[1]["parameters"]  # 12 input bands against 3
    pixel = rows[3]  # the per-pixel baseline: no parameters, its fitting time as training time
    assert 0 <= pixel["mean_iou"] <= pixel["mean_f1"] <= 1 and pixel["parameters"] is None
    assert pixel["training_seconds"] > 0 and pixel["megapixels_per_second"] > 0 and not pixel["note"]
    page = (folder / "compare.html").read_text()  # refitted on the pixels of the configuration with most bands
    assert "learnt from the training pixels kept in model-1.keras (its bands 1, 2, 3, 4, 5" in page
    assert result["best_model_path"] in (str(folder / "compare_files" / "model-1.keras"),
                                         str(folder / "compare_files" / "model-2.keras"))
    assert set(result["tables"]) == {"metrics", "curves", "confusion"}
    with open(result["tables"]["metrics"]) as handle:
        written = list(csv.DictReader(handle))
    assert [int(row["parameters"]) for row in written[:2]] == [r["parameters"] for r in rows[:2]]
    assert written[2]["parameters"] == "" and written[2]["note"] == rows[2]["note"] and written[3]["model"] == METHOD
    curves = (folder / "compare_files" / "curves.csv").read_text().splitlines()
    assert curves[0].startswith("model,epoch,") and len(curves) == 1 + 2 * 2  # two models, two epochs
    assert len((folder / "compare_files" / "confusion.csv").read_text().splitlines()) == 1 + 3 * 3 * 3  # + baseline
    assert not list((folder / "compare_files").glob("*.report.html"))  # rows write no training reports


def test_the_comparison_shows_every_image_and_its_table_in_a_browser(compared):
    folder, _ = compared
    seen = look_at(folder / "compare.html", folder / "compare.png")
    assert len(seen["images"]) == 3 and all(width > 0 for width in seen["images"])  # curves, matrices, chips
    assert seen["tables"] == 1 and (folder / "compare.png").stat().st_size > 10_000
    assert "Open land" in (folder / "compare.html").read_text()  # the class legend
    assert f"{METHOD}\t" in seen["text"]  # the baseline's row


def test_the_comparison_of_model_files_scores_as_evaluate_does(compared, tmp_path):
    folder, _ = compared
    models = [str(folder / "compare_files" / f"model-{i}.keras") for i in (1, 2)]
    result = run_job("compare", {"output_html": str(tmp_path / "files.html"), "model_paths": models,
                                 "test_dir": str(folder / "chips"), "preview_chips": 0})
    evaluated = [evaluate_model(EvaluateConfig(model, str(folder / "chips"))) for model in models]
    for model, row, evaluation in zip(models, result["table"], evaluated):
        expected = evaluation.metrics
        assert row["model"] == model.split("/")[-1][:-len(".keras")]
        assert row["pixel_accuracy"] == expected["pixel_accuracy"] and row["mean_iou"] == expected["mean_iou"]
        assert row["mean_f1"] == expected["mean_f1"]
        assert [row[f"iou_{name}"] for name in CLASS_NAMES] == [expected["iou"][name] for name in CLASS_NAMES]
        assert expected["objects"] and all(  # the object figures too, for the classes scored as objects
            (row[f"object_f1_{name}"], row[f"count_error_{name}"]) == (objects["f1"], objects["count_error"])
            for name, objects in expected["objects"].items())
        assert row["training_seconds"] > 0  # kept in the model file by training
    pixel, expected = result["table"][-1], evaluated[0].pixel_baseline  # refitted on model-1's (12 bands) pixels
    assert pixel["model"] == METHOD and len(result["table"]) == 3
    assert [pixel[key] for key in ("pixel_accuracy", "mean_iou", "mean_f1")] == [
        expected[key] for key in ("pixel_accuracy", "mean_iou", "mean_f1")]
    confusion = (tmp_path / "files_files" / "confusion.csv").read_text().splitlines()
    first = [line.rsplit(",", 1)[1] for line in confusion[1:10]]
    assert [int(n) for n in first] == list(np.ravel(evaluate_model(
        EvaluateConfig(models[0], str(folder / "chips"))).metrics["confusion_matrix"]))


def test_training_writes_its_own_report_beside_the_model(tmp_path):
    image, labels = write_scene(tmp_path, 192, 128)
    result = train(TrainConfig(str(tmp_path / "m.keras"), image_raster=str(image), label_raster=str(labels),
                               window_size=32, epochs=2, windows_per_epoch=16, batch_size=8,
                               model_options={"base_filters": 4, "depth": 2}))
    assert result.report_path == str(tmp_path / "m.report.html")
    seen = look_at(tmp_path / "m.report.html", tmp_path / "m.png")
    assert len(seen["images"]) == 3 and all(width > 0 for width in seen["images"]) and seen["tables"] == 1
    page = (tmp_path / "m.report.html").read_text()
    assert f"{result.test_metrics['mean_iou']:.4f}" in page and "most frequent training class" in page
    pixel, metrics = result.pixel_baseline, result.test_metrics  # the per-pixel baseline, on the same pixels
    assert pixel["method"] == METHOD and np.sum(pixel["confusion_matrix"]) == np.sum(metrics["confusion_matrix"])
    assert pixel["sample_pixels"] == len(read_pixels(result.model_path)[1]) > 1000
    assert read_info(result.model_path).metrics["pixel_baseline"] == pixel
    figures = [pixel["pixel_accuracy"], *pixel["iou"].values(), pixel["mean_iou"], pixel["mean_f1"]]
    shown = "\t".join([METHOD, *("" if value is None else f"{value:.4f}" for value in figures)])
    assert shown in seen["text"]  # its row in the browser
    assert f"Margin of the network in mean IoU: {metrics['mean_iou'] - pixel['mean_iou']:+.4f}." in seen["text"]
    compared = run_job("compare", {"output_html": str(tmp_path / "c.html"), "model_paths": [result.model_path],
                                   "image_raster": str(image), "label_raster": str(labels), "preview_chips": 1,
                                   "shared": "window_size=32"})  # the training's window: blocks are two windows wide
    row, pixel_row = compared["table"]  # scored on the raster's held-out test blocks, as training scored them
    assert row["mean_iou"] == metrics["mean_iou"]
    assert row["pixel_accuracy"] == metrics["pixel_accuracy"]
    assert pixel_row["model"] == METHOD and compared["best_model"] == "m"  # refitted on the model file's pixels
    assert (pixel_row["mean_iou"], pixel_row["pixel_accuracy"]) == (pixel["mean_iou"], pixel["pixel_accuracy"])


def test_rows_are_typed_by_the_training_settings():
    assert parse_rows('architecture=unet bands=4,3,2 pretrained=false epochs=3 model_options={"depth": 2}; '
                      "\n learning_rate=0.01 class_names=a,b") == [
        {"architecture": "unet", "bands": "4,3,2", "pretrained": False, "epochs": 3, "model_options": {"depth": 2}},
        {"learning_rate": 0.01, "class_names": ["a", "b"]}]


@pytest.mark.parametrize("settings, message", [
    ({"runs": "architecture unet"}, "not a setting=value pair"),
    ({"runs": "colour=red"}, "'colour' is not a training setting"),
    ({"runs": "epochs=many"}, "epochs 'many' is not understood"),
    ({"runs": "seed=3"}, "cannot be set in configuration 1"),
    ({"runs": "architecture=unet"}, "need training data"),
    ({}, "Nothing to compare"),
])
def test_bad_input_compare_names_the_setting_to_fix(tmp_path, settings, message):
    with pytest.raises(GeoSegError, match=message):
        run_job("compare", {"output_html": str(tmp_path / "c.html"), **settings})
    assert not list(tmp_path.iterdir())


def test_bad_input_compare_refuses_a_report_over_a_model_file(compared):
    folder, _ = compared
    model = str(folder / "compare_files" / "model-1.keras")
    with pytest.raises(GeoSegError, match="never overwrites its inputs"):
        run_job("compare", {"output_html": model, "model_paths": [model], "test_dir": str(folder / "chips")})
