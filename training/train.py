"""Train a segmentation model on a chips folder and save it as a GeoSeg model bundle."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np

from .bands import parse_bands
from .bundle import ModelInfo, save_bundle
from .callbacks import BestCheckpoint, FitProgress
from .chips import CLASSES_FILE
from .classes import NODATA_CLASS, class_scheme, default_scheme, scheme_from_dicts
from .config import TrainConfig, TrainResult
from .dataset import find_pairs, load_chips, pixel_weights, split_indices, to_dataset
from .metrics import confusion_matrix, majority_baseline, scores
from .models import build_model
from .normalization import fit_normalization, normalize
from .progress import Progress
from .raster import open_raster


def history_path_for(model_path: str) -> str:
    return str(Path(model_path).with_suffix(".history.csv"))


def train(config: TrainConfig, progress: Progress | None = None) -> TrainResult:
    """Train ``config.architecture`` with Adam and early stopping; the best epoch (lowest validation
    loss) is saved to ``config.output_model`` whenever it improves, so a cancelled run keeps it."""
    progress = progress or Progress()
    if Path(config.output_model).suffix != ".keras":
        raise ValueError(f"The model file {config.output_model} must end in .keras.")
    Path(config.output_model).parent.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    pairs = find_pairs(config.chips_dir, config.image_suffix, config.label_suffix)
    bands = parse_bands(config.bands, open_raster(pairs[0][0], "image chip").RasterCount)
    chips = load_chips(pairs, bands, progress.span(0.0, 0.05))
    scheme = _class_scheme(config, chips.labels)
    train_idx, val_idx, test_idx = split_indices(len(chips.names), config.validation_split,
                                                 config.test_split, config.seed)
    stats = fit_normalization(chips.images[train_idx], config.normalization)
    images = normalize(chips.images, stats).astype(np.float32)
    weights = pixel_weights(chips.labels)

    def subset(idx, augment=False):
        return to_dataset(images[idx], chips.labels[idx], weights[idx], config.batch_size, augment, config.seed)

    model = build_model(config.architecture, len(bands), len(scheme), **config.model_options)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    info = ModelInfo(
        architecture=config.architecture, bands=list(bands), classes=scheme, normalization=stats,
        chip_size=int(chips.images.shape[1]),
        training={"chips_dir": str(config.chips_dir), "chips": {"train": len(train_idx), "validation": len(val_idx),
                  "test": len(test_idx)}, "config": asdict(config)},
    )
    checkpoint = BestCheckpoint(info, config.output_model)
    fit_progress = FitProgress(progress.span(0.05, 0.95), config.epochs)
    history_path = history_path_for(config.output_model)
    model.fit(subset(train_idx, augment=True), validation_data=subset(val_idx), epochs=config.epochs,
              shuffle=False, verbose=0, callbacks=[
                  keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience),
                  keras.callbacks.CSVLogger(history_path),
                  checkpoint, fit_progress])
    if checkpoint.best_weights is None:
        progress.check()
        raise RuntimeError("Training stopped before one epoch finished: no model was saved.")
    model.set_weights(checkpoint.best_weights)
    eval_idx = test_idx if len(test_idx) else val_idx
    prediction = predict_classes(model, images[eval_idx], config.batch_size)
    test_metrics = scores(confusion_matrix(chips.labels[eval_idx], prediction, len(scheme)), [c.name for c in scheme])
    test_metrics["split"] = "test" if len(test_idx) else "validation"
    baseline = majority_baseline(chips.labels[train_idx], chips.labels[eval_idx], len(scheme))
    info.metrics = {"best_epoch": checkpoint.best_epoch, "best_val_loss": checkpoint.best_loss,
                    "held_out": test_metrics, "majority_baseline": baseline}
    save_bundle(model, info, config.output_model)
    progress.update(1.0, f"Held-out pixel accuracy {test_metrics['pixel_accuracy']:.3f} "
                         f"(majority baseline {baseline['pixel_accuracy']:.3f}).")
    return TrainResult(config.output_model, history_path, fit_progress.epochs_done, checkpoint.best_epoch,
                       fit_progress.cancelled, test_metrics, baseline)


def predict_classes(model, images: np.ndarray, batch_size: int) -> np.ndarray:
    probabilities = model.predict(images, batch_size=batch_size, verbose=0)
    return probabilities.argmax(axis=-1).astype(np.uint8)


def _class_scheme(config: TrainConfig, labels: np.ndarray):
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
