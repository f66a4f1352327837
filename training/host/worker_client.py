"""Run one job in a worker process (``python -m training worker``) and follow its JSON lines.

Standard library only: this runs in the caller's Python (QGIS' own), which need not have TensorFlow.
"""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import GeoSegError
from ..progress import Cancelled, Progress

TRAINING_ROOT = Path(__file__).resolve().parents[2]


class WorkerStartError(GeoSegError):
    """The worker's Python could not be started at all."""


def clean_environment(**extra: str) -> dict:
    """The caller's environment for another Python, without what points at the caller's own interpreter
    (QGIS sets PYTHONHOME and PYTHONPATH on some platforms), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP")}
    return {**env, **extra}


def hidden_window() -> dict:
    """Popen options that keep a console window from flashing up on Windows."""
    return {"creationflags": subprocess.CREATE_NO_WINDOW} if sys.platform == "win32" else {}


def run_worker(python: str, task: str, config: dict, progress: Progress) -> dict:
    """Run ``task`` in ``python``; progress and messages go to ``progress``, whose cancel sends SIGINT.

    Returns the job's result; raises :class:`Cancelled`, :class:`WorkerStartError` or ``ValueError`` with the
    job's own message (or the end of the worker's error output when it stopped without one).
    """
    progress.update(0, f"Starting the GeoSeg worker ({python})…")
    errors = tempfile.TemporaryFile("w+", errors="replace")  # a file: never blocks the worker
    try:
        worker = subprocess.Popen([python, "-m", "training", "worker"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=errors, text=True,
                                  env=clean_environment(PYTHONPATH=str(TRAINING_ROOT)),
                                  **hidden_window())
    except OSError as err:
        errors.close()
        raise WorkerStartError(f"Cannot start the GeoSeg worker Python {python} ({err}).") from None
    with worker, errors:
        worker.stdin.write(json.dumps({"task": task, "config": config}))
        worker.stdin.close()
        for event in map(json.loads, output_lines(worker, progress, _interrupt)):
            if "progress" in event:
                progress.update(event["progress"] / 100, event["message"])
            elif "result" in event:
                return event["result"]
            elif event.get("cancelled"):
                raise Cancelled(event["error"])
            else:
                raise GeoSegError(event["error"])
        worker.wait()
        if progress.is_cancelled():
            raise Cancelled()
        errors.seek(0)
        raise GeoSegError(f"The GeoSeg worker ({python}) stopped with exit code {worker.returncode}:\n"
                          f"{errors.read()[-3000:]}")


def output_lines(process: subprocess.Popen, progress: Progress,
                 on_cancel: Callable[[subprocess.Popen], None]) -> Iterator[str]:
    """``process``' output lines as they come, until it closes them; when ``progress`` is cancelled,
    ``on_cancel(process)`` is called, once."""
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout] + [lines.put(None)],
                     daemon=True).start()
    cancelled = False
    while True:
        if progress.is_cancelled() and not cancelled:
            on_cancel(process)
            cancelled = True
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            return
        yield line


def _interrupt(worker: subprocess.Popen) -> None:
    """Ask the worker to stop as SIGINT does (it then keeps what it finished); on Windows, end it."""
    worker.terminate() if sys.platform == "win32" else worker.send_signal(signal.SIGINT)
