"""One entry point for every GeoSeg task: a task name and a plain config dict in, a result dict out.

This is the whole seam between callers and the training code. QGIS calls :func:`run_job` in its own Python,
or — when TensorFlow lives in another environment — starts ``python -m training worker`` there, which reads
one JSON job on stdin and answers with JSON lines (see :mod:`training.worker`).
"""
from __future__ import annotations

import importlib
import math
from dataclasses import asdict, dataclass

from . import config as configs
from .config import check_settings
from .errors import GeoSegError, file_error
from .outputs import check_writable, refuse_overwriting
from .progress import Progress


@dataclass(frozen=True)
class Task:
    """A job: its ``config`` class, its ``target`` (``"module:function"`` of this package, imported only when run,
    so that listing tasks never imports TensorFlow) and a one-line ``summary`` (the command line's help)."""

    config: type
    target: str
    summary: str


TASKS = {  # one command of `python -m training` each, by the same name
    "inspect": Task(configs.InspectConfig, "reports.inspect:inspect_data",
                    "look at a raster and its labels, or a chips folder, before training (HTML report)"),
    "chips": Task(configs.ChipsConfig, "data.chips:create_chips",
                  "cut an image raster and its label raster into training chips"),
    "train": Task(configs.TrainConfig, "learn.train:train",
                  "train a model on a labelled raster (--image-raster, --label-raster) or a chips folder"),
    "evaluate": Task(configs.EvaluateConfig, "learn.evaluate:evaluate_model",
                     "score a trained model on a chips folder (CSV, HTML and pictures)"),
    "compare": Task(configs.CompareConfig, "learn.compare:compare_models",
                    "train configurations on one split and seed and/or take model files, score them on the same "
                    "held-out chips, and write one visual report (HTML, and its figures as CSV)"),
    "classify": Task(configs.ClassifyConfig, "inference.classify:classify_raster",
                     "classify a raster with a trained model; or several rasters or glob patterns, on Dask "
                     "distributed, into the output folder (<raster name>.tif each)"),
    "export": Task(configs.ExportConfig, "models.export:export_model",
                   "write a model for other tools: ONNX with Deepness' metadata, and a STAC MLM item beside it"),
    "postprocess": Task(configs.PostprocessConfig, "products.postprocess:postprocess",
                        "majority filter and minimum mapping unit (sieve) for a class raster"),
    "vectorize": Task(configs.VectorizeConfig, "products.vectorize:vectorize",
                      "polygons per class from a class raster (GeoPackage)"),
    "suggest": Task(configs.SuggestConfig, "products.suggest:suggest_samples",
                    "squares to label next where a model is least sure of a raster, spread out and shared among "
                    "the predicted classes (GeoPackage with an empty class field to fill)"),
    "assess": Task(configs.AccuracyConfig, "products.assess:assess_accuracy",
                   "accuracy and area estimates of a class raster from reference data (Olofsson et al. 2014)"),
    "check": Task(configs.CheckConfig, "host.check:check_environment",
                  "what this Python has for GeoSeg's jobs: versions, devices, the engine classify would pick"),
}


def run_job(task: str, settings: dict, progress: Progress | None = None) -> dict:
    """Run ``task`` with ``settings`` (the fields of its config dataclass); returns the result as a dict that
    is strict JSON (no NaN: missing figures are None).

    A job whose output would replace one of its inputs, or goes where it cannot be written, is refused before
    it starts; a file it cannot read or write is a :class:`GeoSegError` naming the file.
    """
    try:
        config_class, target = TASKS[task].config, TASKS[task].target
    except KeyError:
        raise GeoSegError(f"Unknown task {task!r}: choose one of {', '.join(TASKS)}.") from None
    try:
        config = config_class(**settings)
    except TypeError as err:
        raise GeoSegError(f"Settings not understood for the {task} job ({err}).") from None
    check_settings(config)
    refuse_overwriting(config)
    check_writable(config)
    module_name, function_name = target.split(":")
    function = getattr(importlib.import_module(f".{module_name}", __package__), function_name)
    try:
        return _strict(asdict(function(config, progress)))
    except OSError as err:  # e.g. a write that fails for want of room names no file: the outputs are the suspects
        outputs = tuple(str(getattr(config, name)) for name in config.OUTPUTS if getattr(config, name))
        raise GeoSegError(file_error(err, outputs)) from err
    except RuntimeError as err:
        from .data.raster import gdal_error

        if not gdal_error(err):
            raise
        raise GeoSegError(gdal_error(err)) from err


def _strict(value):
    """``value`` with NaN and infinite numbers replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _strict(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(item) for item in value]
    return value
