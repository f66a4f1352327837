"""Bad input through the command line: a clear message, exit code 1, inputs untouched, nothing written."""
import csv
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from osgeo import gdal

from processes import as_in_a_terminal, read_lines
from synthetic import scene, tree, truncate, write_chips, write_raster, write_scene
from tiny_model import ROOT, write_tiny_model
from training.cli import main
from training.data.windows import read_scene


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def files(scene, tmp_path):
    """The synthetic scene and a stand-in model file (refused jobs never read it)."""
    image, labels = scene
    model = tmp_path / "model.keras"
    model.write_bytes(b"a GeoSeg model")
    (tmp_path / "sub").mkdir()
    os.symlink(image, tmp_path / "link-to-image.tif")
    return {"image": image, "labels": labels, "model": model, "dir": tmp_path}


OVERWRITES = {
    "output_is_the_input_raster": (["classify", "{image}", "{model}", "{image}"], "output raster", "image"),
    "output_is_the_input_by_another_spelling": (["classify", "{image}", "{model}", "{dir}/sub/../image.tif"],
                                                "output raster", "image"),
    "output_is_a_link_to_the_input": (["classify", "{image}", "{model}", "{dir}/link-to-image.tif"],
                                      "output raster", "image"),
    "output_is_the_model": (["classify", "{image}", "{model}", "{model}"], "output raster", "model"),
    "probabilities_are_the_classes": (["classify", "{image}", "{model}", "{dir}/c.tif", "--probabilities-raster",
                                       "{dir}/c.tif"], "probabilities raster", None),
    "report_is_the_model": (["evaluate", "{model}", "{dir}", "--output-html", "{model}"], "output html", "model"),
    "trained_model_is_its_initial_model": (["train", "{model}", "--chips-dir", "{dir}", "--init-model", "{model}"],
                                           "output model", "model"),
    "chips_folder_is_the_image": (["chips", "{image}", "{image}", "--label-raster", "{labels}"], "output dir",
                                  "image"),
}


@pytest.mark.parametrize("case", OVERWRITES)
def test_bad_input_an_output_that_would_replace_an_input_is_refused(case, files, capsys):
    args, output_name, victim = OVERWRITES[case]
    before = {path: digest(path) for path in files["dir"].glob("*") if path.is_file()}
    assert main([arg.format(**files) for arg in args]) == 1
    error = capsys.readouterr().err
    assert f"The {output_name} " in error and "never overwrites its inputs" in error
    after = {path: digest(path) for path in files["dir"].glob("*") if path.is_file()}
    assert after == before  # nothing replaced, nothing written
    if victim:
        assert digest(files[victim]) == before[files[victim]]


FILE_PROBLEMS = {
    "model_path_is_a_folder": (["classify", "{image}", "{dir}/sub", "{dir}/out.tif"], "{dir}/sub", "Is a directory"),
    "chips_folder_is_an_existing_file": (["chips", "{image}", "{dir}/notes.txt", "--label-raster", "{labels}"],
                                         "{dir}/notes.txt", "Not a directory"),
    "chips_folder_inside_a_file": (["chips", "{image}", "{dir}/notes.txt/chips", "--label-raster", "{labels}"],
                                   "{dir}/notes.txt", "Not a directory"),
}


@pytest.mark.parametrize("case", FILE_PROBLEMS)
def test_bad_input_a_path_that_cannot_be_used_is_named_with_the_fix(case, files, capsys):
    (files["dir"] / "notes.txt").write_text("not a folder")
    args, path, reason = FILE_PROBLEMS[case]
    before = sorted(p.name for p in files["dir"].iterdir())
    assert main([arg.format(**files) for arg in args]) == 1
    error = capsys.readouterr().err
    assert f"Cannot use {path.format(**files)}" in error and reason in error and "Check that the path" in error
    assert sorted(p.name for p in files["dir"].iterdir()) == before


