"""Keras callbacks: steer the learning rate along the training's length, average the weights, keep the best
model, stop early, write resume points, report progress and cancel."""
from __future__ import annotations

import csv
import json
import math
import time
import zipfile
from pathlib import Path

import keras
import numpy as np

from ..errors import GeoSegError
from ..models.bundle import ModelInfo, read_info, save_bundle
from ..outputs import atomic_path
from ..progress import Progress


class Checkpoint(keras.callbacks.Callback):
    """Record every epoch so that a run stopped at any moment, even killed, resumes without a repeated or a
    missing epoch; keep the best model; stop after ``patience`` epochs without a better validation mean IoU
    (0: never). The resume point also holds the running weight ``average``, where there is one.

    After each epoch, in this order and each written atomically: the resume point (weights, optimizer state,
    best score and the history rows so far), then the model if it improved, then the history CSV. The resume
    point is the record: :meth:`restore` rewrites from it the model and history a killed run may have missed.
    Nothing is written before the first epoch ends, and nothing at all where ``writes`` is false (the workers
    of a multi-worker training but its chief), which still decide when to stop as the chief does.
    """

    def __init__(self, info: ModelInfo, model_path: str, patience: int, writes: bool = True,
                 average: WeightAverage | None = None):
        super().__init__()
        self.info, self.model_path, self.patience, self.writes = info, model_path, patience, writes
        self.average = average
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
        elif self.patience and epoch + 1 - state["best_epoch"] >= self.patience:
            self.model.stop_training = state["stopped"] = True
        state["epoch"] = epoch + 1
        state["history"].append({"epoch": epoch, **{key: float(value) for key, value in sorted(logs.items())}})
        return improved

    def write_resume_point(self) -> None:
        arrays = {f"weight_{i}": w for i, w in enumerate(self.model.get_weights())}
        arrays.update({f"optimizer_{i}": np.asarray(v) for i, v in enumerate(self.model.optimizer.variables)})
        if self.average and self.average.count:
            arrays.update({f"average_{i}": w for i, w in enumerate(self.average.sums)})
            arrays["average_count"] = np.int64(self.average.count)
        with atomic_path(self.resume_path) as tmp:
            _save_npz(tmp, {"state": json.dumps(self.state), **arrays})

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
            if self.average and "average_count" in saved.files:
                self.average.sums = [saved[f"average_{i}"] for i in range(count)]
                self.average.count = int(saved["average_count"])
        if not self.writes:
            return self.state
        if self.best_epoch == self.state["epoch"] and _saved_best_epoch(self.model_path) != self.best_epoch:
            self.save_model()  # the weights just restored are the best epoch's
        write_history(self.history_path, self.state["history"])
        return self.state


