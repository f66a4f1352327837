"""Train a segmentation model on a chips folder or a labelled raster and save it as a GeoSeg model bundle."""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ..architectures import ARCHITECTURES, INPUT_MULTIPLE
from ..config import RARE_CLASS, TrainConfig, TrainResult, check_settings
from ..data.bands import parse_bands
from ..data.classes import CLASSES_FILE, NODATA_CLASS, ClassInfo, class_scheme, default_scheme, scheme_from_dicts
from ..data.dataset import ChipArrays, ChipFiles, SceneWindows
from ..data.normalization import NormalizationFit, fit_normalization, normalize_array
from ..data.pairs import check_chips, check_labelled, find_pairs
from ..data.raster import open_raster
from ..data.split import place_groups, split_indices
from ..data.survey import survey_chips
from ..data.windows import EVAL_TILE, WindowSampler, mosaic, rare_classes, read_scene, split_blocks, tile_arrays
from ..errors import GeoSegError
from ..models import build_model, size_multiple
from ..models.bundle import ModelInfo, load_bundle, save_bundle
from ..models.dtype import with_policy
from ..models.flips import RECORD as FLIP_RECORD
from ..models.flips import not_measured
from ..models.flips import summary as flip_summary
from ..models.imagenet import transfer_from
from ..models.int8 import RECORD as INT8_RECORD
from ..models.int8 import summary as int8_summary
from ..models.pixel_blend import RECORD as BLEND_RECORD
from ..models.pixel_blend import blended
from ..models.pixel_blend import not_measured as not_blended
from ..models.pixel_blend import summary as blend_summary
from ..outputs import check_output
from ..progress import Progress
from ..reports.model_report import report_path_for
from ..reports.train_report import write_training_report
from .baseline import SAMPLE_PIXELS, fit_baseline, missing
from .callbacks import Checkpoint, FitProgress, Schedule, WeightAverage, history_path_for, resume_path_for
from .decision import fold_factors, tune_factors
from .distribution import distribute, fit_across_workers, is_chief, strategy_for
from .flips import flip_decision
from .int8 import CALIBRATION_WINDOWS, int8_decision, not_made
from .losses import SegmentationLoss, balanced_class_weights
from .metrics import class_counts, majority_baseline, timed_scores
from .pixel_blend import blend_decision
from .precision import training_policy


NORM_BATCHES = 32  # training batches over which the averaged weights' batch-norm statistics are recomputed


