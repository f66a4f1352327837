"""Bad outputs through the command line: runs writing one output at once, names at the file-name limit, a
folder that is a file, a full disk and refused jobs leave a whole output or a clear message, and no partial file."""
import os
import resource
import signal
import subprocess
import sys

import pytest
from osgeo import gdal

from synthetic import tree, write_chips, write_scene
from tiny_model import ROOT, write_tiny_model
from training.cli import main


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "training", *map(str, args)]


def child_env(**extra: str) -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT), **extra)


def partials(folder):
    return [path.name for path in folder.rglob("*") if ".partial" in path.name]


def test_two_classify_runs_on_one_output_at_once_leave_one_whole_output(tmp_path):
    """Last writer wins: each run writes its own partial file and replaces the output in one step."""
    image, _ = write_scene(tmp_path, 512, 512)
    model = write_tiny_model(tmp_path / "model.keras")
    output = tmp_path / "out" / "classes.tif"
    runs = [subprocess.Popen(command("classify", image, model, output, "--tile-size", "64", "--overlap", "0"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=child_env())
            for _ in range(2)]
    for run in runs:
        assert run.wait(timeout=300) == 0, run.stderr.read()
        run.stderr.close()
    written = gdal.Open(str(output))
    assert (written.RasterXSize, written.RasterYSize) == (512, 512)
    assert written.ReadAsArray().max() <= 2
    assert sorted(path.name for path in output.parent.iterdir()) == ["classes.qml", "classes.tif",
                                                                       "classes.tif.aux.xml"]  # no partial file


def long_name(length: int, suffix: str) -> str:
    return "n" * (length - len(suffix)) + suffix


@pytest.mark.parametrize("length", [256, 300])
def test_a_name_longer_than_the_file_system_takes_is_refused_with_the_fix(length, scene, tmp_path, capsys):
    _, labels = scene
    output = tmp_path / long_name(length, ".gpkg")
    before = tree(tmp_path)
    assert main(["vectorize", str(labels), str(output)]) == 1
    assert (f"The file name of {output} is {length} bytes long, but file systems take at most 255: choose a name of "
            "at most 255 bytes.") in capsys.readouterr().err
    assert tree(tmp_path) == before


def test_a_raster_named_near_the_limit_is_written_without_the_metadata_file_that_cannot_be_named(scene, tmp_path):
    """A raster's category names go into ``<name>.aux.xml`` beside it, 8 bytes more than its name: past the limit,
    the raster is written with its colours and its QGIS style, without that file."""
    _, labels = scene
    output = tmp_path / long_name(250, ".tif")
    assert main(["postprocess", str(labels), str(output), "--min-pixels", "4"]) == 0
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("n")) == [
        output.with_suffix(".qml").name, output.name]
    assert gdal.Open(str(output)).GetRasterBand(1).GetColorTable() is not None
    assert not partials(tmp_path)


def test_a_model_name_leaving_no_room_for_the_files_named_after_it_is_refused_before_training(tmp_path, capsys):
    """Training writes ``<model>.history.csv``, ``.resume.npz`` and ``.report.html`` beside the model."""
    write_chips(tmp_path / "chips", count=4, size=32)
    model = tmp_path / long_name(250, ".keras")
    history = model.with_suffix(".history.csv")
    before = tree(tmp_path)
    assert main(["train", str(model), "--chips-dir", str(tmp_path / "chips"), "--epochs", "1"]) == 1
    assert (f"The file name of {history} is {len(history.name)} bytes long, but file systems take at most 255"
            in capsys.readouterr().err)
    assert tree(tmp_path) == before


def test_the_longest_names_are_written_whole(scene, tmp_path, capsys):
    """The hidden partial name is shortened to fit the limit; the output keeps its full name."""
    image, labels = scene
    raster, polygons, chips = (tmp_path / long_name(255, ".tif"), tmp_path / long_name(255, ".gpkg"),
                               tmp_path / long_name(255, ""))
    assert main(["postprocess", str(labels), str(raster), "--min-pixels", "4"]) == 0
    assert main(["vectorize", str(raster), str(polygons)]) == 0
    assert main(["chips", str(image), str(chips), "--label-raster", str(labels), "--chip-size", "32"]) == 0
    assert gdal.Open(str(raster)).RasterXSize == 128
    assert gdal.OpenEx(str(polygons)).GetLayer(0).GetFeatureCount() > 0
    assert len(list((chips / "images").iterdir())) == 16
    assert not partials(tmp_path)


def test_several_rasters_into_an_output_folder_that_is_a_file_is_refused(scene, tmp_path, capsys):
    image, labels = scene
    (tmp_path / "model.keras").write_bytes(b"a GeoSeg model")  # refused before it is read
    folder = tmp_path / "classes"
    folder.write_text("not a folder")
    before = tree(tmp_path)
    assert main(["classify", str(image), str(labels), str(tmp_path / "model.keras"), str(folder)]) == 1
    assert f"error: Cannot use {folder}: Not a directory. Check that the path" in capsys.readouterr().err
    assert tree(tmp_path) == before


def test_several_rasters_that_all_fail_leave_no_output_folder(scene, tmp_path, capsys):
    image, _ = scene
    (tmp_path / "model.keras").write_bytes(b"no GeoSeg model")
    before = tree(tmp_path)
    assert main(["classify", str(image), str(tmp_path / "missing.tif"), str(tmp_path / "model.keras"),
                 str(tmp_path / "classes"), "--workers", "1"]) == 1
    assert f"{image}: {tmp_path / 'model.keras'} is not a GeoSeg model" in capsys.readouterr().err
    assert tree(tmp_path) == before


def test_disk_full_while_training_names_the_model_and_leaves_nothing(tmp_path):
    """A write that fails for want of room: a file-size limit (RLIMIT_FSIZE) stands in for a full disk."""
    chips = write_chips(tmp_path / "chips")
    before = tree(tmp_path)

    def little_room():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails (EFBIG) instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    model = tmp_path / "model.keras"
    done = subprocess.run(command("train", model, "--chips-dir", chips, "--epochs", "1", "--batch-size", "2",
                                  "--validation-split", "1", "--test-split", "1", "--no-report", "--model-options",
                                  '{"base_filters": 4, "depth": 2}'),
                          capture_output=True, text=True, preexec_fn=little_room, env=child_env())
    assert done.returncode == 1
    assert f"error: Cannot use {model}: File too large." in done.stderr and "the disk has room" in done.stderr
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert tree(tmp_path) == before


def test_chips_larger_than_the_raster_leave_nothing(scene, tmp_path, capsys):
    image, labels = scene
    before = tree(tmp_path)
    assert main(["chips", str(image), str(tmp_path / "chips"), "--label-raster", str(labels), "--chip-size",
                 "256"]) == 1
    assert "is smaller than one 256×256 chip: use a smaller chip size." in capsys.readouterr().err
    assert tree(tmp_path) == before