def _save_npz(path: str, arrays: dict) -> None:
    """What ``np.savez`` writes, the zip closed whatever happens: numpy leaves it open when a write fails (a full
    disk), to fail again when collected ("Exception ignored")."""
    with zipfile.ZipFile(path, "w", allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


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


WARM_UP = 0.05  # share of the training's length over which the cosine schedule's learning rate rises from 0
AVERAGE_FROM = 0.75  # share of the training's length after which the epochs' weights enter the average


class Schedule(keras.callbacks.Callback):
    """Where training stands along its length, from 0 to 1: its steps done of ``steps`` or its seconds of
    ``seconds_limit`` (0: none; the clock starts after the first step, which also builds the graph), whichever
    is further. Sets the learning rate for each step from it (constant, or warm-up then cosine decay to 0) and
    ends training when it reaches 1 (after the step, epoch end and validation included). Each epoch's log gains
    ``seconds``, the training time so far, from which a resumed run continues (it sets ``seconds_before``)."""

    def __init__(self, rate: float, schedule: str, steps: int, seconds_limit: float = 0.0):
        super().__init__()
        self.rate, self.schedule, self.steps, self.seconds_limit = rate, schedule, steps, seconds_limit
        self.seconds_before, self.started = 0.0, None

    def seconds(self) -> float:
        return self.seconds_before + (time.monotonic() - self.started if self.started else 0.0)

    def position(self) -> float:
        steps = int(np.asarray(self.model.optimizer.iterations)) / self.steps
        return max(steps, self.seconds() / self.seconds_limit if self.seconds_limit else 0.0)

    def learning_rate(self, position: float) -> float:
        if self.schedule == "constant":
            return self.rate
        if position < WARM_UP:
            return self.rate * min(1.0, (position + 1 / self.steps) / WARM_UP)
        return self.rate * 0.5 * (1 + math.cos(math.pi * min((position - WARM_UP) / (1 - WARM_UP), 1.0)))

    def on_train_begin(self, logs=None):
        self.started = None

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = self.learning_rate(self.position())

    def on_train_batch_end(self, batch, logs=None):
        self.started = self.started or time.monotonic()
        if self.position() >= 1.0:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["seconds"] = self.seconds()


class WeightAverage(keras.callbacks.Callback):
    """The mean of the weights at the ends of the epochs that end past :data:`AVERAGE_FROM` of the training's
    length (stochastic weight averaging); :meth:`apply` puts it into the model."""

    def __init__(self, schedule: Schedule):
        super().__init__()
        self.schedule, self.sums, self.count = schedule, [], 0

    def on_epoch_end(self, epoch, logs=None):
        if self.schedule.position() < AVERAGE_FROM:
            return
        weights = self.model.get_weights()
        self.sums = [total + w for total, w in zip(self.sums, weights)] if self.count else weights
        self.count += 1

    def apply(self, model: keras.Model, batches) -> None:
        """Set ``model``'s weights to the average (some epoch must have entered it), then recompute its batch-norm
        statistics as the plain mean over ``batches`` (an iterable of input batches) for the averaged weights."""
        model.set_weights([total / self.count for total in self.sums])
        recompute_batch_norm(model, batches)


def recompute_batch_norm(model: keras.Model, batches) -> None:
    """Each batch normalisation's moving mean and variance: the mean of its batch statistics over ``batches``."""
    norms = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]
    if not norms:
        return
    momenta = [norm.momentum for norm in norms]
    try:
        for seen, batch in enumerate(batches):
            for norm in norms:
                norm.momentum = seen / (seen + 1)  # the k-th batch enters the running mean with weight 1 / k
            model(batch, training=True)
    finally:
        for norm, momentum in zip(norms, momenta):
            norm.momentum = momentum


class FitProgress(keras.callbacks.Callback):
    """Report training to a :class:`Progress`: the bar follows the ``schedule``'s position batch by batch, and
    each epoch ends with a line of its scores and the time left at the pace so far; stop after the current batch
    when cancelled."""

    def __init__(self, progress: Progress, schedule: Schedule, epochs: int, initial_epoch: int = 0):
        super().__init__()
        self.progress, self.schedule, self.epochs = progress, schedule, epochs
        self.epochs_done, self.cancelled = initial_epoch, False
        self.began = self.begun_at = 0.0

    def on_train_begin(self, logs=None):
        self.began, self.begun_at = time.monotonic(), self.schedule.position()

    def on_train_batch_end(self, batch, logs=None):
        if self.progress.is_cancelled():
            self.cancelled = True
            self.model.stop_training = True
        self.progress.update(self.schedule.position())

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_done = epoch + 1
        logs = logs or {}
        position = self.schedule.position()
        self.progress.update(position,
                             f"Epoch {self.epochs_done}/{self.epochs}: loss {logs.get('loss', np.nan):.4f}, "
                             f"val_loss {logs.get('val_loss', np.nan):.4f}, "
                             f"val_accuracy {logs.get('val_accuracy', np.nan):.3f}, "
                             f"val_mean_iou {logs.get('val_mean_iou', np.nan):.3f}"
                             f"{time_left(time.monotonic() - self.began, position - self.begun_at, 1 - position)}")


def time_left(seconds: float, done: float, left: float) -> str:
    """", about N min left" at the pace of ``done`` (a share of the training) in ``seconds``; empty when nothing
    is done or nothing left."""
    if done <= 0 or left <= 0:
        return ""
    minutes = seconds * left / done / 60
    return f", about {minutes:.0f} min left" if minutes >= 1 else ", under a minute left"
