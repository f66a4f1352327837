"""Score a trained model, a GeoSeg bundle or an ONNX model (training.learn.metrics.scoring_model), on a chips
folder: metrics, a CSV table, an HTML report and pictures; beside it the per-pixel baseline, refitted on the
training pixels the model file keeps (training.learn.baseline), and the per-pixel blend, flip averaging and int8
decisions its training recorded (training.learn.pixel_blend, training.learn.flips, training.learn.int8)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import EvaluateConfig, EvaluateResult
from ..data.dataset import ChipArrays
from ..data.normalization import normalize_array
from ..data.pairs import find_pairs, load_chips
from ..data.raster import open_raster
from ..models.bundle import read_pixels
from ..models.flips import RECORD as FLIP_RECORD
from ..models.flips import summary as flip_summary
from ..models.int8 import summary as int8_summary
from ..models.onnx_metadata import is_onnx, read_model_info
from ..models.pixel_blend import summary as blend_summary
from ..outputs import atomic_path
from ..progress import Progress
from ..reports.model_report import ModelScore, baseline_note, baseline_score, write_csv, write_report
from ..reports.preview import chip_gallery, raster_rgb, write_png
from .baseline import NO_PIXELS, ONNX_PIXELS, fit_baseline, missing, recorded_decision
from .metrics import model_scores, predicted_classes, scoring_model



def evaluate_model(config: EvaluateConfig, progress: Progress | None = None) -> EvaluateResult:
    """Pixel accuracy, per-class IoU/F1 and their macro means (over classes present), and the object metrics of
    each chip scored whole (training.learn.objects), the model's and the per-pixel baseline's (where the model
    file keeps training pixels)."""
    progress = progress or Progress()
    info = read_model_info(config.model_path)
    pairs = find_pairs(config.chips_dir, config.image_suffix, config.label_suffix)
    chips = load_chips(pairs, tuple(info.bands), progress.span(0.0, 0.5))
    progress.update(0.5, f"Loading the model {config.model_path}…")
    predict, parameters = scoring_model(config.model_path, (config.batch_size, *chips.images.shape[1:]))
    progress.update(0.5, f"Scoring {len(pairs)} chips…")
    images = normalize_array(chips.images, info.normalization)
    metrics = model_scores(predict, ChipArrays(images, chips.labels).dataset(config.batch_size), info.classes)
    progress.update(0.8, f"{len(pairs)} chips: pixel accuracy {metrics['pixel_accuracy']:.3f}, "
                         f"mean IoU {metrics['mean_iou']:.3f}")
    onnx = is_onnx(config.model_path)
    sample = None if onnx else read_pixels(config.model_path)
    why, pixel, baseline = (ONNX_PIXELS if onnx else NO_PIXELS) if sample is None else missing(), None, None
    if not why:
        progress.update(0.8, f"Fitting the per-pixel baseline on the model file's {len(sample[1]):,} training "
                             "pixels…")
        pixel = fit_baseline(*sample, len(info.classes))
        if pixel:
            pixel.decide(recorded_decision(info.metrics), info.classes)
    if pixel:
        baseline = pixel.scores(ChipArrays(images, chips.labels).dataset(config.batch_size), info.classes)
        margin = metrics["mean_iou"] - baseline["mean_iou"]
        progress.update(0.9, f"Per-pixel baseline: pixel accuracy {baseline['pixel_accuracy']:.3f}, mean IoU "
                             f"{baseline['mean_iou']:.3f} (the model's margin {margin:+.3f})")
    else:
        why = why or NO_PIXELS
        progress.update(0.9, why)
    blend, flips, int8 = blend_summary(info.metrics), flip_summary(info.metrics), int8_summary(info.metrics)
    for note in (blend, flips, int8):
        progress.update(0.9, note)
    table = class_table(metrics, baseline)
    if config.output_csv:
        write_csv(config.output_csv, table)
    shown = list(range(min(config.preview_chips, len(pairs))))
    picture = None
    if shown and (config.preview_png or config.output_html):
        predicted = [predicted_classes(predict, images[shown], config.batch_size)]
        if pixel:
            predicted.append(pixel.predict(images[shown]))
        picture = chip_gallery([raster_rgb(open_raster(pairs[i][0], "image chip")) for i in shown],
                               chips.labels[shown], predicted, info.classes)
    if config.preview_png and picture is not None:
        with atomic_path(config.preview_png) as tmp:
            write_png(tmp, picture)
    if config.output_html:
        score = ModelScore(Path(config.model_path).name, config.model_path, metrics, parameters)
        notes = [f"Model: {config.model_path}.", f"Chips: {config.chips_dir}, {len(pairs)} of them, "
                 f"{metrics['pixels']:,} labelled pixels scored; pixel accuracy {metrics['pixel_accuracy']:.4f}, "
                 f"mean IoU {metrics['mean_iou']:.4f}{_object_note(metrics)}.",
                 baseline_note(baseline, "the model", metrics["mean_iou"]) if baseline else why, blend, flips,
                 int8]
        write_report(config.output_html, "GeoSeg evaluation", notes,
                     [score, *([baseline_score(baseline)] if baseline else [])], info.classes, picture,
                     [pairs[i][0].stem for i in shown], scored_on="chips")
    progress.update(1.0)
    return EvaluateResult(metrics, config.output_csv, config.output_html, config.preview_png, table, baseline,
                          info.metrics.get(FLIP_RECORD), flips)


def class_table(metrics: dict, baseline: dict | None = None) -> list[dict]:
    """The per-class scores as table rows (class, iou, f1, pixels, and for the classes scored as objects
    object_precision, object_recall, object_f1, objects_predicted, objects_reference: training.learn.objects),
    then their means and the pixel accuracy; with the per-pixel ``baseline``'s scores, its IoU, F1 and object
    F1 beside them (pixel_baseline_iou, pixel_baseline_f1, pixel_baseline_object_f1)."""
    pixels = np.asarray(metrics["confusion_matrix"]).sum(axis=1)
    total, mean = metrics["pixels"], "mean (macro, classes present)"
    rows = [(name, {"iou": iou, "f1": f1, "pixels": int(count), **_object_columns(metrics["objects"].get(name))})
            for (name, iou), f1, count in zip(metrics["iou"].items(), metrics["f1"].values(), pixels)]
    rows += [(mean, {"iou": metrics["mean_iou"], "f1": metrics["mean_f1"], "pixels": total,
                     **_object_columns({"f1": metrics["mean_object_f1"]})}),
             ("pixel accuracy", {"iou": metrics["pixel_accuracy"], "f1": None, "pixels": total, **_object_columns()})]
    if baseline:
        figures = {name: (baseline["iou"][name], baseline["f1"][name], baseline["objects"].get(name, {}).get("f1"))
                   for name in metrics["iou"]}
        figures.update({mean: (baseline["mean_iou"], baseline["mean_f1"], baseline["mean_object_f1"]),
                        "pixel accuracy": (baseline["pixel_accuracy"], None, None)})
        rows = [(name, {**row, "pixel_baseline_iou": figures[name][0], "pixel_baseline_f1": figures[name][1],
                        "pixel_baseline_object_f1": figures[name][2]}) for name, row in rows]
    return [{"class": name, **row} for name, row in rows]


def _object_columns(objects: dict | None = None) -> dict:
    """A row's object figures (empty where the row has none)."""
    objects = objects or {}
    return {"object_precision": objects.get("precision"), "object_recall": objects.get("recall"),
            "object_f1": objects.get("f1"), "objects_predicted": objects.get("predicted"),
            "objects_reference": objects.get("reference")}


def _object_note(metrics: dict) -> str:
    """The object F1 of each class scored as objects, for the report's notes."""
    figures = [f"{name} {o['f1']:.4f} ({o['predicted']} predicted, {o['reference']} reference objects)"
               for name, o in metrics["objects"].items() if o["f1"] is not None]
    return f"; object F1 {', '.join(figures)}" if figures else ""
