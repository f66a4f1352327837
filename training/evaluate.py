"""Score a trained model on a chips folder: metrics, a CSV table, an HTML report and pictures."""
from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

from .bundle import load_bundle
from .config import EvaluateConfig, EvaluateResult
from .dataset import ChipArrays, find_pairs, load_chips
from .metrics import model_scores
from .normalization import normalize_array
from .outputs import atomic_path
from .preview import chip_gallery, png_bytes, raster_rgb, write_png
from .progress import Progress
from .raster import open_raster
from .report import write_csv


def evaluate_model(config: EvaluateConfig, progress: Progress | None = None) -> EvaluateResult:
    """Pixel accuracy, per-class IoU/F1 and their macro means (over classes present) on every chip."""
    progress = progress or Progress()
    progress.update(0.0, f"Loading the model {config.model_path}…")
    model, info = load_bundle(config.model_path)
    pairs = find_pairs(config.chips_dir, config.image_suffix, config.label_suffix)
    chips = load_chips(pairs, tuple(info.bands), progress.span(0.0, 0.5))
    progress.update(0.5, f"Scoring {len(pairs)} chips…")
    images = normalize_array(chips.images, info.normalization)
    metrics = model_scores(model, ChipArrays(images, chips.labels).dataset(config.batch_size), info.classes)
    progress.update(0.9, f"{len(pairs)} chips: pixel accuracy {metrics['pixel_accuracy']:.3f}, "
                         f"mean IoU {metrics['mean_iou']:.3f}")
    table = class_table(metrics)
    if config.output_csv:
        write_csv(config.output_csv, table)
    shown = list(range(min(config.preview_chips, len(pairs))))
    picture = None
    if shown and (config.preview_png or config.output_html):
        predicted = model.predict(images[shown], verbose=0).argmax(axis=-1)
        picture = chip_gallery([raster_rgb(open_raster(pairs[i][0], "image chip")) for i in shown],
                               chips.labels[shown], [predicted], info.classes)
    if config.preview_png and picture is not None:
        with atomic_path(config.preview_png) as tmp:
            write_png(tmp, picture)
    if config.output_html:
        _write_html(config.output_html, config.model_path, metrics, picture, [pairs[i][0].stem for i in shown])
    progress.update(1.0)
    return EvaluateResult(metrics, config.output_csv, config.output_html, config.preview_png, table)


def class_table(metrics: dict) -> list[dict]:
    """The per-class scores as table rows (class, iou, f1, pixels), then their means and the pixel accuracy."""
    pixels = np.asarray(metrics["confusion_matrix"]).sum(axis=1)
    rows = [{"class": name, "iou": iou, "f1": f1, "pixels": int(count)}
            for (name, iou), f1, count in zip(metrics["iou"].items(), metrics["f1"].values(), pixels)]
    total = metrics["pixels"]
    return rows + [{"class": "mean (macro, classes present)", "iou": metrics["mean_iou"], "f1": metrics["mean_f1"],
                    "pixels": total}, {"class": "pixel accuracy", "iou": metrics["pixel_accuracy"], "f1": None,
                                       "pixels": total}]


def _write_html(path: str, model_path: str, metrics: dict, picture: np.ndarray | None, names: list[str]) -> None:
    names_row = "".join(f"<th>{html.escape(n)}</th>" for n in metrics["iou"])
    matrix = "".join(f"<tr><th>{html.escape(name)}</th>{''.join(f'<td>{v}</td>' for v in row)}</tr>"
                     for name, row in zip(metrics["iou"], metrics["confusion_matrix"]))
    scores = "".join(f"<tr><td>{html.escape(n)}</td><td>{_cell(iou)}</td><td>{_cell(metrics['f1'][n])}</td></tr>"
                     for n, iou in metrics["iou"].items())
    chips = "" if picture is None else (
        f"<h2>Chips: RGB | reference | prediction</h2><p>{html.escape(', '.join(names))}</p><img src=\"data:image/png;"
        f"base64,{base64.b64encode(png_bytes(picture)).decode()}\" style=\"image-rendering:pixelated;"
        f"width:{picture.shape[1] * 2}px\">")
    with atomic_path(path) as tmp:
        Path(tmp).write_text(f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>GeoSeg evaluation</title>
<style>body{{font-family:sans-serif}}
td,th{{border:1px solid #999;padding:2px 8px;text-align:right}}</style></head><body>
<h1>GeoSeg evaluation</h1><p>Model: {html.escape(model_path)}<br>Pixels scored: {metrics['pixels']}
 (unlabelled pixels ignored)</p>
<p>Pixel accuracy <b>{_cell(metrics['pixel_accuracy'])}</b>, mean IoU <b>{_cell(metrics['mean_iou'])}</b>,
 mean F1 <b>{_cell(metrics['mean_f1'])}</b> (unweighted means over the classes present).</p>
<table><tr><th>class</th><th>IoU</th><th>F1</th></tr>{scores}</table>
<h2>Confusion matrix (rows: reference, columns: predicted; pixels)</h2>
<table><tr><th></th>{names_row}</tr>{matrix}</table>
{chips}
</body></html>""", encoding="utf-8")


def _cell(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.4f}"
