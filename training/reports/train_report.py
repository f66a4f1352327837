"""The report training writes beside a model: learning curves, held-out scores beside the per-pixel baseline's,
and sample predictions."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..models.bundle import ModelInfo
from ..models.flips import summary as flip_summary
from ..models.int8 import summary as int8_summary
from ..models.pixel_blend import summary as blend_summary
from .model_report import ModelScore, baseline_note, baseline_score, read_history, rules_text, write_report
from .preview import chip_gallery, rgb_composite, rgb_positions

SAMPLES = 4  # held-out chips or tiles shown


def write_training_report(model, info: ModelInfo, held_out, history_path: str, path: str,
                          pixel_classifier=None) -> str:
    """Write the report of a trained ``model`` (its ``info.metrics`` set) with the first chips or tiles of
    ``held_out`` (training.data.dataset's ChipFiles or ChipArrays, normalised); with ``pixel_classifier`` (the
    training.learn.baseline.PixelBaseline whose scores ``info.metrics["pixel_baseline"]`` holds), its row and
    predictions beside the model's."""
    metrics, baseline = info.metrics["held_out"], info.metrics["majority_baseline"]
    images, labels, _ = (np.asarray(part) for part in next(iter(held_out.dataset(SAMPLES))))
    predicted = model.predict(images, verbose=0).argmax(axis=-1) if len(images) else []
    score = ModelScore(Path(info.training["config"]["output_model"]).name, info.training["config"]["output_model"],
                       metrics, model.count_params(), info.metrics["training_seconds"],
                       info.metrics["megapixels_per_second"], read_history(history_path))
    notes = [f"Model: {score.model_path} ({info.architecture}, bands {', '.join(map(str, info.bands))}), trained on "
             f"{training_source(info.training)}.",
             f"{saved_weights(info.metrics)}; "
             f"scored on the held-out {metrics['split']} part: pixel accuracy {metrics['pixel_accuracy']:.4f} against "
             f"{baseline['pixel_accuracy']:.4f} for always predicting the most frequent training class.",
             blend_summary(info.metrics), flip_summary(info.metrics), int8_summary(info.metrics)]
    if rules := info.metrics.get("rare_decision"):
        notes.append(decision_note(rules))
    scores, predictions = [score], [predicted]
    pixel = info.metrics.get("pixel_baseline")
    if pixel and pixel_classifier is not None:
        notes.append(baseline_note(pixel, "the network", metrics["mean_iou"]))
        scores.append(baseline_score(pixel))
        predictions.append(pixel_classifier.predict(images))
    rgb = [rgb_composite(image[..., rgb_positions(info.bands)]) for image in images]
    gallery = chip_gallery(rgb, labels, predictions, info.classes) if len(images) else None
    return write_report(path, "GeoSeg training report", notes, scores, info.classes, gallery,
                        [f"{metrics['split']} {i + 1}" for i in range(len(images))])


def training_source(training: dict) -> str:
    """What a model trained on: its chips folder, or its raster(s), and its rare-class windows."""
    source = training.get("image_raster") or training.get("chips_dir", "")
    if more := training.get("more_images"):
        source += f" and {len(more)} more rasters ({', '.join(more)})"
    windows = training.get("windows", {})
    if windows.get("rare_per_epoch"):
        source += (f"; {windows['rare_per_epoch']} of each epoch's {windows['per_epoch']} windows held a rare class "
                   f"({', '.join(windows['rare_classes'])})")
    return source


def decision_note(rules: dict) -> str:
    """The rare classes' decision rule (training.learn.decision), per class: its factor and validation F1."""
    return ("Rare classes' decision, tuned on the validation pixels and built into the model: each probability "
            f"weighed against the others' by {rules_text(rules)}.")


def saved_weights(metrics: dict) -> str:
    """Which weights the model holds: the averaged epochs, or the best epoch by validation."""
    best = f"epoch {metrics['best_epoch']} (validation mean IoU {metrics['best_val_mean_iou']:.4f})"
    averaged = metrics.get("averaged_epochs")
    if averaged:
        return (f"The weights averaged over epochs {averaged[0]}–{averaged[1]}, batch-norm statistics recomputed "
                f"(the best single epoch by validation was {best})")
    return f"Best {best}"

