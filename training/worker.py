"""``python -m training worker``: run one job for a caller in another process.

Reads ``{"task": ..., "config": {...}}`` from stdin and writes JSON lines to stdout:
``{"progress": percent, "message": text}`` while working, then ``{"result": {...}}`` or
``{"error": text, "cancelled": bool}``. SIGINT or SIGTERM asks the job to stop as a cancel button would.
Anything else written to stdout, by Python or by native libraries (the TFLite converter prints there), is
sent to stderr so that it cannot break the JSON lines.
"""
from __future__ import annotations

import json
import os
import signal
import sys

from .errors import GeoSegError
from .jobs import run_job
from .progress import Cancelled, Progress


def serve(stdin=sys.stdin, stdout=None) -> int:
    stdout = stdout or _json_channel()
    stop = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.append(True))

    def send(event: dict) -> None:
        stdout.write(json.dumps(event, allow_nan=False) + "\n")
        stdout.flush()

    try:
        job = json.loads(stdin.read())
        task, settings = job["task"], job["config"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        send({"error": f"Not a GeoSeg job ({err}): expected {{\"task\": …, \"config\": {{…}}}}.", "cancelled": False})
        return 1
    try:
        result = run_job(task, settings, Progress(lambda p, m: send({"progress": p, "message": m}), lambda: bool(stop)))
    except Cancelled as err:
        send({"error": str(err), "cancelled": True})
        return 1
    except GeoSegError as err:
        send({"error": str(err), "cancelled": False})
        return 1
    except ModuleNotFoundError as err:
        send({"error": f"{err.name} is not installed in {sys.executable}, the Python running GeoSeg's jobs. In "
                       "QGIS, run GeoSeg › Set up TensorFlow environment, or choose a Python that has it in "
                       "Settings › Options › GeoSeg; elsewhere, install training/requirements.txt into that Python.",
              "cancelled": False})
        return 1
    send({"result": result})
    return 0


def _json_channel():
    """A private copy of stdout for the JSON lines; file descriptor 1 itself is pointed at stderr."""
    sys.stdout.flush()
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return channel
