"""Keras callbacks: keep the best model, stop early, write resume points, report progress and cancel."""
from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

from .bundle import ModelInfo, save_bundle
from .outputs import atomic_path
from .progress import Progress


class BestModel(keras.callbacks.Callback):
    """Save the model whenever the validation mean IoU improves; stop after ``patience`` epochs without it."""

    def __init__(self, info: ModelInfo, path: str, patience: int, best_score: float = -np.inf, best_epoch: int = 0):
        super().__init__()
        self.info, self.path, self.patience = info, path, patience
        self.best_score, self.best_epoch = best_score, best_epoch

    def on_epoch_end(self, epoch, logs=None):
        score = float((logs or {}).get("val_mean_iou", -np.inf))
        if score > self.best_score:
            self.best_score, self.best_epoch = score, epoch + 1
            self.info.metrics = {"best_epoch": self.best_epoch, "best_val_mean_iou": score}
            save_bundle(self.model, self.info, self.path)
        elif epoch + 1 - self.best_epoch >= self.patience:
            self.model.stop_training = True


class ResumePoint(keras.callbacks.Callback):
    """After every epoch, save weights, optimizer state and progress so an interrupted run can continue."""

    def __init__(self, path: str, best: BestModel):
        super().__init__()
        self.path, self.best = path, best

    def on_epoch_end(self, epoch, logs=None):
        state = {"epoch": epoch + 1, "best_score": self.best.best_score, "best_epoch": self.best.best_epoch}
        arrays = {f"weight_{i}": w for i, w in enumerate(self.model.get_weights())}
        arrays.update({f"optimizer_{i}": np.asarray(v) for i, v in enumerate(self.model.optimizer.variables)})
        with atomic_path(self.path) as tmp:
            np.savez(tmp, state=json.dumps(state), **arrays)


def restore_resume_point(path: str, model: keras.Model) -> dict:
    """Load a resume point into a compiled ``model``; returns its state (epoch, best_score, best_epoch)."""
    with np.load(path) as saved:
        state = json.loads(str(saved["state"]))
        count = sum(1 for key in saved.files if key.startswith("weight_"))
        model.set_weights([saved[f"weight_{i}"] for i in range(count)])
        model.optimizer.build(model.trainable_variables)
        for i, variable in enumerate(model.optimizer.variables):
            variable.assign(saved[f"optimizer_{i}"])
    return state


def resume_path_for(model_path: str) -> str:
    return str(Path(model_path).with_suffix(".resume.npz"))


class FitProgress(keras.callbacks.Callback):
    """Report each epoch to a :class:`Progress`; stop after the current batch when cancelled."""

    def __init__(self, progress: Progress, epochs: int, initial_epoch: int = 0):
        super().__init__()
        self.progress, self.epochs = progress, epochs
        self.epochs_done, self.cancelled = initial_epoch, False

    def on_train_batch_end(self, batch, logs=None):
        if self.progress.is_cancelled():
            self.cancelled = True
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_done = epoch + 1
        logs = logs or {}
        self.progress.update(self.epochs_done / self.epochs,
                             f"Epoch {self.epochs_done}/{self.epochs}: loss {logs.get('loss', np.nan):.4f}, "
                             f"val_loss {logs.get('val_loss', np.nan):.4f}, "
                             f"val_accuracy {logs.get('val_accuracy', np.nan):.3f}, "
                             f"val_mean_iou {logs.get('val_mean_iou', np.nan):.3f}")
