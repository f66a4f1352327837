"""A training run killed (SIGKILL) at any moment resumes without a repeated or a missing epoch."""
import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from processes import read_lines
from synthetic import write_scene
from training.models.bundle import load_bundle
from training.data.chips import create_chips
from training.config import ChipsConfig

ROOT = Path(__file__).resolve().parents[3]
EPOCHS = 6


@pytest.fixture
def run(tmp_path):
    """Start ``python -m training train`` on tiny chips; returns (process, its stderr lines so far)."""
    image, labels = write_scene(tmp_path, 128, 128)
    create_chips(ChipsConfig(str(image), str(tmp_path / "chips"), str(labels), chip_size=32))

    def start(resume: bool):
        args = [sys.executable, "-m", "training", "train", str(tmp_path / "model.keras"), "--chips-dir",
                str(tmp_path / "chips"), "--bands", "rgb", "--epochs", str(EPOCHS), "--batch-size", "4",
                "--patience", "50", "--model-options", json.dumps({"base_filters": 4, "depth": 2})]
        process = subprocess.Popen(args + (["--resume"] if resume else []), stderr=subprocess.PIPE, text=True,
                                   stdout=subprocess.DEVNULL, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        lines = []
        threading.Thread(target=read_lines, args=(process.stderr, lines), daemon=True).start()
        return process, lines

    return start


def rows(path: Path) -> list[int]:
    if not path.exists():
        return []
    with open(path) as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def kill_when(process, condition, timeout: float = 120.0) -> None:
    """SIGKILL ``process`` as soon as ``condition()`` holds (polled every millisecond)."""
    end = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None and time.monotonic() < end, "the run ended before the moment to kill it"
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    process.wait()


def recorded(resume: Path) -> int:
    """The epochs a resume point records."""
    if not resume.exists():
        return 0
    with np.load(resume) as saved:
        return json.loads(str(saved["state"]))["epoch"]


def test_a_run_killed_at_any_moment_resumes_without_a_repeated_or_missing_epoch(run, tmp_path):
    model, history, resume = (tmp_path / name for name in ("model.keras", "model.history.csv", "model.resume.npz"))

    def new_resume_point(lines):
        done = recorded(resume)
        return lambda: recorded(resume) > done

    def new_history_row(lines):
        done = recorded(resume)
        return lambda: len(rows(history)) > done

    def mid_epoch(lines):  # 0.2 s after training started
        started = []

        def condition():
            if not started and any(line.startswith("Training on") for line in lines):
                started.append(time.monotonic())
            return bool(started) and time.monotonic() - started[0] > 0.2
        return condition

    process, lines = run(resume=False)
    kill_when(process, mid_epoch(lines))  # in the first epoch: nothing is written yet, nothing is left
    assert not model.exists() and not history.exists() and not resume.exists()
    process, lines = run(resume=False)
    for moment in (new_resume_point, new_history_row, mid_epoch):
        kill_when(process, moment(lines))
        epochs = rows(history)
        assert epochs == list(range(len(epochs))) and len(epochs) <= recorded(resume), moment.__name__
        if model.exists():
            load_bundle(str(model))  # never half-written
        process, lines = run(resume=True)
    assert process.wait(timeout=300) == 0, "".join(lines)
    assert rows(history) == list(range(EPOCHS))
    assert load_bundle(str(model))[1].metrics["held_out"]
    assert not resume.exists() and not list(tmp_path.glob(".*partial*"))
