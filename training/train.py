"""Train a segmentation model on a chips folder and save it as a GeoSeg model bundle."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np

from .bands import parse_bands
from .bundle import ModelInfo, load_bundle, save_bundle
from .callbacks import BestModel, FitProgress, ResumePoint, restore_resume_point, resume_path_for
from .chips import CLASSES_FILE
from .classes import NODATA_CLASS, ClassInfo, class_scheme, default_scheme, scheme_from_dicts
from .config import ARCHITECTURES, CLASS_WEIGHTINGS, TrainConfig, TrainResult
from .dataset import Chips, find_pairs, load_chips, split_indices, to_dataset
from .losses import SegmentationLoss, balanced_class_weights
from .metrics import confusion_matrix, majority_baseline, scores
from .models import build_model
from .models.imagenet import transfer_from
from .normalization import fit_normalization, normalize
from .progress import Progress
from .raster import open_raster

PRETRAINED = ("unet_vgg16", "unet_vgg19", "deeplabv3_resnet50")


@dataclass
class Prepared:
    """Chips loaded, split and normalised for one training run."""

    chips: Chips
    images: np.ndarray  # normalised
    bands: tuple[int, ...]
    scheme: list[ClassInfo]
    stats: dict
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def history_path_for(model_path: str) -> str:
    return str(Path(model_path).with_suffix(".history.csv"))


def train(config: TrainConfig, progress: Progress | None = None) -> TrainResult:
    """Train with Adam until the validation loss stops improving for ``patience`` epochs.

    The best epoch is saved to ``config.output_model`` whenever it improves, so a cancelled run keeps it;
    a resume point is written after every epoch so ``resume=True`` continues an interrupted run.
    """
    progress = progress or Progress()
    _check_config(config)
    keras.utils.set_random_seed(config.seed)
    data = prepare(config, progress.span(0.0, 0.05))
    progress.update(0.05, f"Building the {ARCHITECTURES[config.architecture]} for {len(data.bands)} bands and "
                          f"{len(data.scheme)} classes…")
    model = _build(config, data)
    info = ModelInfo(
        architecture=config.architecture, bands=list(data.bands), classes=data.scheme, normalization=data.stats,
        chip_size=int(data.chips.images.shape[1]),
        training={"chips_dir": str(config.chips_dir), "config": asdict(config),
                  "chips": {"train": len(data.train), "validation": len(data.validation), "test": len(data.test)}})
    resume_path = resume_path_for(config.output_model)
    state = {"epoch": 0, "best_loss": np.inf, "best_epoch": 0}
    if config.resume and Path(resume_path).exists():
        state = restore_resume_point(resume_path, model)
        progress.update(0.0, f"Resuming after epoch {state['epoch']} (best so far: epoch {state['best_epoch']}).")
    best = BestModel(info, config.output_model, config.patience, state["best_loss"], state["best_epoch"])
    fit_progress = FitProgress(progress.span(0.05, 0.95), config.epochs, state["epoch"])
    history_path = history_path_for(config.output_model)
    progress.update(0.05, f"Training on {len(data.train)} chips ({len(data.validation)} for validation, "
                          f"{len(data.test)} held out): epoch {state['epoch'] + 1} of at most {config.epochs}…")

    def dataset(indices, augment=False):
        return to_dataset(data.images[indices], data.chips.labels[indices], config.batch_size, augment, config.seed)

    model.fit(dataset(data.train, augment=True), validation_data=dataset(data.validation), epochs=config.epochs,
              initial_epoch=state["epoch"], shuffle=False, verbose=0, callbacks=[
                  keras.callbacks.CSVLogger(history_path, append=state["epoch"] > 0),
                  best, ResumePoint(resume_path, best), fit_progress])
    if best.best_epoch == 0:
        progress.check()
        raise RuntimeError("Training stopped before one epoch finished: no model was saved.")
    model.set_weights(load_bundle(config.output_model)[0].get_weights())
    held_out = data.test if len(data.test) else data.validation
    metrics = evaluate(model, data.images[held_out], data.chips.labels[held_out], data.scheme, config.batch_size)
    metrics["split"] = "test" if len(data.test) else "validation"
    baseline = majority_baseline(data.chips.labels[data.train], data.chips.labels[held_out], len(data.scheme))
    info.metrics = {"best_epoch": best.best_epoch, "best_val_loss": best.best_loss, "held_out": metrics,
                    "majority_baseline": baseline}
    save_bundle(model, info, config.output_model)
    if not fit_progress.cancelled:
        Path(resume_path).unlink(missing_ok=True)
    progress.update(1.0, f"Held-out pixel accuracy {metrics['pixel_accuracy']:.3f}, mean IoU "
                         f"{metrics['mean_iou']:.3f} (majority baseline {baseline['pixel_accuracy']:.3f}).")
    return TrainResult(config.output_model, history_path, fit_progress.epochs_done, best.best_epoch,
                       fit_progress.cancelled, metrics, baseline)


def prepare(config: TrainConfig, progress: Progress) -> Prepared:
    """Load the chips' bands, split them and fit the normalisation on the training split."""
    pairs = find_pairs(config.chips_dir, config.image_suffix, config.label_suffix)
    bands = parse_bands(config.bands, open_raster(pairs[0][0], "image chip").RasterCount)
    chips = load_chips(pairs, bands, progress)
    train_idx, val_idx, test_idx = split_indices(len(chips.names), config.validation_split, config.test_split,
                                                 config.seed)
    stats = fit_normalization(chips.images[train_idx], config.normalization)
    images = normalize(chips.images, stats).astype(np.float32)
    return Prepared(chips, images, bands, _class_scheme(config, chips.labels), stats, train_idx, val_idx, test_idx)


