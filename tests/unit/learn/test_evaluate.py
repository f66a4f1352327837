import csv
import html
import sys

import numpy as np
import pytest
from osgeo import gdal
from scipy import ndimage

from browser import look_at
from synthetic import CLASS_NAMES, write_scene
from training.data.chips import create_chips
from training.config import ChipsConfig, EvaluateConfig, TrainConfig
from training.learn.baseline import METHOD
from training.learn.baseline import NO_PIXELS
from training.learn.evaluate import evaluate_model
from training.models.bundle import load_bundle, read_info, read_pixels, save_bundle
from training.models.flips import summary as flip_summary
from training.models.int8 import summary as int8_summary
from training.models.pixel_blend import summary as blend_summary
from training.progress import Progress
from training.learn.train import train


def test_evaluate_writes_scores_a_report_and_pictures(tmp_path, monkeypatch):
    image, labels = write_scene(tmp_path, 128, 128)
    create_chips(ChipsConfig(str(image), str(tmp_path / "chips"), str(labels), chip_size=32))
    model = train(TrainConfig(str(tmp_path / "m.keras"), chips_dir=str(tmp_path / "chips"), epochs=1, batch_size=8,
                              model_options={"base_filters": 4, "depth": 2})).model_path
    messages = []
    result = evaluate_model(EvaluateConfig(model, str(tmp_path / "chips"), str(tmp_path / "scores.csv"),
                                           str(tmp_path / "report.html"), str(tmp_path / "chips.png"), preview_chips=3),
                            Progress(lambda percent, message: messages.append(message)))
    said = [m for m in messages if m]
    assert said[:3] == ["Reading 16 chips…", f"Loading the model {model}…", "Scoring 16 chips…"]
    sample = len(read_pixels(model)[1])
    assert said[4] == f"Fitting the per-pixel baseline on the model file's {sample:,} training pixels…"
    matrix = np.asarray(result.metrics["confusion_matrix"])
    assert matrix.sum() == 16 * 32 * 32 and result.metrics["pixel_accuracy"] == np.trace(matrix) / matrix.sum()
    pixel = result.pixel_baseline  # refitted on the model file's training pixels, scored on the same pixels
    assert pixel["method"] == METHOD and np.sum(pixel["confusion_matrix"]) == matrix.sum()
    assert pixel["mean_iou"] > 0.9  # the synthetic classes differ in every band: one pixel tells its class
    with open(tmp_path / "scores.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["class"] for r in rows[:3]] == CLASS_NAMES and rows[-1]["class"] == "pixel accuracy"
    assert [float(r["pixel_baseline_iou"]) for r in rows[:3]] == pytest.approx(list(pixel["iou"].values()), 1e-5)
    assert float(rows[-1]["pixel_baseline_iou"]) == pytest.approx(pixel["pixel_accuracy"], 1e-5)
    labels = np.stack([gdal.Open(str(path)).ReadAsArray() for path in sorted((tmp_path / "chips/labels").iterdir())])
    background = int(np.argmax(np.bincount(labels[labels != 255])))  # no object figures for it
    assert list(result.metrics["objects"]) == [n for i, n in enumerate(CLASS_NAMES) if i != background]
    assert rows[background]["object_f1"] == rows[background]["objects_reference"] == ""
    for value, name in enumerate(CLASS_NAMES):  # every chip's 8-connected patches of the class, counted whole
        if value != background:
            objects = result.metrics["objects"][name]
            reference = sum(ndimage.label(chip == value, np.ones((3, 3)))[1] for chip in labels)
            assert int(rows[value]["objects_reference"]) == objects["reference"] == reference > 0
            assert int(rows[value]["objects_predicted"]) == objects["predicted"]
            assert float(rows[value]["pixel_baseline_object_f1"]) == pytest.approx(pixel["objects"][name]["f1"], 1e-5)
    assert float(rows[-2]["object_f1"]) == pytest.approx(result.metrics["mean_object_f1"], 1e-5)
    page = (tmp_path / "report.html").read_text()
    assert all(heading in page for heading in ("<h1>GeoSeg evaluation</h1>", "Scores on the chips",
                                               "<h2>Confusion matrices</h2>"))  # the model's and the baseline's
    assert all(name in page for name in CLASS_NAMES + ["chip_000000_000000"])  # the legend and the chips shown
    png = gdal.Open(str(tmp_path / "chips.png"))
    assert (png.RasterXSize, png.RasterYSize) == (4 * 32 + 3 * 4, 3 * 32 + 2 * 4)  # RGB, reference, model, baseline
    seen = look_at(tmp_path / "report.html", tmp_path / "report.png")
    assert len(seen["images"]) == 2 and seen["images"][-1] == png.RasterXSize  # confusion matrices, then the chips
    assert seen["tables"] == 1  # the scores
    assert f"{METHOD}\t{pixel['pixel_accuracy']:.4f}" in seen["text"]  # the baseline's row as a browser shows it
    shown = [name for name in CLASS_NAMES if name in result.metrics["objects"]]
    assert "\t".join(f"object F1 {name}\tcount error {name}" for name in shown) in seen["text"]  # the header
    figures = [(pixel["objects"][name]["f1"], pixel["objects"][name]["count_error"]) for name in shown]
    assert f"{pixel['mean_f1']:.4f}\t" + "\t".join(f"{f1:.4f}\t{error:+d}" for f1, error in figures) in seen["text"]
    assert result.flip_average == read_info(model).metrics["flip_average"] and result.flip_average["windows"] > 0
    assert result.flip_note == flip_summary(read_info(model).metrics) in said and result.flip_note in seen["text"]
    assert f"mean IoU {result.flip_average['mean_iou_plain']:.4f} without" in result.flip_note
    assert int8_summary(read_info(model).metrics) in said and int8_summary(read_info(model).metrics) in page
    blend = blend_summary(read_info(model).metrics)  # measured in training (on by default), said again
    assert blend.startswith("Per-pixel blend: ") and blend in said and html.escape(blend) in page

    old = str(tmp_path / "old.keras")  # a model file written before GeoSeg kept training pixels or judged flips
    network, info = load_bundle(model)
    del info.metrics["flip_average"]
    save_bundle(network, info, old)
    plain = evaluate_model(EvaluateConfig(old, str(tmp_path / "chips"), str(tmp_path / "old.csv"),
                                          str(tmp_path / "old.html"), preview_chips=1))
    assert plain.metrics == result.metrics and plain.pixel_baseline is None
    assert plain.flip_average is None and "no decision recorded" in plain.flip_note
    assert plain.flip_note in (tmp_path / "old.html").read_text()
    assert "pixel_baseline_iou" not in (tmp_path / "old.csv").read_text()
    assert NO_PIXELS in (tmp_path / "old.html").read_text() and METHOD not in (tmp_path / "old.html").read_text()
    monkeypatch.setitem(sys.modules, "sklearn", None)  # a Python without scikit-learn: said, not a failure
    bare = evaluate_model(EvaluateConfig(model, str(tmp_path / "chips"), output_html=str(tmp_path / "bare.html")))
    assert bare.metrics == result.metrics and bare.pixel_baseline is None
    assert "scikit-learn is not installed" in (tmp_path / "bare.html").read_text()
