"""Keras callbacks: best-model checkpointing and progress/cancel reporting."""
from __future__ import annotations

import keras
import numpy as np

from .bundle import ModelInfo, save_bundle
from .progress import Progress


class BestCheckpoint(keras.callbacks.Callback):
    """Keep the weights of the epoch with the lowest validation loss and save that model atomically."""

    def __init__(self, info: ModelInfo, path: str):
        super().__init__()
        self.info, self.path = info, path
        self.best_loss, self.best_epoch, self.best_weights = float("inf"), 0, None

    def on_epoch_end(self, epoch, logs=None):
        loss = float((logs or {}).get("val_loss", np.inf))
        if loss < self.best_loss:
            self.best_loss, self.best_epoch = loss, epoch + 1
            self.best_weights = self.model.get_weights()
            self.info.metrics = {"best_epoch": self.best_epoch, "best_val_loss": loss}
            save_bundle(self.model, self.info, self.path)


class FitProgress(keras.callbacks.Callback):
    """Report each epoch to a :class:`Progress`; stop after the current batch when cancelled."""

    def __init__(self, progress: Progress, epochs: int):
        super().__init__()
        self.progress, self.epochs = progress, epochs
        self.epochs_done, self.cancelled = 0, False

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
                             f"val_accuracy {logs.get('val_accuracy', np.nan):.3f}")
