"""Run a ``training`` job for an algorithm.

Jobs that need TensorFlow run in a worker process, ``python -m training worker``: TensorFlow bundles its
own protobuf and SQLite, which clash with QGIS' libraries when loaded into the QGIS process itself (seen as
a crash in qgis_process and on exit). The worker's Python is ``GEOSEG_PYTHON`` (environment variable), else
the QGIS setting ``geoseg/python``, else the Python QGIS runs on; point it at any Python with TensorFlow,
GDAL and NumPy (a venv or conda env) and QGIS itself needs no TensorFlow. The value ``in-process`` runs
jobs inside QGIS' own Python instead. Jobs without TensorFlow (cutting chips) always run in-process.
"""
import dataclasses
import importlib.util
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from qgis.core import QgsProcessingException, QgsProcessingFeedback, QgsSettings
from qgis.PyQt.QtSql import QSqlDatabase, QSqlQuery

from training.jobs import run_job
from training.progress import Cancelled, Progress

TRAINING_ROOT = Path(importlib.util.find_spec("training").origin).parent.parent
IN_PROCESS = "in-process"
TENSORFLOW_MISSING = (
    "TensorFlow is not installed in the Python that QGIS uses. Install it there "
    "(`python3 -m pip install 'tensorflow-cpu>=2.16'`; on Windows from the OSGeo4W Shell) and restart QGIS."
)


def worker_python() -> str:
    """The Python that runs TensorFlow jobs (or ``in-process``)."""
    return (os.environ.get("GEOSEG_PYTHON") or QgsSettings().value("geoseg/python", "", type=str)
            or sys.executable)


def run(task: str, config, feedback: QgsProcessingFeedback, needs_tensorflow: bool = True) -> dict:
    """Run ``task`` with the dataclass ``config``; training errors become ``QgsProcessingException``."""
    python = worker_python() if needs_tensorflow else IN_PROCESS
    try:
        if python != IN_PROCESS:
            return _run_in_worker(python, task, dataclasses.asdict(config), feedback)
        if needs_tensorflow:
            _prepare_for_tensorflow()
        return run_job(task, dataclasses.asdict(config), _progress(feedback))
    except (ValueError, Cancelled) as err:
        raise QgsProcessingException(str(err)) from err


def _prepare_for_tensorflow() -> None:
    """Check TensorFlow is importable and make it safe to load into QGIS.

    TensorFlow's library carries its own SQLite. Qt's SQLite driver resolves SQLite functions on first use,
    so once TensorFlow is loaded, QGIS could close its settings databases with the wrong SQLite and crash on
    exit. Using the driver once beforehand binds those functions to the system SQLite.
    """
    if importlib.util.find_spec("tensorflow") is None:
        raise QgsProcessingException(TENSORFLOW_MISSING)
    if "tensorflow" in sys.modules:
        return
    database = QSqlDatabase.addDatabase("QSQLITE", "geoseg-sqlite-binding")
    database.setDatabaseName(":memory:")
    if database.open():
        query = QSqlQuery(database)
        for statement in ("CREATE TABLE t (a)", "INSERT INTO t VALUES (1)", "SELECT a FROM t"):
            query.exec_(statement)
        query.next()
        query.finish()
        del query
        database.close()
    del database
    QSqlDatabase.removeDatabase("geoseg-sqlite-binding")


def _progress(feedback: QgsProcessingFeedback) -> Progress:
    def report(percent: float, message: str) -> None:
        feedback.setProgress(percent)
        if message:
            feedback.pushInfo(message)

    return Progress(report, feedback.isCanceled)


def _run_in_worker(python: str, task: str, config: dict, feedback: QgsProcessingFeedback) -> dict:
    """Stream the worker's JSON lines into the feedback; the cancel button sends it SIGINT."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(TRAINING_ROOT), os.environ.get("PYTHONPATH")])))
    errors = tempfile.TemporaryFile("w+", errors="replace")  # a file: never blocks the worker
    try:
        worker = subprocess.Popen([python, "-m", "training", "worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=errors, text=True, env=env)
    except OSError as err:
        errors.close()
        raise QgsProcessingException(f"Cannot start the GeoSeg worker Python {python} ({err}): set GEOSEG_PYTHON "
                                     "(or the QGIS setting geoseg/python) to a Python with TensorFlow.") from None
    with worker, errors:
        worker.stdin.write(json.dumps({"task": task, "config": config}))
        worker.stdin.close()
        for event in _events(worker, feedback):
            if "progress" in event:
                feedback.setProgress(event["progress"])
                if event["message"]:
                    feedback.pushInfo(event["message"])
            elif "result" in event:
                return event["result"]
            else:
                raise QgsProcessingException(event["error"])
        worker.wait()
        errors.seek(0)
        raise QgsProcessingException(f"The GeoSeg worker ({python}) stopped with exit code {worker.returncode}:\n"
                                     f"{errors.read()[-3000:]}")


def _events(worker: subprocess.Popen, feedback: QgsProcessingFeedback):
    """The worker's JSON events as they come; a cancel in QGIS is passed on as SIGINT, once."""
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in worker.stdout] + [lines.put(None)],
                     daemon=True).start()
    interrupted = False
    while True:
        if feedback.isCanceled() and not interrupted:
            worker.send_signal(signal.SIGINT)
            interrupted = True
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            return
        yield json.loads(line)