def test_results_are_strict_json_without_nan(monkeypatch):
    from dataclasses import dataclass

    from training import jobs

    @dataclass
    class Scores:
        accuracy: float
        per_class: dict

    monkeypatch.setitem(jobs.TASKS, "fake", jobs.Task(jobs.configs.CheckConfig, "host.check:check_environment", ""))
    monkeypatch.setattr("training.host.check.check_environment",
                        lambda config, progress: Scores(float("nan"), {"a": [1.0, float("inf")]}))
    assert jobs.run_job("fake", {}) == {"accuracy": None, "per_class": {"a": [1.0, None]}}


SETTINGS = {
    "learning_rate_zero": (["train", "{dir}/new.keras", "--chips-dir", "{dir}", "--learning-rate", "0"],
                           "The learning rate 0.0 is too small"),
    "learning_rate_negative": (["train", "{dir}/new.keras", "--chips-dir", "{dir}", "--learning-rate", "-0.001"],
                               "The learning rate -0.001 is too small"),
    "no_epochs": (["train", "{dir}/new.keras", "--chips-dir", "{dir}", "--epochs", "0"], "The epochs 0 is too small"),
    "training_batch_of_zero": (["train", "{dir}/new.keras", "--chips-dir", "{dir}", "--batch-size", "0"],
                               "The batch size 0 is too small"),
    "negative_validation_share": (["train", "{dir}/new.keras", "--chips-dir", "{dir}", "--validation-split", "-1"],
                                  "The validation split -1.0 is too small"),
    "tiles_too_small": (["classify", "{image}", "{model}", "{dir}/c.tif", "--tile-size", "16"],
                        "The tile size 16 is too small"),
    "negative_overlap": (["classify", "{image}", "{model}", "{dir}/c.tif", "--overlap", "-1"],
                         "The overlap -1 is too small"),
    "tile_batch_of_zero": (["classify", "{image}", "{model}", "{dir}/c.tif", "--batch-size", "0"],
                           "The batch size 0 is too small"),
    "chips_too_small": (["chips", "{image}", "{dir}/chips", "--label-raster", "{labels}", "--chip-size", "4"],
                        "The chip size 4 is too small"),
    "labelled_share_above_one": (["chips", "{image}", "{dir}/chips", "--label-raster", "{labels}",
                                  "--min-labelled", "1.5"], "The min labelled 1.5 is too large"),
    "negative_mapping_unit": (["postprocess", "{labels}", "{dir}/clean.tif", "--min-pixels", "-3"],
                              "The min pixels -3 is too small"),
    "negative_simplification": (["vectorize", "{labels}", "{dir}/p.gpkg", "--simplify", "-1"],
                                "The simplify -1.0 is too small"),
}


@pytest.mark.parametrize("case", SETTINGS)
def test_bad_input_a_setting_out_of_range_is_refused_before_anything_starts(case, files, capsys):
    args, message = SETTINGS[case]
    before = sorted(p.name for p in files["dir"].iterdir())
    assert main([arg.format(**files) for arg in args]) == 1
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in files["dir"].iterdir()) == before


def replace_chip(kind, index, data, **options):
    return lambda chips: write_raster(chips / kind / f"chip_{index}.tif", data, **options)


def unlabelled(chips):
    for path in (chips / "labels").iterdir():
        write_raster(path, np.full((16, 16), 255, np.uint8))


def all_images(data, **options):
    return lambda chips: [write_raster(path, data, **options) for path in (chips / "images").iterdir()]


