"""One entry point for every GeoSeg task: a task name and a plain config dict in, a result dict out.

This is the whole seam between callers and the training code. QGIS calls :func:`run_job` in its own Python,
or — when TensorFlow lives in another environment — starts ``python -m training worker`` there, which reads
one JSON job on stdin and answers with JSON lines (see :mod:`training.worker`).
"""
from __future__ import annotations

import importlib
from dataclasses import asdict

from . import config as configs
from .progress import Progress

# task → (config class, "module:function" run lazily so that listing tasks never imports TensorFlow)
TASKS = {
    "chips": (configs.ChipsConfig, "training.chips:create_chips"),
    "train": (configs.TrainConfig, "training.train:train"),
    "evaluate": (configs.EvaluateConfig, "training.evaluate:evaluate_model"),
    "classify": (configs.ClassifyConfig, "training.predict:classify_raster"),
    "check": (configs.CheckConfig, "training.diagnostics:check_environment"),
}


def run_job(task: str, config: dict, progress: Progress | None = None) -> dict:
    """Run ``task`` with ``config`` (the fields of its config dataclass); returns the result as a dict."""
    try:
        config_class, target = TASKS[task]
    except KeyError:
        raise ValueError(f"Unknown task {task!r}: choose one of {', '.join(TASKS)}.") from None
    module_name, function_name = target.split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    return asdict(function(config_class(**config), progress))
