import csv
import json
import os
import socket
import subprocess
import sys

import pytest

from synthetic import cut_chips
from training.learn.distribution import strategy_for
from training.errors import GeoSegError
from tiny_model import ROOT

SCRIPT = ROOT / "tests" / "strategy_run.py"
READ_TRAINING = ("import json, sys; from training.models.bundle import read_info; "  # the bundle's training record
                 "print(json.dumps(read_info(sys.argv[1]).training))")
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
    info = json.loads(subprocess.run([sys.executable, "-c", READ_TRAINING, result["model_path"]],
                                     capture_output=True, text=True, cwd=ROOT, check=True).stdout)
    assert info["replicas"] == 2 and info["config"]["strategy"] == "mirrored"



def test_two_workers_on_this_machine_train_and_only_the_chief_writes(chips, tmp_path):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    outputs = [tmp_path / f"worker{index}" / "model.keras" for index in range(2)]
    processes = []
    for index, output in enumerate(outputs):
        output.parent.mkdir()
        cluster = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(start([settings(chips, output, strategy="multiworker", epochs=2), "1"],
                               TF_CONFIG=json.dumps(cluster)))
    chief, worker = [finish(process) for process in processes]
    assert chief["model_path"] == str(outputs[0]) and chief["epochs_run"] == worker["epochs_run"] == 2
    with open(chief["history_path"]) as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == ["0", "1"]
    assert 0 <= chief["test_metrics"]["mean_iou"] <= 1
    assert worker["model_path"] == "" and not any(outputs[1].parent.iterdir())  # the worker wrote nothing
    info = json.loads(subprocess.run([sys.executable, "-c", READ_TRAINING, chief["model_path"]],
                                     capture_output=True, text=True, cwd=ROOT, check=True).stdout)
    assert info["replicas"] == 2 and info["config"]["strategy"] == "multiworker"


def test_bad_input_multiworker_without_tf_config_says_how_to_set_it(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(GeoSegError, match="needs TF_CONFIG: set it on every machine"):
        strategy_for("multiworker")


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for each in sockets:
        each.bind(("127.0.0.1", 0))
    ports = [each.getsockname()[1] for each in sockets]
    for each in sockets:
        each.close()
    return ports