TWELVE = scene(16, 16)[0]
CHIP_FOLDERS = {  # what is wrong with the chips folder: (how to spoil a good one, extra arguments, message)
    "three_band_chip_among_twelve": (replace_chip("images", 1, TWELVE[:3]), [],
                                     "differ: most have 12 bands, 16×16 px, UInt16, but 1 do not: chip_1.tif (3 bands"),
    "chips_of_two_sizes": (lambda chips: [replace_chip(kind, 2, data)(chips) for kind, data in
                                          zip(("images", "labels"), scene(32, 32))], [],
                           "but 1 do not: chip_2.tif (12 bands, 32×32 px, UInt16)"),
    "chips_of_two_data_types": (replace_chip("images", 3, TWELVE.astype(np.float32)), [],
                                "but 1 do not: chip_3.tif (12 bands, 16×16 px, Float32)"),
    "all_chips_unlabelled": (unlabelled, [], "No pixel of the label chips in"),
    "image_chip_without_its_label": (lambda chips: (chips / "labels" / "chip_0.tif").unlink(), [],
                                     "1 image chips in {dir}/chips/images have no label chip of the same name"),
    "label_chip_of_another_size": (replace_chip("labels", 1, np.zeros((8, 8), np.uint8)), [],
                                   "1 label chips in {dir}/chips/labels differ in size or pixel grid from their "
                                   "image chips: chip_1.tif"),
    "label_chip_off_its_image_grid": (replace_chip("labels", 2, np.zeros((16, 16), np.uint8), geotransform=(
        0, 10, 0, 0, 0, -10)), [], "differ in size or pixel grid from their image chips: chip_2.tif"),
    "every_labelled_pixel_on_image_nodata": (all_images(np.zeros((12, 16, 16), np.uint16), nodata=0), [],
                                             "or lie on nodata image pixels"),
    "image_chips_all_nan": (all_images(np.full((12, 16, 16), np.nan, np.float32)), [],
                            "or lie on nodata image pixels"),
    "truncated_image_chip": (lambda chips: truncate(chips / "images" / "chip_2.tif"), [],
                             "GDAL cannot read the raster {dir}/chips/images/chip_2.tif"),
    "text_file_named_tif_among_the_chips": (lambda chips: (chips / "images" / "chip_3.tif").write_text("notes"), [],
                                            "GDAL cannot read the image chip {dir}/chips/images/chip_3.tif"),
    "no_labels_folder": (lambda chips: shutil.rmtree(chips / "labels"), [], "{dir}/chips/labels is missing"),
    "band_the_chips_do_not_have": (lambda chips: None, ["--bands", "2,13"], "Band(s) [13] do not exist"),
    "chips_too_small_for_the_networks_depth": (lambda chips: None, ["--model-options", '{"depth": 5}'],
                                               "takes inputs whose sides are multiples of 32 px, but the training "
                                               "data comes in 16-px pieces"),
    "validation_share_leaving_no_training_chip": (lambda chips: None, ["--validation-split", "4"],
                                                  "4 chips cannot give 4 validation and 0 test chips"),
}


@pytest.mark.parametrize("case", CHIP_FOLDERS)
def test_bad_input_a_chips_folder_that_cannot_train_is_refused_and_leaves_nothing(case, tmp_path, capsys):
    spoil, extra, message = CHIP_FOLDERS[case]
    spoil(write_chips(tmp_path / "chips"))
    before = tree(tmp_path)
    model = tmp_path / "models" / "model.keras"
    assert main(["train", str(model), "--chips-dir", str(tmp_path / "chips"), *extra]) == 1
    assert message.format(dir=tmp_path) in capsys.readouterr().err
    assert tree(tmp_path) == before  # no model, history or resume point, not even their folder


@pytest.fixture
def read_only(tmp_path):
    """A folder that takes no new file: made read-only, or for root (whom permissions do not stop) /sys."""
    if os.geteuid() == 0:
        return Path("/sys")
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    return folder


OUTPUTS = {  # an output that cannot go where it is asked: (arguments, the path named, the reason)
    "trained_model_path_is_a_folder": (["train", "{dir}/sub.keras", "--chips-dir", "{dir}"], "{dir}/sub.keras",
                                       "Is a directory"),
    "class_raster_path_is_a_folder": (["classify", "{image}", "{model}", "{dir}/sub.keras"], "{dir}/sub.keras",
                                      "Is a directory"),
    "class_raster_inside_a_file": (["classify", "{image}", "{model}", "{dir}/notes.txt/c.tif"], "{dir}/notes.txt",
                                   "Not a directory"),
    "class_raster_in_a_read_only_folder": (["classify", "{image}", "{model}", "{read_only}/geoseg/c.tif"],
                                           "{read_only}", "Permission denied"),
    "model_in_a_read_only_folder": (["train", "{read_only}/model.keras", "--chips-dir", "{dir}"], "{read_only}",
                                    "Permission denied"),
    "chips_in_a_read_only_folder": (["chips", "{image}", "{read_only}/chips", "--label-raster", "{labels}"],
                                    "{read_only}", "Permission denied"),
    "report_in_a_read_only_folder": (["inspect", "{read_only}/report.html", "--image-raster", "{image}"],
                                     "{read_only}", "Permission denied"),
}