def evaluate(model: keras.Model, images: np.ndarray, labels: np.ndarray, scheme, batch_size: int) -> dict:
    """Scores of ``model`` on normalised ``images`` against ``labels`` (unlabelled pixels ignored)."""
    predicted = model.predict(images, batch_size=batch_size, verbose=0).argmax(axis=-1)
    return scores(confusion_matrix(labels, predicted, len(scheme)), [c.name for c in scheme])


def _check_config(config: TrainConfig) -> None:
    if config.architecture not in ARCHITECTURES:
        raise ValueError(f"Model {config.architecture!r} is unknown: use one of {', '.join(ARCHITECTURES)}.")
    if Path(config.output_model).suffix != ".keras":
        raise ValueError(f"The model file {config.output_model} must end in .keras.")
    if config.class_weighting not in CLASS_WEIGHTINGS:
        raise ValueError(f"Class weighting {config.class_weighting!r} is unknown: "
                         f"use one of {', '.join(CLASS_WEIGHTINGS)}.")
    if config.init_model and not os.path.exists(config.init_model):
        raise ValueError(f"The starting model {config.init_model} does not exist: give an earlier GeoSeg .keras file.")
    Path(config.output_model).parent.mkdir(parents=True, exist_ok=True)


def _build(config: TrainConfig, data: Prepared) -> keras.Model:
    """Build, initialise (ImageNet or an earlier model) and compile the network."""
    options = dict(config.model_options)
    if config.architecture in PRETRAINED:
        options.update(bands=list(data.bands), freeze_encoder=config.freeze_encoder,
                       weights="imagenet" if config.pretrained else None, weights_path=config.weights_path or None)
    model = build_model(config.architecture, len(data.bands), len(data.scheme), **options)
    if config.init_model:
        transfer_from(config.init_model, model)
    class_weights = (balanced_class_weights(data.chips.labels[data.train], len(data.scheme))
                     if config.class_weighting == "balanced" else None)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate),
                  loss=SegmentationLoss(len(data.scheme), class_weights, config.dice_weight),
                  weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    return model


def _class_scheme(config: TrainConfig, labels: np.ndarray) -> list[ClassInfo]:
    """Class names from the config, else the chips folder's classes.json, else generic names."""
    labelled = labels[labels != NODATA_CLASS]
    needed = int(labelled.max()) + 1 if labelled.size else 1
    if config.class_names:
        scheme = class_scheme(config.class_names)
    elif (Path(config.chips_dir) / CLASSES_FILE).exists():
        scheme = scheme_from_dicts(json.loads((Path(config.chips_dir) / CLASSES_FILE).read_text()))
    else:
        scheme = default_scheme(max(needed, 2))
    if len(scheme) < needed:
        raise ValueError(f"The label chips in {config.chips_dir} hold class values up to {needed - 1} but only "
                         f"{len(scheme)} class names were given: name every class 0..{needed - 1}.")
    return scheme
