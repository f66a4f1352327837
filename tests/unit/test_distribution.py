import csv
import json
import os
import subprocess
import sys

import pytest

from synthetic import cut_chips
from tiny_model import ROOT

SCRIPT = ROOT / "tests" / "strategy_run.py"
TINY = {"base_filters": 4, "depth": 2}


@pytest.fixture(scope="module")
def chips(tmp_path_factory):
    return cut_chips(tmp_path_factory.mktemp("chips"), 128)


def settings(chips, output, **overrides) -> str:
    return json.dumps({"chips_dir": str(chips), "output_model": str(output), "bands": "rgb", "batch_size": 2,
                       "learning_rate": 0.01, "validation_split": 4, "test_split": 0, "model_options": TINY,
                       **overrides})


def start(arguments: list[str], **environment) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SCRIPT), *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **environment})


def finish(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def test_mirrored_over_two_cpu_devices_trains_with_falling_loss(chips, tmp_path):
    result = finish(start([settings(chips, tmp_path / "model.keras", strategy="mirrored", epochs=4), "2"]))
    with open(result["history_path"]) as handle:
        losses = [float(row["loss"]) for row in csv.DictReader(handle)]
    assert len(losses) == 4 and losses[-1] < losses[0]
    info = json.loads(subprocess.run([sys.executable, "-c", "import json, sys; from training.bundle import read_info; "
                                      "print(json.dumps(read_info(sys.argv[1]).training))", result["model_path"]],
                                     capture_output=True, text=True, cwd=ROOT, check=True).stdout)
    assert info["replicas"] == 2 and info["config"]["strategy"] == "mirrored"