@dataclass
class Prepared:
    """Training data found, split and normalised for one run: chip files, or a scene and its windows."""

    bands: tuple[int, ...]
    scheme: list[ClassInfo]
    stats: dict
    train: ChipFiles | SceneWindows
    validation: ChipFiles | ChipArrays
    test: ChipFiles | ChipArrays | None  # None when nothing is held out
    train_counts: np.ndarray  # labelled training pixels per class
    window: int  # chip or window side
    record: dict  # what trained, for the bundle's training record
    description: str  # for the progress message

    def steps_per_epoch(self, batch_size: int) -> int:
        return -(-len(self.train) // batch_size)


def train(config: TrainConfig, progress: Progress | None = None) -> TrainResult:
    """Train with AdamW for ``epochs`` (or ``max_minutes``), the learning rate following ``schedule``; save the
    ``averaging`` of the weights, with ``averaging="none"`` the epoch with the best validation mean IoU.

    The best epoch so far is saved to ``config.output_model`` whenever it improves, so a cancelled run keeps
    it; a resume point is written after every epoch so ``resume=True`` continues an interrupted run. The same
    seed gives the same model on the same machine (TensorFlow's op determinism), unless the time limit ends it.
    """
    progress = progress or Progress()
    started = time.monotonic()
    _check_config(config)
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    data = prepare(config, progress.span(0.0, 0.05))
    progress.update(0.05, f"Building the {ARCHITECTURES[config.architecture].label} for {len(data.bands)} bands and "
                          f"{len(data.scheme)} classes…")
    policy = training_policy(config.precision)
    strategy = strategy_for(config.strategy)
    with strategy.scope():
        model = _build(config, data, policy)
        model.optimizer.build(model.trainable_variables)  # its state on the strategy's devices, also on resuming
    info = ModelInfo(architecture=config.architecture, bands=list(data.bands), classes=data.scheme,
                     normalization=data.stats, chip_size=data.window,
                     training={"config": asdict(config), "dtype_policy": policy,
                               "replicas": strategy.num_replicas_in_sync, **data.record})
    steps = config.epochs * data.steps_per_epoch(config.batch_size * strategy.num_replicas_in_sync)
    schedule = Schedule(config.learning_rate, config.schedule, steps, config.max_minutes * 60)
    average = WeightAverage(schedule) if config.averaging == "swa" else None
    checkpoint = Checkpoint(info, config.output_model, config.patience, writes=is_chief(strategy), average=average)
    epochs = config.epochs
    if config.resume and Path(checkpoint.resume_path).exists():
        state = checkpoint.restore(model)
        epochs = state["epoch"] if state["stopped"] else epochs
        schedule.seconds_before = state["history"][-1].get("seconds", 0.0)
        progress.update(0.0, f"Resuming after epoch {state['epoch']} (best so far: epoch {state['best_epoch']}).")
    initial_epoch = checkpoint.state["epoch"]
    fit_progress = FitProgress(progress.span(0.05, 0.95), schedule, config.epochs, initial_epoch)
    limit = f" or {config.max_minutes:g} min" if config.max_minutes else ""
    progress.update(0.05, f"Training on {data.description}: epoch {initial_epoch + 1} of {config.epochs}{limit}…")
    fit = dict(_fit_data(config, data, strategy), epochs=epochs, initial_epoch=initial_epoch,
               callbacks=[schedule, *([average] if average else []), checkpoint, fit_progress])
    if config.strategy == "multiworker":
        fit_across_workers(model, strategy, **fit)
    else:
        model.fit(**fit, shuffle=False, verbose=0)
    if checkpoint.best_epoch == 0:
        progress.check()
        raise GeoSegError("Training stopped before one epoch finished: no model was saved.")
    if not checkpoint.writes:
        progress.update(1.0, f"Worker done after epoch {fit_progress.epochs_done}: the chief writes the model.")
        return TrainResult("", "", fit_progress.epochs_done, checkpoint.best_epoch, fit_progress.cancelled, {}, {})
    averaged = _save_average(config, data, model, average, checkpoint) if not fit_progress.cancelled else None
    training_seconds = time.monotonic() - started
    saved, _ = load_bundle(config.output_model)  # the averaged weights or the best epoch, scored as saved
    factors, decision = _decide_rare_classes(config, data, lambda images: saved(images, training=False), progress,
                                             "The network")
    if decision:
        fold_factors(saved, factors)
    sample = data.train.pixels(SAMPLE_PIXELS, config.seed)  # kept in the model file, for evaluate and compare
    blend, saved = _blend(config, data, saved, sample, progress, fit_progress.cancelled)
    held_out = data.test or data.validation
    metrics, speed = timed_scores(saved.predict_on_batch, held_out.dataset(config.batch_size), data.scheme)
    metrics["split"] = "test" if data.test else "validation"
    baseline = majority_baseline(data.train_counts, np.sum(metrics["confusion_matrix"], axis=1))
    progress.update(0.95, f"Fitting the per-pixel baseline on up to {SAMPLE_PIXELS:,} training pixels…")
    pixel = None if missing() else fit_baseline(*sample, len(data.scheme))
    if pixel:
        pixel.decide(_decide_rare_classes(config, data, pixel.probabilities, progress, "The per-pixel baseline")[1],
                     data.scheme)
    pixel_scores = pixel.scores(held_out.dataset(config.batch_size), data.scheme) if pixel else None
    flips = _flip_record(config, data, saved, progress, fit_progress.cancelled)
    info.metrics = {"best_epoch": checkpoint.best_epoch, "best_val_mean_iou": checkpoint.state["best_score"],
                    "averaged_epochs": averaged, "rare_decision": decision,
                    "held_out": metrics, "majority_baseline": baseline, "pixel_baseline": pixel_scores,
                    "training_seconds": training_seconds,
                    "megapixels_per_second": speed, BLEND_RECORD: blend, FLIP_RECORD: flips}
    progress.update(0.97, blend_summary(info.metrics))
    progress.update(0.97, flip_summary(info.metrics))
    info.metrics[INT8_RECORD], int8 = _int8_copy(config, data, saved, progress, fit_progress.cancelled)
    progress.update(0.97, int8_summary(info.metrics))
    save_bundle(saved, info, config.output_model, pixels=sample, int8=int8)
    report = ""
    if config.report:
        progress.update(0.97, "Writing the training report…")
        report = write_training_report(saved, info, held_out, checkpoint.history_path,
                                       report_path_for(config.output_model), pixel)
    if not fit_progress.cancelled:
        Path(checkpoint.resume_path).unlink(missing_ok=True)
    versus = (f"; per-pixel gradient boosting: mean IoU {pixel_scores['mean_iou']:.3f}, the network's margin "
              f"{metrics['mean_iou'] - pixel_scores['mean_iou']:+.3f}" if pixel_scores else
              f"; {missing()}" if missing() else "")
    progress.update(1.0, f"Held-out pixel accuracy {metrics['pixel_accuracy']:.3f}, mean IoU "
                         f"{metrics['mean_iou']:.3f} (majority baseline {baseline['pixel_accuracy']:.3f}{versus}).")
    return TrainResult(config.output_model, checkpoint.history_path, fit_progress.epochs_done, checkpoint.best_epoch,
                       fit_progress.cancelled, metrics, baseline, report, pixel_scores)


def _decide_rare_classes(config: TrainConfig, data: Prepared, predict, progress: Progress,
                         who: str) -> tuple[np.ndarray, dict]:
    """The rare classes' prior factors for ``predict`` (images to class probabilities), tuned on the validation
    pixels where ``config.rare_decision``, and per tuned class name its factor and validation F1 before and
    after; ``who`` names the classifier in the progress messages."""
    rare = rare_classes(data.train_counts, RARE_CLASS) if config.rare_decision else []
    if not rare:
        return np.ones(len(data.scheme)), {}
    progress.update(0.95, f"{who}: tuning the rare classes' decision on the validation pixels…")
    factors, tuned = tune_factors(predict, data.validation.dataset(config.batch_size), rare, len(data.scheme))
    for c, rule in tuned.items():
        before, after = rule["validation_f1"]
        progress.update(0.95, f"{who}: {data.scheme[c].name}'s probability weighed ×{rule['factor']:g} against the "
                              f"others (validation F1 {before:.3f} → {after:.3f}).")
    return factors, {data.scheme[c].name: rule for c, rule in tuned.items()}


def _blend(config: TrainConfig, data: Prepared, model: keras.Model, pixels: tuple[np.ndarray, np.ndarray],
           progress: Progress, cancelled: bool) -> tuple[dict, keras.Model]:
    """The per-pixel blend's decision (training.learn.pixel_blend), fitted on the training ``pixels`` and measured
    on the validation windows, and the model to save: ``model`` blended, or ``model`` itself where the blend is
    not kept, not asked for or the run was cancelled."""
    if not config.pixel_blend:
        return not_blended("not asked for: training ran with the per-pixel blend off"), model
    if cancelled:
        return not_blended("training was cancelled"), model
    progress.update(0.95, f"Fitting a per-pixel network on {len(pixels[1]):,} training pixels and weighing it "
                          "against the network on the validation windows…")
    record, pixel_network = blend_decision(model, pixels, data.validation.dataset(config.batch_size), data.scheme,
                                           config.seed, progress.is_cancelled)
    return record, blended(model, pixel_network, record["weight"]) if pixel_network else model


def _flip_record(config: TrainConfig, data: Prepared, model: keras.Model, progress: Progress,
                 cancelled: bool) -> dict:
    """The flip-averaging decision (training.learn.flips), measured on the validation windows unless the run
    was cancelled (a cancel stops promptly: the model stays without flip averaging)."""
    if cancelled:
        return not_measured("training was cancelled")
    progress.update(0.96, "Scoring the validation windows with and without flip averaging…")
    return flip_decision(model, data.validation.dataset(config.batch_size), data.scheme)


def _int8_copy(config: TrainConfig, data: Prepared, model: keras.Model, progress: Progress,
               cancelled: bool) -> tuple[dict, bytes | None]:
    """The int8 decision (training.learn.int8) and the int8 copy to keep, if any: calibrated on a few training
    windows drawn with the seed, checked on the validation windows; none after a cancel."""
    if not config.int8:
        return not_made("not asked for: training ran with int8 off"), None
    if cancelled:
        return not_made("training was cancelled"), None
    progress.update(0.97, "Quantizing the network to int8 and checking it on the validation windows…")
    calibration = next(iter(data.train.dataset(CALIBRATION_WINDOWS, True, config.seed)))[0]
    return int8_decision(model, len(data.bands), np.asarray(calibration), data.validation.dataset(config.batch_size),
                         data.scheme)


def _save_average(config: TrainConfig, data: Prepared, model: keras.Model, average: WeightAverage | None,
                  checkpoint: Checkpoint) -> list[int] | None:
    """Save the averaged weights, batch-norm statistics recomputed on training batches, as the model; the first
    and last epochs averaged, or None where nothing was averaged."""
    if not average or not average.count:
        return None
    batches = data.train.dataset(config.batch_size, True, config.seed, config.jitter).take(NORM_BATCHES)
    average.apply(model, (images for images, *_ in batches))
    last = checkpoint.state["epoch"]
    checkpoint.info.metrics = {"averaged_epochs": [last - average.count + 1, last]}
    save_bundle(model, checkpoint.info, config.output_model)
    return checkpoint.info.metrics["averaged_epochs"]


def _fit_data(config: TrainConfig, data: Prepared, strategy) -> dict:
    """``fit``'s training and validation data: plain datasets on one device; under the mirrored and multiworker
    strategies, a batch per replica for the steps of a pass over all the data."""
    if config.strategy == "default":
        return {"x": data.train.dataset(config.batch_size, True, config.seed, config.jitter),
                "validation_data": data.validation.dataset(config.batch_size)}
    training, steps = distribute(strategy, data.train, config.batch_size, True, config.seed, config.jitter)
    validation, validation_steps = distribute(strategy, data.validation, config.batch_size)
    return {"x": training, "steps_per_epoch": steps, "validation_data": validation,
            "validation_steps": validation_steps}


def prepare(config: TrainConfig, progress: Progress) -> Prepared:
    """Load the training data, split it and fit the normalisation on the training part."""
    return _prepare_scene(config, progress) if config.image_raster else _prepare_chips(config, progress)


def _prepare_chips(config: TrainConfig, progress: Progress) -> Prepared:
    """Survey the chip files (one at a time) for the normalisation and the classes; they are read again as
    training consumes them."""
    pairs = find_pairs(config.chips_dir, config.image_suffix, config.label_suffix)
    bands = parse_bands(config.bands, open_raster(pairs[0][0], "image chip").RasterCount)
    check_chips(pairs, bands)
    separate = find_pairs(config.validation_dir, config.image_suffix, config.label_suffix) \
        if config.validation_dir else []
    if separate:
        check_chips(separate, bands)
    train_idx, val_idx, test_idx = split_chips(config, pairs)
    parts = {name: [pairs[i] for i in indices] for name, indices in
             (("train", train_idx), ("validation", val_idx), ("test", test_idx))}
    parts["validation"] = separate or parts["validation"]
    total = sum(len(part) for part in parts.values())
    shares = np.cumsum([len(part) for part in parts.values()]) / total
    progress.update(0.0, f"Reading {total} chips…")
    train = survey_chips(parts["train"], bands, progress.span(0.0, shares[0]), NormalizationFit(config.normalization))
    held = [survey_chips(parts[name], bands, progress.span(start, end), size=train.size)
            for name, start, end in (("validation", shares[0], shares[1]), ("test", shares[1], 1.0))]
    main_counts = train.label_counts + (0 if separate else held[0].label_counts) + held[1].label_counts
    check_labelled(main_counts, pairs[0][1].parent)
    stats = train.normalization.result()
    scheme = _class_scheme(config, main_counts, _folder_class_names(config.chips_dir))
    files = {name: ChipFiles(part, bands, stats, train.size) for name, part in parts.items()}
    counts = {name: len(part) for name, part in parts.items()}
    return Prepared(
        bands, scheme, stats, files["train"], files["validation"], files["test"] if counts["test"] else None,
        train.label_counts[:len(scheme)], int(train.size[0]), {"chips_dir": str(config.chips_dir), "chips": counts},
        f"{counts['train']} chips ({counts['validation']} for validation, {counts['test']} held out)")


def split_chips(config: TrainConfig, pairs: list[tuple[Path, Path]]) -> tuple[np.ndarray, ...]:
    """Training, validation and test indices of the chip ``pairs`` (no validation share beside a validation
    folder), whole places at a time where the chips have map coordinates."""
    separate = bool(config.validation_dir)
    return split_indices(len(pairs), 0 if separate else config.validation_split, config.test_split, config.seed,
                         need_validation=not separate,
                         groups=place_groups([image for image, _ in pairs], config.block_size))


def _prepare_scene(config: TrainConfig, progress: Progress) -> Prepared:
    images = [config.image_raster, *(config.more_images or [])]
    labels = [config.label_raster, *(config.more_labels or [])]
    if len(images) != len(labels) or not all(labels):
        raise GeoSegError(f"Training from rasters needs a label raster for each: {len(images)} raster(s) and "
                          f"{sum(map(bool, labels))} label raster(s) were given.")
    if config.window_size < INPUT_MULTIPLE or config.window_size % INPUT_MULTIPLE:
        raise GeoSegError(f"Window size {config.window_size} must be a positive multiple of {INPUT_MULTIPLE}.")
    if not (0 < config.validation_split < 1 and 0 <= config.test_split < 1):
        raise GeoSegError("From a raster, the validation and test shares are fractions of the labelled pixels "
                          "(validation above 0, both below 1).")
    count = open_raster(config.image_raster, "image raster").RasterCount
    bands = parse_bands(config.bands, count)
    scenes = []
    for image_path, label_path in zip(images, labels):
        if (other := open_raster(image_path, "image raster").RasterCount) != count:
            raise GeoSegError(f"The raster {image_path} has {other} bands, {config.image_raster} {count}: train on "
                              "rasters with the same bands.")
        progress.update(0.0, f"Reading {Path(image_path).name} and its labels…")
        scenes.append(read_scene(image_path, label_path, bands))
    scene, corners = mosaic(scenes, config.window_size) if len(scenes) > 1 else (scenes[0], [(0, 0)])
    split = split_blocks(scene.labels, (config.validation_split, config.test_split), config.window_size,
                         config.block_size)
    train_labels = np.where(split.training, scene.labels, NODATA_CLASS).astype(np.uint8)
    stats = fit_normalization(scene.image[split.training][None], config.normalization)
    image = normalize_array(scene.image, stats)
    scheme = _class_scheme(config, np.bincount(scene.labels.ravel(), minlength=NODATA_CLASS + 1), scene.class_names)
    train_counts = class_counts(train_labels, len(scheme))
    rare = rare_classes(train_counts, RARE_CLASS) if config.rare_windows else []
    sampler = WindowSampler(scene.labels, split.training, config.window_size, config.windows_per_epoch, config.seed,
                            np.isin(scene.labels, rare) if rare else None, config.rare_windows)
    if sampler.focus_count:
        shares = ", ".join(f"{scheme[c].name} {train_counts[c] / train_counts.sum():.2%}" for c in rare)
        progress.update(0.0, f"Rare classes ({shares} of the labelled training pixels): {sampler.focus_count} of each "
                     f"epoch's {config.windows_per_epoch} windows are drawn among those holding one (rare windows).")
    held = {name: ChipArrays(*tile_arrays(image, scene.labels, blocks, EVAL_TILE))
            for name, blocks in split.held_out().items()}
    counts = {name: len(held[name]) if name in held else 0 for name in ("validation", "test")}
    for name, classes in split.missing.items():
        if classes:
            progress.warn(f"No {name} block holds {', '.join(scheme[c].name for c in classes)}: the labels of that "
                          f"class lie in too few blocks to spare one from training; its {name} score is missing.")
    where = f" of {len(scenes)} rasters" if len(scenes) > 1 else ""
    return Prepared(
        bands, scheme, stats, SceneWindows(image, train_labels, sampler), held["validation"], held.get("test"),
        train_counts, config.window_size,
        {"image_raster": str(config.image_raster), "label_raster": str(config.label_raster),
         **({"more_images": list(map(str, images[1:])), "more_labels": list(map(str, labels[1:])),
             "mosaic_corners": [list(c) for c in corners]} if len(scenes) > 1 else {}),
         "blocks": {name: [asdict(b) for b in blocks] for name, blocks in split.held_out().items()},
         "buffer": split.buffer,
         "windows": {"size": config.window_size, "per_epoch": config.windows_per_epoch, **counts,
                     "rare_classes": [scheme[c].name for c in rare] if sampler.focus_count else [],
                     "rare_per_epoch": sampler.focus_count}},
        f"{config.windows_per_epoch} random {config.window_size}-px windows{where} an epoch ({counts['validation']} "
        f"tiles for validation, {counts['test']} held out)")


def _check_config(config: TrainConfig) -> None:
    check_settings(config)  # choices and ranges, also where train() is called directly
    if Path(config.output_model).suffix != ".keras":
        raise GeoSegError(f"The model file {config.output_model} must end in .keras.")
    if bool(config.chips_dir) == bool(config.image_raster):
        raise GeoSegError("Give either a chips folder or an image raster with its label raster (not both).")
    if (config.more_images or config.more_labels) and not config.image_raster:
        raise GeoSegError("More rasters train beside a first image raster, not beside a chips folder: give the first "
                          "raster as the image raster.")
    if config.max_minutes and config.strategy == "multiworker":
        raise GeoSegError("A time limit cannot end a multi-worker training (each worker's clock would stop it at a "
                          "different step): set max minutes to 0 and limit the epochs instead.")
    if config.init_model and not os.path.exists(config.init_model):
        raise GeoSegError(f"The starting model {config.init_model} does not exist: give an earlier GeoSeg .keras file.")
    for path in (history_path_for(config.output_model), resume_path_for(config.output_model),
                 *([report_path_for(config.output_model)] if config.report else [])):
        check_output(path)  # the files named after the model, e.g. a name too long for them


def _build(config: TrainConfig, data: Prepared, policy: str) -> keras.Model:
    """Build, initialise (ImageNet or an earlier model) and compile the network to compute under the dtype
    ``policy``."""
    options = dict(config.model_options)
    if ARCHITECTURES[config.architecture].backbone:
        options.update(bands=list(data.bands), freeze_encoder=config.freeze_encoder,
                       weights="imagenet" if config.pretrained else None, weights_path=config.weights_path or None)
    multiple = size_multiple(config.architecture, options)
    sides = sorted({data.window, *data.validation.size})
    if any(side % multiple for side in sides):
        pieces = " and ".join(map(str, sides))
        raise GeoSegError(f"The {ARCHITECTURES[config.architecture].label} with these options takes inputs whose sides "
                          f"are multiples of {multiple} px, but the training data comes in {pieces}-px pieces: make "
                          f"chips (or windows) of a multiple of {multiple} px, or give the network less depth (model "
                          "options, e.g. {\"depth\": 2}).")
    model = build_model(config.architecture, len(data.bands), len(data.scheme), **options)
    if config.init_model:
        transfer_from(config.init_model, model)
    if policy != "float32":
        model = with_policy(model, policy)
    class_weights = (balanced_class_weights(data.train_counts)
                     if config.class_weighting == "balanced" else None)
    adamw = keras.optimizers.AdamW(config.learning_rate, weight_decay=config.weight_decay)  # rate: see Schedule
    model.compile(optimizer=keras.optimizers.LossScaleOptimizer(adamw) if policy == "mixed_float16" else adamw,
                  loss=SegmentationLoss(len(data.scheme), class_weights, config.dice_weight),
                  weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                  metrics=[keras.metrics.MeanIoU(len(data.scheme), name="mean_iou", ignore_class=NODATA_CLASS,
                                                 sparse_y_pred=False)])
    return model


def _folder_class_names(chips_dir: str) -> list[ClassInfo] | None:
    """The classes of a chips folder's classes.json, if it has one."""
    path = Path(chips_dir) / CLASSES_FILE
    return scheme_from_dicts(json.loads(path.read_text())) if path.exists() else None


def _class_scheme(config: TrainConfig, label_counts: np.ndarray, found) -> list[ClassInfo]:
    """Class names from the config, else those ``found`` with the data (a scheme or names), else generic ones;
    ``label_counts``: pixels per label value 0–255."""
    present = np.flatnonzero(label_counts[:NODATA_CLASS])
    needed = int(present[-1]) + 1 if present.size else 1
    if config.class_names:
        scheme = class_scheme(config.class_names)
    elif found:
        scheme = found if isinstance(found[0], ClassInfo) else class_scheme(found)
    else:
        scheme = default_scheme(max(needed, 2))
    if len(scheme) < needed:
        raise GeoSegError(f"The labels of {config.chips_dir or config.label_raster} hold class values up to "
                          f"{needed - 1} but only {len(scheme)} class names were given: name every class "
                          f"0..{needed - 1}.")
    return scheme
