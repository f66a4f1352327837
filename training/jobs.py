"""One entry point for every GeoSeg task: a task name and a plain config dict in, a result dict out.

This is the whole seam between callers and the training code. QGIS calls :func:`run_job` in its own Python,
or — when TensorFlow lives in another environment — starts ``python -m training worker`` there, which reads
one JSON job on stdin and answers with JSON lines (see :mod:`training.worker`).
"""
from __future__ import annotations

import importlib
from dataclasses import asdict

from . import config as configs
from .outputs import refuse_overwriting
from .progress import Progress

# task → (config class, "module:function" of this package, imported only when run, so that listing tasks
# never imports TensorFlow)
TASKS = {
    "chips": (configs.ChipsConfig, "chips:create_chips"),
    "train": (configs.TrainConfig, "train:train"),
    "evaluate": (configs.EvaluateConfig, "evaluate:evaluate_model"),
    "classify": (configs.ClassifyConfig, "predict:classify_raster"),
    "postprocess": (configs.PostprocessConfig, "postprocess:postprocess"),
    "vectorize": (configs.VectorizeConfig, "vectorize:vectorize"),
    "assess": (configs.AccuracyConfig, "accuracy:assess_accuracy"),
    "check": (configs.CheckConfig, "diagnostics:check_environment"),
}


def run_job(task: str, settings: dict, progress: Progress | None = None) -> dict:
    """Run ``task`` with ``settings`` (the fields of its config dataclass); returns the result as a dict.

    A job whose output would replace one of its inputs is refused before it starts.
    """
    try:
        config_class, target = TASKS[task]
    except KeyError:
        raise ValueError(f"Unknown task {task!r}: choose one of {', '.join(TASKS)}.") from None
    config = config_class(**settings)
    refuse_overwriting(config)
    module_name, function_name = target.split(":")
    function = getattr(importlib.import_module(f".{module_name}", __package__), function_name)
    return asdict(function(config, progress))
