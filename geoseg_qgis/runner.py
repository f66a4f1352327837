"""Run a ``training`` job for an algorithm, and find the Python that runs TensorFlow.

Jobs that need TensorFlow run in a worker process (``python -m training worker``, see
:mod:`training.host.worker_client`), never inside QGIS: TensorFlow bundles its own protobuf and SQLite, which
clash with QGIS' libraries. The worker's Python is, in order: the environment variable ``GEOSEG_PYTHON``,
the Python chosen in Settings › Options › GeoSeg (setting ``geoseg/python``), else GeoSeg's managed
environment once *Set up TensorFlow environment* has made it. Jobs without TensorFlow (cutting chips) run
in QGIS' own Python.
"""
import contextlib
import dataclasses
import os
from pathlib import Path

from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback, QgsSettings

from .training.errors import GeoSegError
from .training.host import environment
from .training.host.worker_client import WorkerStartError, run_worker
from .training.jobs import run_job
from .training.progress import Cancelled, Progress

PYTHON_VARIABLE = "GEOSEG_PYTHON"
PYTHON_SETTING = "geoseg/python"
ENV_DIR_SETTING = "geoseg/env_dir"
SET_UP = ("Set it up in one step: Processing Toolbox › GeoSeg › Environment › Set up TensorFlow environment "
          "(also in Plugins › GeoSeg and Settings › Options › GeoSeg; on the command line: qgis_process run "
          "geoseg:setupenvironment), then run this again. To use a Python that already has TensorFlow, choose it "
          "in Settings › Options › GeoSeg.")
NOT_SET_UP = f"GeoSeg runs TensorFlow in a Python environment of its own, which is not set up yet. {SET_UP}"
OUTDATED = f"This version of GeoSeg needs other packages than its TensorFlow environment has. {SET_UP}"
CLASSIFICATION_ONLY = ("GeoSeg's environment is set up for classification only (ONNX models, no TensorFlow). Run "
                       "Processing Toolbox › GeoSeg › Environment › Set up TensorFlow environment with the set-up "
                       "Everything, or classify with an ONNX model (Export model writes one from a .keras model, "
                       "where TensorFlow is).")


def chosen_python() -> tuple[str, str]:
    """The Python the user chose, and where (``GEOSEG_PYTHON`` or the options page); ("", "") if none."""
    if os.environ.get(PYTHON_VARIABLE):
        return os.environ[PYTHON_VARIABLE], f"the environment variable {PYTHON_VARIABLE}"
    setting = QgsSettings().value(PYTHON_SETTING, "", type=str)
    return (setting, "Settings › Options › GeoSeg") if setting else ("", "")


def environment_root() -> Path:
    """Where the managed environment lives: ``GEOSEG_ENV_DIR``, the options page's folder, else
    :func:`default_environment_root`."""
    return Path(os.environ.get(environment.ROOT_VARIABLE) or QgsSettings().value(ENV_DIR_SETTING, "", type=str)
                or default_environment_root())


def default_environment_root() -> Path:
    """A GeoSeg folder in the QGIS profile."""
    return Path(QgsApplication.qgisSettingsDirPath()) / "geoseg" / "python"


def worker_python(tensorflow: bool = True) -> str:
    """The Python that runs jobs in a worker (TensorFlow jobs unless not ``tensorflow``: ONNX models), or an
    error that names the one-step fix."""
    python, _ = chosen_python()
    if python:
        return python
    managed = environment.status(environment_root())
    if managed.state == "ready" and tensorflow and managed.setup != "full":
        raise QgsProcessingException(CLASSIFICATION_ONLY)
    if managed.state == "ready":
        return str(managed.python)
    raise QgsProcessingException(OUTDATED if managed.state == "outdated" else NOT_SET_UP)


def run(task: str, config, feedback: QgsProcessingFeedback, needs_tensorflow: bool = True,
        onnx_only: bool = False) -> dict:
    """Run ``task`` with the dataclass ``config`` in the worker (in QGIS' own Python where it needs no TensorFlow;
    with ``onnx_only``, in a worker that may have ONNX Runtime but no TensorFlow); training errors become
    ``QgsProcessingException``."""
    python = worker_python(tensorflow=not onnx_only) if needs_tensorflow or onnx_only else None
    return run_in(python, task, dataclasses.asdict(config), feedback)


def run_in(python: str | None, task: str, config: dict, feedback: QgsProcessingFeedback) -> dict:
    """Run ``task`` in the worker ``python``, or in QGIS' own Python when ``python`` is None."""
    with processing_errors():
        if python is None:
            return run_job(task, config, progress(feedback))
        return run_worker(python, task, config, progress(feedback))


@contextlib.contextmanager
def processing_errors():
    """``training``'s errors and cancellation as ``QgsProcessingException``, the one thing Processing shows."""
    try:
        yield
    except WorkerStartError as err:
        raise QgsProcessingException(f"{err} Choose a Python with TensorFlow in Settings › Options › GeoSeg "
                                     f"(or {PYTHON_VARIABLE}), or clear it to use GeoSeg's own environment.") from None
    except (GeoSegError, Cancelled) as err:
        raise QgsProcessingException(str(err)) from err


def progress(feedback: QgsProcessingFeedback) -> Progress:
    """A ``training`` progress reporter on a Processing feedback: percentages, messages and its cancel."""
    def report(percent: float, message: str) -> None:
        feedback.setProgress(percent)
        if message:
            feedback.pushInfo(message)

    return Progress(report, feedback.isCanceled)
