"""Compare models on the same held-out chips or region: configurations trained here on one split and seed, and
model files given (GeoSeg bundles or ONNX models: training.learn.metrics.scoring_model), scored alike and shown
in one visual report (training.reports.model_report) with its figures as CSV; beside them the per-pixel baseline
(training.learn.baseline), refitted on training pixels a model file keeps."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..config import CompareConfig, CompareResult, TrainConfig
from ..data.dataset import ChipArrays
from ..data.normalization import normalize_array
from ..data.pairs import find_pairs, load_chips
from ..data.raster import open_raster
from ..data.windows import EVAL_TILE, read_scene, split_blocks, tile_arrays
from ..errors import GeoSegError
from ..models.bundle import read_info, read_pixels
from ..models.onnx_metadata import is_onnx, read_model_info
from ..progress import Progress
from ..reports.model_report import (ModelScore, baseline_note, baseline_score, metrics_table, read_history,
                                    write_figure_tables, write_report)
from ..reports.preview import chip_gallery, rgb_composite, rgb_positions
from ..rows import parse_rows, parse_settings, split_rows
from .baseline import NO_PIXELS, ONNX_PIXELS, fit_baseline, missing, recorded_decision
from .callbacks import history_path_for
from .metrics import predicted_classes, scoring_model, timed_scores
from .train import split_chips, train

OWN = ("output_model", "chips_dir", "image_raster", "label_raster", "image_suffix", "label_suffix", "report")
SPLIT = ("seed", "validation_dir", "validation_split", "test_split")  # the same for every configuration


@dataclass
class HeldOut:
    """The chips every model is scored on, with all their bands as read."""

    images: np.ndarray  # (N, H, W, B): bands 1..B
    labels: np.ndarray  # (N, H, W)
    names: list[str]
    description: str


def compare_models(config: CompareConfig, progress: Progress | None = None) -> CompareResult:
    """Train each configuration of ``config.runs`` (a failing one, e.g. for want of ImageNet weights, is reported
    in its row and the rest still run), then score it and every model file on the same held-out chips."""
    progress = progress or Progress()
    rows, shared = parse_rows(config.runs), parse_settings(config.shared)
    _check(config, rows, shared)
    folder = Path(config.output_dir or f"{Path(config.output_html).with_suffix('')}_files")
    base = TrainConfig(str(folder / "model.keras"), chips_dir=config.chips_dir, image_raster=config.image_raster,
                       label_raster=config.label_raster, image_suffix=config.image_suffix,
                       label_suffix=config.label_suffix, report=False, **shared)
    trained = [str(folder / f"model-{index}.keras") for index in range(1, len(rows) + 1)]
    for path in config.model_paths or []:
        if any(Path(path).resolve() == Path(other).resolve() for other in trained):
            raise GeoSegError(f"The model file {path} would be replaced by a model trained here: give another "
                              "output folder.")
    candidates = []  # (name, model file or "", why it has none)
    steps = len(rows) + len(config.model_paths or []) + 1
    for index, (row, name, path) in enumerate(zip(rows, split_rows(config.runs), trained)):
        progress.update(index / steps, f"Training configuration {index + 1} of {len(rows)}: {name}…")
        try:
            train(replace(base, output_model=path, **row), progress.span(index / steps, (index + 1) / steps))
            candidates.append((name, path, ""))
        except GeoSegError as err:
            progress.update((index + 1) / steps, f"Configuration {index + 1} ({name}) not trained: {err}")
            candidates.append((name, "", str(err)))
    candidates += [(Path(path).stem, path, "") for path in config.model_paths or []]
    progress.update(len(rows) / steps, "Reading the held-out chips…")
    held = _held_out(config, base)
    scores, predictions, classes, sources = [], [], None, []  # sources: (trained here, model file) scored
    for index, (name, path, error) in enumerate(candidates):
        score, predicted, model_classes = _score(name, path, error, held, config)
        if score.metrics and classes and [c.name for c in model_classes] != [c.name for c in classes]:
            score = ModelScore(name, path, error=f"Its classes ({', '.join(c.name for c in model_classes)}) are not "
                                                 f"those of the first model ({', '.join(c.name for c in classes)}).")
        elif score.metrics:
            classes = classes or model_classes
            predictions.append(predicted)
            sources.append((index < len(rows), path))
        scores.append(score)
    if classes is None:
        raise GeoSegError("No model could be scored: " + " ".join(f"{s.name}: {s.error}" for s in scores))
    best = max((s for s in scores if s.metrics), key=lambda s: _number(s.metrics["mean_iou"]))
    progress.update(0.95, "Fitting the per-pixel baseline…")
    pixel, predicted, pixel_note = _pixel_baseline(sources, held, classes, config)
    if pixel:
        scores.append(pixel)
        predictions.append(predicted)
        pixel_note += " " + baseline_note(pixel.metrics, f"the best model ({best.name})", best.metrics["mean_iou"])
    progress.update(0.97, "Writing the report…")
    shown = min(config.preview_chips, len(held.labels))
    gallery = chip_gallery([rgb_composite(image[..., rgb_positions(range(1, image.shape[-1] + 1))])
                            for image in held.images[:shown]], held.labels[:shown], predictions,
                           classes) if shown else None
    notes = [f"Every model scored on {held.description}."]
    if rows:
        notes.append(f"{len(rows)} configuration(s) trained on {config.chips_dir or config.image_raster} with one "
                     f"split and seed ({base.seed}); shared settings: {config.shared.strip() or 'the defaults'}.")
    notes.append(pixel_note)
    write_report(config.output_html, "GeoSeg model comparison", notes, scores, classes, gallery, held.names[:shown])
    class_names = [c.name for c in classes]
    tables = write_figure_tables(folder, scores, class_names)
    versus = f"; per-pixel baseline: {_number(pixel.metrics['mean_iou']):.4f}" if pixel else ""
    progress.update(1.0, f"Wrote {config.output_html}; highest mean IoU: {best.name} "
                         f"({_number(best.metrics['mean_iou']):.4f}){versus}.")
    return CompareResult(config.output_html, str(folder), tables, metrics_table(scores, class_names), best.name,
                         best.model_path, best.metrics["mean_iou"])


def _check(config: CompareConfig, rows: list[dict], shared: dict) -> None:
    if not rows and not config.model_paths:
        raise GeoSegError("Nothing to compare: give configurations to train, model files, or both.")
    for settings, where in [(shared, "the shared settings")] + [(row, f"configuration {i}")
                                                                for i, row in enumerate(rows, start=1)]:
        own = [key for key in settings if key in OWN or (key in SPLIT and settings is not shared)]
        if own:
            raise GeoSegError(f"{', '.join(own)} cannot be set in {where}: the training data, chip name suffixes "
                              "and output are the comparison's own settings, and the split and seed, the same for "
                              "every configuration, go in the shared settings.")
    if bool(config.chips_dir) and bool(config.image_raster):
        raise GeoSegError("Give either a chips folder or an image raster with its label raster (not both).")
    if rows and not (config.chips_dir or config.image_raster):
        raise GeoSegError("Configurations to train need training data: a chips folder, or an image raster with its "
                          "label raster.")
    if not (config.test_dir or config.chips_dir or config.image_raster):
        raise GeoSegError("Give a test chips folder to score the model files on (or the training data whose "
                          "held-out part scores them).")


def _held_out(config: CompareConfig, base: TrainConfig) -> HeldOut:
    """The test chips folder, else the test part of the training data as training splits it."""
    nothing_held_out = GeoSegError("The test share is 0, so nothing is held out to score the models on: set "
                                   "test_split in the shared settings, or give a test chips folder.")
    if config.test_dir or config.chips_dir:
        pairs = find_pairs(config.test_dir or config.chips_dir, config.image_suffix, config.label_suffix)
        if not config.test_dir:
            test = split_chips(base, pairs)[2]
            if not len(test):
                raise nothing_held_out
            pairs = [pairs[i] for i in sorted(test)]
        chips = load_chips(pairs, tuple(range(1, open_raster(pairs[0][0], "image chip").RasterCount + 1)))
        where = f"the chips of {config.test_dir}" if config.test_dir else \
            f"the held-out test chips of {config.chips_dir} ({len(pairs)} chips)"
        return HeldOut(chips.images, chips.labels, chips.names, where)
    if not config.label_raster:
        raise GeoSegError("Training from a raster needs its label raster too.")
    count = open_raster(config.image_raster, "image raster").RasterCount
    scene = read_scene(config.image_raster, config.label_raster, tuple(range(1, count + 1)))
    split = split_blocks(scene.labels, (base.validation_split, base.test_split), base.window_size, base.block_size)
    if not split.test:
        raise nothing_held_out
    images, labels = tile_arrays(scene.image, scene.labels, split.test, EVAL_TILE)
    return HeldOut(images, labels, [f"tile {i}" for i in range(1, len(labels) + 1)],
                   f"the held-out test blocks of {config.image_raster} ({len(labels)} tiles)")


def _score(name: str, path: str, error: str, held: HeldOut, config: CompareConfig):
    """The model's figures on ``held`` and its predictions of the gallery's chips (or why it has none)."""
    if error:
        return ModelScore(name, path, error=error), None, None
    try:
        info = read_model_info(path)
        missing = [band for band in info.bands if band > held.images.shape[-1]]
        if missing:
            raise GeoSegError(f"It reads band(s) {missing}; the held-out chips have {held.images.shape[-1]}.")
        images = normalize_array(held.images[..., [band - 1 for band in info.bands]], info.normalization)
        predict, parameters = scoring_model(path, (config.batch_size, *images.shape[1:]))
        metrics, speed = timed_scores(predict, ChipArrays(images, held.labels).dataset(config.batch_size), info.classes)
    except GeoSegError as err:
        return ModelScore(name, path, error=str(err)), None, None
    shown = images[:config.preview_chips]
    predicted = predicted_classes(predict, shown, config.batch_size) if len(shown) else None
    return ModelScore(name, path, metrics, parameters, info.metrics.get("training_seconds"), speed,
                      read_history(history_path_for(path))), predicted, info.classes


def _pixel_baseline(sources: list[tuple[bool, str]], held: HeldOut, classes, config: CompareConfig):
    """The per-pixel baseline refitted on the training pixels kept by a model file of ``sources`` (trained here,
    path) — a configuration trained here reading the most bands, else the first model file that keeps some (ONNX
    models keep none) — reading that model's bands, and scored on ``held`` as the models are: its score (None
    without pixels), its predictions of the gallery's chips, and a note saying which pixels it learnt from."""
    if missing():
        return None, None, missing()
    ranked = sorted((source for source in sources if not is_onnx(source[1])),
                    key=lambda source: (not source[0], -len(read_info(source[1]).bands)))
    for _, path in ranked:
        sample = read_pixels(path)
        pixel = fit_baseline(*sample, len(classes)) if sample else None
        if pixel:
            break
    else:
        return None, None, NO_PIXELS if ranked else ONNX_PIXELS
    info = read_info(path)
    pixel.decide(recorded_decision(info.metrics), info.classes)
    images = normalize_array(held.images[..., [band - 1 for band in info.bands]], info.normalization)
    metrics = pixel.scores(ChipArrays(images, held.labels).dataset(config.batch_size), classes)
    shown = images[:config.preview_chips]
    return (baseline_score(metrics), pixel.predict(shown) if len(shown) else None,
            f"The per-pixel baseline learnt from the training pixels kept in {Path(path).name} (its bands "
            f"{', '.join(map(str, info.bands))} and normalisation).")


def _number(value) -> float:
    return value if value is not None and math.isfinite(value) else -math.inf