@pytest.mark.parametrize("case", OUTPUTS)
def test_bad_input_an_output_that_cannot_be_written_is_refused_before_the_job_starts(case, files, read_only, capsys):
    (files["dir"] / "notes.txt").write_text("not a folder")
    (files["dir"] / "sub.keras").mkdir()
    args, path, reason = OUTPUTS[case]
    before = tree(files["dir"])
    assert main([arg.format(**files, read_only=read_only) for arg in args]) == 1
    error = capsys.readouterr().err
    assert f"Cannot use {path.format(**files, read_only=read_only)}: {reason}. Check that the path" in error
    assert tree(files["dir"]) == before


INPUTS = {  # an input that is no readable raster or model: (how to make it, arguments, message)
    "truncated_image_raster": (truncate, ["chips", "{bad}", "{dir}/chips", "--label-raster", "{labels}"],
                               "GDAL cannot read the raster {bad}"),
    "text_file_named_tif": (lambda path: path.write_text("notes"),
                            ["chips", "{bad}", "{dir}/chips", "--label-raster", "{labels}"],
                            "GDAL cannot read the image raster {bad}"),
    "missing_image_raster": (lambda path: path.unlink(),
                             ["chips", "{bad}", "{dir}/chips", "--label-raster", "{labels}"],
                             "The image raster {bad} does not exist"),
    "truncated_class_raster": (truncate, ["postprocess", "{bad}", "{dir}/clean.tif", "--min-pixels", "4"],
                               "GDAL failed: {bad}, band 1"),
    "text_file_as_the_model": (lambda path: None, ["classify", "{image}", "{model}", "{dir}/c.tif"],
                               "{model} is not a GeoSeg model"),
}


@pytest.mark.parametrize("case", INPUTS)
def test_bad_input_an_input_that_cannot_be_read_is_named_and_leaves_nothing(case, files, capsys):
    make, args, message = INPUTS[case]
    bad = files["dir"] / "bad.tif"
    write_raster(bad, scene(256, 256)[0] if "image" in case or "tif" in case else scene(256, 256)[1])
    make(bad)
    before = tree(files["dir"])
    assert main([arg.format(**files, bad=bad) for arg in args]) == 1
    assert message.format(**files, bad=bad) in capsys.readouterr().err
    assert tree(files["dir"]) == before


def spoilt_scene(folder, width, height):
    """A Float32 12-band scene (nodata -9999) with nodata, NaN and infinite blocks, and labels everywhere;
    returns the image, the labels and where the image is invalid."""
    image, labels = scene(width, height)
    image = image.astype(np.float32)
    invalid = np.zeros((height, width), bool)
    for rows, band, value in ((np.s_[0:8], 0, -9999), (np.s_[20:24], 5, np.nan), (np.s_[40:41], 11, np.inf)):
        image[band][rows, 10:30] = value
        invalid[rows, 10:30] = True
    return (write_raster(folder / "image.tif", image, nodata=-9999), write_raster(folder / "labels.tif", labels),
            invalid)


def test_bad_input_nodata_nan_and_infinite_image_pixels_are_unlabelled_in_chips(tmp_path, capsys):
    image, labels, invalid = spoilt_scene(tmp_path, 64, 64)
    assert main(["chips", str(image), str(tmp_path / "chips"), "--label-raster", str(labels), "--chip-size", "64"]) == 0
    chip = gdal.Open(str(tmp_path / "chips" / "labels" / "chip_000000_000000.tif")).ReadAsArray()
    np.testing.assert_array_equal(chip == 255, invalid)


