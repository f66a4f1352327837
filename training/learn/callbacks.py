"""Keras callbacks: keep the best model, stop early, write resume points, report progress and cancel."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import keras
import numpy as np

from ..errors import GeoSegError
from ..models.bundle import ModelInfo, read_info, save_bundle
from ..outputs import atomic_path
from ..progress import Progress


class Checkpoint(keras.callbacks.Callback):
    """Record every epoch so that a run stopped at any moment, even killed, resumes without a repeated or a
    missing epoch; keep the best model; stop after ``patience`` epochs without a better validation mean IoU.

    After each epoch, in this order and each written atomically: the resume point (weights, optimizer state,
    best score and the history rows so far), then the model if it improved, then the history CSV. The resume
    point is the record: :meth:`restore` rewrites from it the model and history a killed run may have missed.
    Nothing is written before the first epoch ends, and nothing at all where ``writes`` is false (the workers
    of a multi-worker training but its chief), which still decide when to stop as the chief does.
    """

    def __init__(self, info: ModelInfo, model_path: str, patience: int, writes: bool = True):
        super().__init__()
        self.info, self.model_path, self.patience, self.writes = info, model_path, patience, writes
        self.resume_path, self.history_path = resume_path_for(model_path), history_path_for(model_path)
        self.state = {"epoch": 0, "best_score": -np.inf, "best_epoch": 0, "stopped": False, "history": []}

    @property
    def best_epoch(self) -> int:
        return self.state["best_epoch"]

    def on_epoch_end(self, epoch, logs=None):
        improved = self.record(epoch, logs or {})
        if not self.writes:
            return
        self.write_resume_point()
        if improved:
            self.save_model()
        write_history(self.history_path, self.state["history"])

    def record(self, epoch: int, logs: dict) -> bool:
        """Note the epoch's figures; whether it is the best so far (else stop once patience runs out)."""
        state, score = self.state, float(logs.get("val_mean_iou", -np.inf))
        improved = score > state["best_score"]
        if improved:
            state.update(best_score=score, best_epoch=epoch + 1)
        elif epoch + 1 - state["best_epoch"] >= self.patience:
            self.model.stop_training = state["stopped"] = True
        state["epoch"] = epoch + 1
        state["history"].append({"epoch": epoch, **{key: float(value) for key, value in sorted(logs.items())}})
        return improved

    def write_resume_point(self) -> None:
        arrays = {f"weight_{i}": w for i, w in enumerate(self.model.get_weights())}
        arrays.update({f"optimizer_{i}": np.asarray(v) for i, v in enumerate(self.model.optimizer.variables)})
        with atomic_path(self.resume_path) as tmp:
            np.savez(tmp, state=json.dumps(self.state), **arrays)

    def save_model(self) -> None:
        self.info.metrics = {"best_epoch": self.best_epoch, "best_val_mean_iou": self.state["best_score"]}
        save_bundle(self.model, self.info, self.model_path)

    def restore(self, model: keras.Model) -> dict:
        """Load the resume point into the compiled ``model``; write the history, and the model when its last
        epoch was the best, as the run that wrote it would have. Returns the state (``epoch``, ``best_epoch``,
        ``stopped`` by patience)."""
        self.set_model(model)
        with np.load(self.resume_path) as saved:
            self.state = json.loads(str(saved["state"]))
            count = sum(1 for key in saved.files if key.startswith("weight_"))
            model.set_weights([saved[f"weight_{i}"] for i in range(count)])
            model.optimizer.build(model.trainable_variables)
            for i, variable in enumerate(model.optimizer.variables):
                variable.assign(saved[f"optimizer_{i}"])
        if not self.writes:
            return self.state
        if self.best_epoch == self.state["epoch"] and _saved_best_epoch(self.model_path) != self.best_epoch:
            self.save_model()  # the weights just restored are the best epoch's
        write_history(self.history_path, self.state["history"])
        return self.state


def _saved_best_epoch(model_path: str) -> int | None:
    try:
        return read_info(model_path).metrics.get("best_epoch")
    except GeoSegError:
        return None


def write_history(path: str, rows: list[dict]) -> None:
    """One CSV row per epoch: the epoch (from 0) and its figures."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)


def resume_path_for(model_path: str) -> str:
    return str(Path(model_path).with_suffix(".resume.npz"))


def history_path_for(model_path: str) -> str:
    return str(Path(model_path).with_suffix(".history.csv"))


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
