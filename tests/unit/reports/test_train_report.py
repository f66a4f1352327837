"""The training report: the network's held-out scores beside the per-pixel baseline's, as a browser shows them."""
import numpy as np

from browser import look_at
from synthetic import CLASS_NAMES
from training.data.classes import class_scheme
from training.data.dataset import ChipArrays
from training.learn.baseline import METHOD, fit_baseline
from training.learn.metrics import majority_baseline, model_scores
from training.models import build_model
from training.models.bundle import ModelInfo
from training.reports.train_report import decision_note, training_source, write_training_report


def chips(count, seed):
    """``count`` 32-px chips of 3 bands whose classes differ in every band; one row of each unlabelled."""
    rng = np.random.default_rng(seed)
    labels = np.kron(rng.integers(0, 3, (count, 4, 4)), np.ones((1, 8, 8), np.int64)).astype(np.uint8)
    images = (labels[..., None] * 1.5 + rng.normal(0, 0.3, (*labels.shape, 3))).astype(np.float32)
    labels[:, 0] = 255
    return images, labels


def test_the_report_shows_the_per_pixel_baseline_and_the_networks_margin(tmp_path):
    classes = class_scheme(CLASS_NAMES)
    model = build_model("unet", 3, 3, base_filters=4, depth=2)  # untrained: the baseline beats it
    held_out = ChipArrays(*chips(6, 1))
    metrics = {**model_scores(model.predict_on_batch, held_out.dataset(4), classes), "split": "test"}
    images, labels = chips(20, 2)
    pixel = fit_baseline(images[labels != 255], labels[labels != 255], 3)
    baseline = pixel.scores(held_out.dataset(4), classes)
    info = ModelInfo("unet", [4, 3, 2], classes, {"method": "standard", "offset": [0.0] * 3, "scale": [1.0] * 3},
                     32, {"config": {"output_model": str(tmp_path / "m.keras")}, "chips_dir": "chips"},
                     {"best_epoch": 1, "best_val_mean_iou": 0.3, "held_out": metrics, "training_seconds": 5.0,
                      "majority_baseline": majority_baseline(np.array([1, 5, 2]), np.array([1, 1, 1])),
                      "megapixels_per_second": 1.0, "pixel_baseline": baseline})
    path = write_training_report(model, info, held_out, str(tmp_path / "none.csv"), str(tmp_path / "m.report.html"),
                                 pixel)
    seen = look_at(tmp_path / "m.report.html", tmp_path / "m.png")
    assert baseline["mean_iou"] > 0.95 and seen["tables"] == 1
    figures = [baseline["pixel_accuracy"], *baseline["iou"].values(), baseline["mean_iou"], baseline["mean_f1"]]
    background = int(np.argmax(np.bincount(held_out.labels[held_out.labels != 255])))
    shown = [name for value, name in enumerate(CLASS_NAMES) if value != background]  # scored as objects
    assert list(baseline["objects"]) == list(metrics["objects"]) == shown
    assert "\t".join(f"object F1 {name}\tcount error {name}" for name in shown) in seen["text"]  # the header
    objects = [text for o in baseline["objects"].values() for text in (f"{o['f1']:.4f}", f"{o['count_error']:+d}")]
    assert "\t".join([METHOD, *(f"{value:.4f}" for value in figures), *objects]) in seen["text"]  # its row
    margin = metrics["mean_iou"] - baseline["mean_iou"]
    assert f"Margin of the network in mean IoU: {margin:+.4f}." in seen["text"] and margin < 0
    assert f"fitted on {pixel.sample_pixels:,} labelled training pixels" in seen["text"]
    assert f"RGB | reference | m.keras | {METHOD}" in seen["text"]  # its predictions beside the network's
    assert len(seen["images"]) == 2 and path == str(tmp_path / "m.report.html")  # confusion matrices, chips

    plain = write_training_report(model, info, held_out, str(tmp_path / "none.csv"), str(tmp_path / "p.html"))
    assert METHOD not in (tmp_path / "p.html").read_text() and plain.endswith("p.html")  # no classifier, no row


def test_the_source_names_every_raster_and_the_rare_class_windows():
    training = {"image_raster": "a.tif", "more_images": ["b.tif", "c.tif"],
                "windows": {"per_epoch": 512, "rare_per_epoch": 256, "rare_classes": ["vessel"]}}
    assert training_source(training) == ("a.tif and 2 more rasters (b.tif, c.tif); 256 of each epoch's 512 windows "
                                         "held a rare class (vessel)")
    assert training_source({"chips_dir": "chips"}) == "chips"


def test_the_decision_note_names_each_tuned_class_with_its_factor_and_f1():
    note = decision_note({"vessel": {"factor": 8.0, "validation_f1": [0.412, 0.5234]}})
    assert "vessel ×8 (validation F1 0.412 → 0.523)" in note
