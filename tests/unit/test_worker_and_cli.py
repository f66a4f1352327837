"""The process seam: ``python -m training worker`` (JSON lines) and the command line."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from osgeo import gdal

from synthetic import write_scene
from training.cli import ctrl_c_cancels, main
from training.progress import Cancelled, Progress

TINY = {"base_filters": 4, "depth": 2}


def start_worker(task, config):
    worker = subprocess.Popen([sys.executable, "-m", "training", "worker"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    worker.stdin.write(json.dumps({"task": task, "config": config}))
    worker.stdin.close()
    return worker


def test_worker_streams_progress_then_the_result(scene, tmp_path):
    image, labels = scene
    worker = start_worker("chips", {"image_raster": str(image), "label_raster": str(labels),
                                    "output_dir": str(tmp_path / "chips"), "chip_size": 32})
    with worker.stdout:
        events = [json.loads(line) for line in worker.stdout]
    assert worker.wait() == 0
    assert any("progress" in e for e in events[:-1])
    assert events[-1] == {"result": {"output_dir": str(tmp_path / "chips"), "chip_count": 16, "skipped": 0}}


def test_worker_reports_bad_input_as_an_error_event(tmp_path):
    worker = start_worker("chips", {"image_raster": str(tmp_path / "missing.tif"), "label_raster": "x.tif",
                                    "output_dir": str(tmp_path / "chips")})
    with worker.stdout:
        events = [json.loads(line) for line in worker.stdout]
    assert worker.wait() == 1
    assert events == [{"error": f"The image raster {tmp_path / 'missing.tif'} does not exist: check the path.",
                       "cancelled": False}]


def test_worker_output_from_libraries_goes_to_stderr_not_into_the_json_lines():
    code = ("import os; from training.worker import _json_channel; channel = _json_channel(); "
            "print('python noise', flush=True); os.write(1, b'native noise\\n'); channel.write('{}\\n')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "{}\n"
    assert "python noise" in done.stderr and "native noise" in done.stderr


def test_sigint_stops_a_training_worker_and_keeps_the_best_model(tmp_path):
    image, labels = write_scene(tmp_path, 256, 256)
    main(["chips", str(image), str(tmp_path / "chips"), "--label-raster", str(labels), "--chip-size", "32"])
    worker = start_worker("train", {"chips_dir": str(tmp_path / "chips"), "output_model": str(tmp_path / "m.keras"),
                                    "epochs": 500, "batch_size": 8, "model_options": TINY})
    events = []
    with worker.stdout:
        for line in worker.stdout:
            events.append(json.loads(line))
            if events[-1].get("message", "").startswith("Epoch 1/"):
                worker.send_signal(signal.SIGINT)
    assert worker.wait() == 0
    result = events[-1]["result"]
    assert result["cancelled"] and result["epochs_run"] < 5 and (tmp_path / "m.keras").exists()


def test_cli_runs_jobs_and_reports_errors(scene, tmp_path, capsys):
    image, labels = scene
    assert main(["chips", str(image), str(tmp_path / "chips"), "--label-raster", str(labels),
                 "--chip-size", "32"]) == 0
    assert json.loads(capsys.readouterr().out)["chip_count"] == 16
    assert main(["chips", str(image), str(tmp_path / "chips")]) == 1
    assert "either a label raster or label polygons" in capsys.readouterr().err
    assert gdal.Open(str(tmp_path / "chips" / "labels" / "chip_000000_000000.tif")).RasterCount == 1


def test_every_command_line_option_has_a_description_and_its_choices():
    import argparse

    from training.architectures import ARCHITECTURES
    from training.cli import build_parser
    from training.config import ENGINES

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name, command in commands.items():
        if name == "worker":
            continue
        assert command.description, name
        for action in command._actions:
            assert action.help, (name, action.dest)
    options = {a.dest: a for a in commands["train"]._actions}
    assert options["architecture"].choices == list(ARCHITECTURES)
    assert "--no-pretrained" in options["pretrained"].option_strings
    assert {a.dest: a for a in commands["classify"]._actions}["engine"].choices == list(ENGINES)


def test_classify_averages_over_mirror_images_as_the_model_file_says_unless_told_otherwise():
    from training.cli import build_parser

    arguments = ["classify", "in.tif", "model.keras", "out.tif"]
    assert build_parser().parse_args(arguments).flip_average == "auto"
    for choice in ("on", "off"):
        assert build_parser().parse_args([*arguments, "--flip-average", choice]).flip_average == choice
    with pytest.raises(SystemExit):
        build_parser().parse_args([*arguments, "--no-flip-average"])


def test_ctrl_c_interrupts_and_is_remembered_even_where_a_library_swallows_it():
    before = signal.getsignal(signal.SIGINT)
    with ctrl_c_cancels() as cancelled:
        assert not cancelled()
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # interrupted long before
            raise AssertionError("Ctrl-C did not interrupt")
        except KeyboardInterrupt:
            pass  # as a library that catches it would
        assert cancelled()
        with pytest.raises(Cancelled, match="Cancelled by the user"):
            Progress(is_cancelled=cancelled).check()  # the job's next check stops it
    assert signal.getsignal(signal.SIGINT) is before
