"""Command line: ``python -m training {inspect,chips,train,evaluate,predict,postprocess,vectorize,assess,worker} …``:
the QGIS algorithms without QGIS.

Options are generated from the config dataclasses, so the command line, the QGIS algorithms and the worker
protocol always accept the same settings. Run ``python -m training train --help`` for the list.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from .jobs import TASKS, run_job
from .progress import Cancelled, Progress

COMMANDS = {"inspect": "inspect", "chips": "chips", "train": "train", "evaluate": "evaluate", "predict": "classify",
            "postprocess": "postprocess", "vectorize": "vectorize", "assess": "assess"}
HELP = {
    "inspect": "look at a raster and its labels, or a chips folder, before training (HTML report)",
    "chips": "cut an image raster and its label raster into training chips",
    "train": "train a model on a labelled raster (--image-raster, --label-raster) or a chips folder",
    "evaluate": "score a trained model on a chips folder (CSV, HTML and pictures)",
    "predict": "classify a raster with a trained model",
    "postprocess": "majority filter and minimum mapping unit (sieve) for a class raster",
    "vectorize": "polygons per class from a class raster (GeoPackage)",
    "assess": "accuracy and area estimates of a class raster from reference data (Olofsson et al. 2014)",
}


LISTS = {"list[str] | None": str, "list[int] | None": int, "list[float] | None": float}  # comma-separated


def _parse_value(default):
    if isinstance(default, bool):
        return lambda text: text.lower() in ("1", "true", "yes")
    if isinstance(default, (int, float)):
        return type(default)
    if isinstance(default, dict):
        return json.loads
    return str


def _add_config_arguments(parser: argparse.ArgumentParser, config_class) -> None:
    for field in dataclasses.fields(config_class):
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            parser.add_argument(field.name)
            continue
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        flag = "--" + field.name.replace("_", "-")
        if field.type in LISTS:
            parser.add_argument(flag, type=lambda text, item=LISTS[field.type]: [
                item(v.strip()) for v in text.split(",")], default=default, help="comma-separated")
        else:
            shown = json.dumps(default) if isinstance(default, dict) else default
            parser.add_argument(flag, type=_parse_value(default), default=default,
                                help=f"{field.metadata['help']}; default: {shown}" if "help" in field.metadata
                                else f"default: {shown}")


def progress_bar(stream=sys.stderr) -> Progress:
    """Messages on their own lines, and a bar redrawn in place when ``stream`` is a terminal."""
    def report(percent: float, message: str) -> None:
        if message:
            stream.write(f"\r{' ' * 60}\r{message}\n")
        if stream.isatty():
            filled = int(percent / 100 * 30)
            stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {percent:5.1f} %")
        stream.flush()

    return Progress(report)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training", description=" ".join(__doc__.split("\n\n")[0].split()))
    commands = parser.add_subparsers(dest="command", required=True)
    for command, task in COMMANDS.items():
        _add_config_arguments(commands.add_parser(command, help=HELP[command]), TASKS[task][0])
    commands.add_parser("worker", help="run one JSON job from stdin, answering with JSON lines (for QGIS)")
    args = vars(parser.parse_args(argv))
    command = args.pop("command")
    if command == "worker":
        from .worker import serve

        return serve()
    try:
        result = run_job(COMMANDS[command], args, progress_bar())
    except (ValueError, Cancelled) as err:
        sys.stderr.write(f"\nerror: {err}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("\nerror: Cancelled (interrupted).\n")
        return 1
    sys.stderr.write("\n")
    print(json.dumps(result, indent=2, allow_nan=False))
    return 0
