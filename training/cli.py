"""Command line: ``python -m training {inspect,chips,train,evaluate,compare,classify,…,worker} …``:
the QGIS algorithms without QGIS.

Options are generated from the config dataclasses, so the command line, the QGIS algorithms and the worker
protocol always accept the same settings. Run ``python -m training train --help`` for the list.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import os
import signal
import sys
import threading

from .config import ScenesConfig
from .errors import GeoSegError
from .jobs import TASKS, run_job
from .progress import Cancelled, Progress

LISTS = {"list[str] | None": str, "list[int] | None": int, "list[float] | None": float}  # comma-separated
SCALARS = {"int": int, "float": float, "str": str, "str | None": str, "dict": json.loads}
SEVERAL_SCENES = {  # classify takes several rasters (run on Dask, training.inference.scenes)
    "input_raster": {"nargs": "+", "help": "; or several, or glob patterns such as 'scenes/*.tif' (quoted)"},
    "output_raster": {"help": "; with several rasters, a glob or --scheduler: the output folder"}}
INTERRUPTED = 128 + signal.SIGINT  # main's status after Ctrl-C: what a shell reports for a program SIGINT ended


def _add_config_arguments(parser: argparse.ArgumentParser, config_class, amend: dict | None = None) -> None:
    """One argument per config field: required fields positional, the others ``--options`` with their help
    text, default and choices from the field's declaration (training.config.option). ``amend``: per field name,
    argparse keywords to add, ``help`` appended to the declared text."""
    for field in dataclasses.fields(config_class):
        text, choices = field.metadata.get("help", ""), field.metadata.get("choices")
        if choices:
            text += " (" + "; ".join(f"{key}: {label}" for key, label in choices.items()) + ")"
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            name, keywords = field.name, {}
        else:
            default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
            name, keywords = "--" + field.name.replace("_", "-"), {"default": default}
            if default not in ("", None, {}):
                text += f" [default: {json.dumps(default) if isinstance(default, dict) else default}]"
            if field.type == "bool":
                keywords["action"] = argparse.BooleanOptionalAction
            elif field.type in LISTS:
                keywords["type"] = lambda value, item=LISTS[field.type]: [item(v.strip()) for v in value.split(",")]
                text += " (comma-separated)"
            else:
                keywords.update(type=SCALARS[field.type], choices=list(choices) if choices else None)
        extra = dict((amend or {}).get(field.name, {}))
        text += extra.pop("help", "")
        parser.add_argument(name, help=text.replace("%", "%%"), **keywords, **extra)  # argparse formats help


@contextlib.contextmanager
def ctrl_c_cancels():
    """Ctrl-C (SIGINT) interrupts at once, as usual, and is also remembered, so that the job stops at its next
    check (as on QGIS' Cancel) even where a library catches the KeyboardInterrupt. Yields the job's cancel test."""
    pressed = []
    if threading.current_thread() is not threading.main_thread():  # only the main thread handles signals
        yield lambda: False
        return

    def on_ctrl_c(*_):
        pressed.append(True)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield lambda: bool(pressed)
    finally:
        signal.signal(signal.SIGINT, previous)


def progress_bar(stream=sys.stderr, is_cancelled=lambda: False) -> Progress:
    """Messages on their own lines; on a terminal also a progress bar (tqdm) redrawn in place."""
    if not stream.isatty():
        return Progress(lambda percent, message: message and print(message, file=stream, flush=True), is_cancelled)
    from tqdm import tqdm

    bar = tqdm(total=100, file=stream, bar_format="{l_bar}{bar}| {elapsed}<{remaining}", leave=False)

    def report(percent: float, message: str) -> None:
        if message:
            bar.write(message, file=stream)
        bar.update(percent - bar.n)

    return Progress(report, is_cancelled)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description=" ".join(__doc__.split("\n\n")[0].split()))
    commands = parser.add_subparsers(dest="command", required=True)
    for name, task in TASKS.items():
        command = commands.add_parser(name, help=task.summary, description=task.summary)
        _add_config_arguments(command, task.config, SEVERAL_SCENES if name == "classify" else None)
        if name == "classify":
            _add_config_arguments(command, ScenesConfig)
    commands.add_parser("worker", help="run one JSON job from stdin, answering with JSON lines (for QGIS)")
    return parser


def main(argv=None) -> int:
    args = vars(build_parser().parse_args(argv))
    command = args.pop("command")
    if command == "worker":
        from .worker import serve

        return serve()
    job = _classify if command == "classify" else functools.partial(run_job, command)
    with ctrl_c_cancels() as cancelled:
        try:
            result = job(args, progress_bar(is_cancelled=cancelled))
        except BaseException as err:
            if not (cancelled() or isinstance(err, (GeoSegError, Cancelled))):
                raise
            # after Ctrl-C, whatever a library made of the KeyboardInterrupt is the cancel
            sys.stderr.write(f"error: {Cancelled.MESSAGE if cancelled() else err}\n")
            return INTERRUPTED if cancelled() else 1
    print(json.dumps(result, indent=2, allow_nan=False))
    for raster, reason in result.get("failed", {}).items():  # several rasters: each failure, after all ran
        sys.stderr.write(f"error: {raster}: {reason}\n")
    return 1 if result.get("failed") else 0


def end(status: int) -> None:
    """End ``python -m training`` with ``status``. After Ctrl-C (:data:`INTERRUPTED`), the job having cleaned up,
    the process ends by SIGINT, as a Unix program should, so that a shell loop calling it stops too. That also
    skips the interpreter's shutdown, after which CPython (3.10–3.13) would end a ``-m`` run by SIGINT anyway,
    depending on when Ctrl-C came: whenever the KeyboardInterrupt had passed through an ``eval`` or ``exec`` of
    a string (``namedtuple`` makes one, so many imports do), caught or not."""
    if status != INTERRUPTED:
        sys.exit(status)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.raise_signal(signal.SIGINT)
    os._exit(status)


def _classify(args: dict, progress: Progress) -> dict:
    """One raster as the classify job; several rasters, glob patterns or a scheduler on Dask
    (training.inference.scenes)."""
    from .inference.scenes import classify_scenes, expand_rasters, is_pattern

    scenes = {field.name: args.pop(field.name) for field in dataclasses.fields(ScenesConfig)}
    rasters, output = args.pop("input_raster"), args.pop("output_raster")
    if len(rasters) == 1 and not is_pattern(rasters[0]) and not scenes["scheduler"]:
        return run_job("classify", {**args, "input_raster": rasters[0], "output_raster": output}, progress)
    return dataclasses.asdict(classify_scenes(args, expand_rasters(rasters), output, progress=progress, **scenes))
