"""The visual report of trained models scored on the same held-out chips: a metrics table, learning curves,
confusion matrices and a gallery of chips with one class legend — one self-contained HTML page (images
embedded; QGIS' Results Viewer and any browser open it), and the same figures as CSV tables."""
from __future__ import annotations

import base64
import csv
import html
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.classes import MATCH_IOU, ClassInfo
from ..outputs import atomic_path
from .figures import confusion_matrices, learning_curves
from .html_page import write_page
from .preview import png_bytes

TEXT_COLUMNS = ("model", "note")
OPTIONAL_COLUMNS = ("parameters", "training_seconds", "megapixels_per_second", "note")  # shown where any model has one


@dataclass
class ModelScore:
    """One model's figures on the held-out chips (``metrics`` from training.learn.metrics.scores), or why it has
    none."""

    name: str
    model_path: str = ""
    metrics: dict | None = None
    parameters: int | None = None
    training_seconds: float | None = None
    megapixels_per_second: float | None = None
    history: dict[str, list[float]] = field(default_factory=dict)  # training history CSV: column → values
    error: str = ""


def baseline_score(pixel: dict) -> ModelScore:
    """The per-pixel classifier's row (``pixel``: training.learn.baseline's scores): no parameters, its fitting
    time as training time, its speed on the pixels it classified."""
    return ModelScore(pixel["method"], metrics=pixel, training_seconds=pixel["fit_seconds"],
                      megapixels_per_second=pixel["megapixels_per_second"])


def baseline_note(pixel: dict, model: str, mean_iou: float) -> str:
    """What the per-pixel classifier is and by how much ``model`` (its ``mean_iou``) beats it."""
    return (f"{pixel['method']}: each pixel classified from its own band values alone (no neighbourhood) by "
            f"scikit-learn's gradient-boosted trees, fitted on {pixel['sample_pixels']:,} labelled training pixels "
            f"and scored on the same pixels: mean IoU {pixel['mean_iou']:.4f}, pixel accuracy "
            f"{pixel['pixel_accuracy']:.4f}{_decision(pixel.get('rare_decision'))}. Margin of {model} in mean IoU: "
            f"{mean_iou - pixel['mean_iou']:+.4f}.")


def _decision(rules: dict | None) -> str:
    """The per-pixel classifier's own rare-class decision, tuned on the validation pixels as the network's."""
    return f"; its own rare-class decision, tuned on the network's validation pixels: {rules_text(rules)}" if rules \
        else ""


def rules_text(rules: dict) -> str:
    """Rare classes' decision rules (training.learn.decision), per class its factor and validation F1."""
    return ", ".join(f"{name} ×{rule['factor']:g} (validation F1 {rule['validation_f1'][0]:.3f} → "
                     f"{rule['validation_f1'][1]:.3f})" for name, rule in rules.items())


def report_path_for(model_path: str | os.PathLike) -> str:
    """Where training writes a model's own report: beside it, ``<model>.report.html``."""
    return str(Path(model_path).with_suffix(".report.html"))


def read_history(path: str | os.PathLike) -> dict[str, list[float]]:
    """The columns of a training history CSV (Keras' CSVLogger); empty when there is none."""
    if not Path(path).is_file():
        return {}
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {column: [float(row[column]) for row in rows] for column in (rows[0] if rows else {})}


def metrics_table(scores: Sequence[ModelScore], class_names: Sequence[str]) -> list[dict]:
    """One row per model: its scores (with the object F1 and count error of the classes scored as objects,
    training.learn.objects), size, training time and speed, and a note where it has no scores."""
    object_classes = [name for name in class_names if any(name in (s.metrics or {}).get("objects", {})
                                                          for s in scores)]
    rows = []
    for score in scores:
        metrics = score.metrics or {}
        objects = metrics.get("objects", {})
        rows.append({"model": score.name, "pixel_accuracy": metrics.get("pixel_accuracy"),
                     **{f"iou_{name}": metrics.get("iou", {}).get(name) for name in class_names},
                     "mean_iou": metrics.get("mean_iou"), "mean_f1": metrics.get("mean_f1"),
                     **{f"{column}_{name}": objects.get(name, {}).get(figure) for name in object_classes
                        for column, figure in (("object_f1", "f1"), ("count_error", "count_error"))},
                     "parameters": score.parameters, "training_seconds": score.training_seconds,
                     "megapixels_per_second": score.megapixels_per_second, "note": score.error})
    return rows