@pytest.mark.parametrize("source", ["chips", "raster"])
def test_bad_input_nodata_nan_and_infinite_pixels_never_reach_the_loss(source, tmp_path, capsys):
    image, labels, invalid = spoilt_scene(tmp_path, 192, 64)
    if source == "chips":
        assert main(["chips", str(image), str(tmp_path / "chips"), "--label-raster", str(labels), "--chip-size",
                     "32"]) == 0
        data = ["--chips-dir", str(tmp_path / "chips"), "--validation-split", "2", "--test-split", "0"]
    else:
        scene_read = read_scene(str(image), str(labels), (1, 6, 12))
        np.testing.assert_array_equal(scene_read.labels == 255, invalid)
        data = ["--image-raster", str(image), "--label-raster", str(labels), "--window-size", "32",
                "--windows-per-epoch", "8", "--test-split", "0"]
    capsys.readouterr()
    assert main(["train", str(tmp_path / "model.keras"), *data, "--bands", "1,6,12", "--epochs", "1",
                 "--batch-size", "4", "--model-options", '{"base_filters": 4, "depth": 2}']) == 0
    result = json.loads(capsys.readouterr().out)
    with open(result["history_path"]) as handle:
        losses = [float(row["loss"]) for row in csv.DictReader(handle)]
    assert len(losses) == 1 and np.isfinite(losses).all()
    assert np.isfinite(result["test_metrics"]["pixel_accuracy"])


def test_bad_input_sigint_during_classify_says_cancelled_leaves_nothing_and_stops_the_shell_script(tmp_path,
                                                                                                 tmp_path_factory):
    image, _ = write_scene(tmp_path, 1024, 1024)
    model = write_tiny_model(tmp_path / "model.keras")
    before = tree(tmp_path)
    script = '"$@"; echo "the script went on after status $?" >&2'  # a shell script with more to do after classify
    process = subprocess.Popen(["bash", "-c", script, "bash", sys.executable, "-m", "training", "classify", str(image),
                                str(model), str(tmp_path / "classes.tif"), "--tile-size", "32", "--overlap", "0"],
                               stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=as_in_a_terminal,
                               # a conversion not cached yet (another test's is) keeps classify busy for seconds
                               env=dict(os.environ, PYTHONPATH=str(ROOT),
                                        GEOSEG_CACHE_DIR=str(tmp_path_factory.mktemp("cache"))))
    lines = []
    threading.Thread(target=read_lines, args=(process.stderr, lines), daemon=True).start()
    deadline = time.monotonic() + 120
    while not any(line.startswith("Classifying") for line in lines):
        assert process.poll() is None and time.monotonic() < deadline, lines
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in a terminal: to the shell and to the command it runs
    assert process.wait(timeout=60) == -signal.SIGINT, lines  # the command ended by SIGINT, so the shell stopped
    time.sleep(0.1)  # the last line read
    assert lines[-1] == "error: Cancelled by the user.\n"
    assert tree(tmp_path) == before


def test_bad_input_disk_full_while_classifying_names_the_output_and_leaves_nothing(tmp_path):
    """A write that fails for want of room: a file-size limit (RLIMIT_FSIZE) stands in for a full disk."""
    image, _ = write_scene(tmp_path, 512, 512)
    model = write_tiny_model(tmp_path / "model.keras")
    (tmp_path / "out").mkdir()
    before = tree(tmp_path)

    def little_room():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails (EFBIG) instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    output = tmp_path / "out" / "classes.tif"
    done = subprocess.run([sys.executable, "-m", "training", "classify", str(image), str(model), str(output),
                           "--flip-average", "off"], capture_output=True, text=True, preexec_fn=little_room,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 1
    assert f"error: Cannot use {output}: File too large." in done.stderr and "the disk has room" in done.stderr
    assert tree(tmp_path) == before
