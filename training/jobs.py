"""One entry point for every GeoSeg task: a task name and a plain config dict in, a result dict out.

This is the whole seam between callers and the training code. QGIS calls :func:`run_job` in its own Python,
or — when TensorFlow lives in another environment — starts ``python -m training worker`` there, which reads
one JSON job on stdin and answers with JSON lines (see :mod:`training.worker`).
"""
from __future__ import annotations

import importlib
import math
from dataclasses import asdict

from . import config as configs
from .config import check_settings
from .errors import GeoSegError, file_error
from .outputs import check_writable, refuse_overwriting
from .progress import Progress

# task → (config class, "module:function" of this package, imported only when run, so that listing tasks
# never imports TensorFlow)
TASKS = {
    "inspect": (configs.InspectConfig, "inspection:inspect_data"),
    "chips": (configs.ChipsConfig, "chips:create_chips"),
    "train": (configs.TrainConfig, "train:train"),
    "evaluate": (configs.EvaluateConfig, "evaluate:evaluate_model"),
    "compare": (configs.CompareConfig, "compare:compare_models"),
    "classify": (configs.ClassifyConfig, "predict:classify_raster"),
    "postprocess": (configs.PostprocessConfig, "postprocess:postprocess"),
    "vectorize": (configs.VectorizeConfig, "vectorize:vectorize"),
    "assess": (configs.AccuracyConfig, "accuracy:assess_accuracy"),
    "check": (configs.CheckConfig, "diagnostics:check_environment"),
}


def run_job(task: str, settings: dict, progress: Progress | None = None) -> dict:
    """Run ``task`` with ``settings`` (the fields of its config dataclass); returns the result as a dict that
    is strict JSON (no NaN: missing figures are None).

    A job whose output would replace one of its inputs, or goes where it cannot be written, is refused before
    it starts; a file it cannot read or write is a :class:`GeoSegError` naming the file.
    """
    try:
        config_class, target = TASKS[task]
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
        from .raster import gdal_error

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