def write_csv(path: str | os.PathLike, rows: Sequence[dict]) -> str:
    """``rows`` (dicts sharing their keys) as a CSV table; fractional numbers with 6 significant digits."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else [])
        writer.writeheader()
        writer.writerows({key: _text(value, "{:.6g}" if isinstance(value, float) else "{}")
                          for key, value in row.items()} for row in rows)
    return str(path)


def write_figure_tables(folder: str | os.PathLike, scores: Sequence[ModelScore],
                        class_names: Sequence[str]) -> dict[str, str]:
    """The report's figures as CSV in ``folder``: metrics.csv, curves.csv (the training histories, one row per
    model and epoch) and confusion.csv (one row per model, reference and predicted class: pixels)."""
    folder = Path(folder)
    curves = [{"model": s.name, **{column: values[i] for column, values in s.history.items()}}
              for s in scores for i in range(len(s.history.get("epoch", [])))]
    confusion = [{"model": s.name, "reference": reference, "predicted": predicted, "pixels": count}
                 for s in scores if s.metrics
                 for reference, row in zip(class_names, s.metrics["confusion_matrix"])
                 for predicted, count in zip(class_names, row)]
    tables = {"metrics": metrics_table(scores, class_names), "curves": curves, "confusion": confusion}
    return {name: write_csv(folder / f"{name}.csv", rows) for name, rows in tables.items() if rows}


def write_report(path: str | os.PathLike, title: str, notes: Sequence[str], scores: Sequence[ModelScore],
                 classes: Sequence[ClassInfo], gallery: np.ndarray | None, chip_names: Sequence[str],
                 scored_on: str = "held-out chips") -> str:
    """The HTML page: ``notes`` (plain text) under the title, then the table, curves, matrices and gallery of
    the ``scored_on`` chips."""
    names = [c.name for c in classes]
    rows = metrics_table(scores, names)
    keys = [key for key in rows[0] if key not in OPTIONAL_COLUMNS or any(row[key] not in (None, "") for row in rows)]
    header = "".join(f"<th{' class=text' if key in TEXT_COLUMNS else ''}>{html.escape(_label(key))}</th>"
                     for key in keys)
    body = "".join("<tr>" + "".join(f"<td{' class=text' if key in TEXT_COLUMNS else ''}>"
                                    f"{html.escape(_text(row[key], _format(key)))}</td>" for key in keys)
                   + "</tr>" for row in rows)
    curves = learning_curves({s.name: s.history for s in scores})
    scored = [s for s in scores if s.metrics]
    matrices = confusion_matrices({s.name: s.metrics["confusion_matrix"] for s in scored}, names)
    legend = "".join(f"<span class='swatch' style='background:rgb{c.color}'></span>{html.escape(c.name)}"
                     for c in classes)
    parts = [*(f"<p>{html.escape(note)}</p>" for note in notes),
             f"<h2>Scores on the {html.escape(scored_on)}</h2><p>IoU and F1 per class and their unweighted means over "
             "the classes present; unlabelled pixels are not scored."
             + (" Objects (connected patches of a class, in each chip or tile whole) of every class but the most "
                f"frequent one: object F1, each predicted object matching one reference object at most, where their "
                f"IoU is at least {MATCH_IOU} or its centroid lies in it; count error, predicted minus reference "
                "objects."
                if any(key.startswith("object_f1_") for key in keys) else "")
             + (" Speed: pixels classified a second." if "megapixels_per_second" in keys else "") + "</p>",
             f"<table><tr>{header}</tr>{body}</table>"]
    if curves:
        parts.append("<h2>Learning curves</h2><p>Solid: training; dashed: validation.</p>" + _image(curves, "curves"))
    if matrices:
        heading = "Confusion matrices" if len(scored) > 1 else "Confusion matrix"
        parts.append(f"<h2>{heading}</h2><p>Share of each reference class (row) predicted as each class "
                     "(column).</p>" + _image(matrices, heading.lower()))
    if gallery is not None:
        width = min(gallery.shape[1] * max(2, 480 // gallery.shape[1]), 1150)  # small chips drawn larger
        columns = " | ".join(["RGB", "reference"] + [s.name for s in scored])
        parts.append(f"<h2>{html.escape(scored_on.capitalize())}: {html.escape(columns)}</h2><p>{legend}"
                     "<span class='swatch' style='background:rgb(40,40,40)'></span>unlabelled</p>"
                     f"<p>{html.escape(', '.join(chip_names))}</p>"
                     + _image(base64.b64encode(png_bytes(gallery)).decode(), "chips",
                              f"image-rendering:pixelated;width:{width}px"))
    return write_page(path, title, "".join(parts))


def _image(png_base64: str, alt: str, style: str = "") -> str:
    return f"<img alt='{alt}' style='{style}' src='data:image/png;base64,{png_base64}'>"


def _label(key: str) -> str:
    return {"megapixels_per_second": "Mpx/s", "training_seconds": "training (s)", "mean_iou": "mean IoU",
            "mean_f1": "mean F1"}.get(key, key.replace("object_f1_", "object F1 ").replace("iou_", "IoU ")
                                      .replace("_", " "))


def _format(key: str) -> str:
    return {"parameters": "{:,}", "training_seconds": "{:.0f}", "megapixels_per_second": "{:.3f}",
            "model": "{}", "note": "{}"}.get(key, "{:+d}" if key.startswith("count_error_") else "{:.4f}")


def _text(value, pattern: str) -> str:
    """A table cell: empty for a missing number."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    return pattern.format(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
