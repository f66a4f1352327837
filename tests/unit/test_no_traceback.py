"""The command line's contract, in real ``python -m training`` processes: bad input ends the process with exit
code 1 and a sentence (``error: …`` on stderr; the worker's is its JSON error on stdout), never a Python
traceback nor an "Exception ignored" report. One bad input at least per command, most of them refused before
TensorFlow is imported, so that each process takes a fraction of a second."""
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from synthetic import scene, write_raster, write_scene
from tiny_model import ROOT
from training.data.classes import class_scheme
from training.models.bundle import METADATA_ENTRY, ModelInfo


@pytest.fixture
def files(tmp_path):
    """A 32×32 px scene and bad files beside it: text files named .tif and .onnx, model zips with GeoSeg's metadata only
    (classify refuses a bad extent or mask before it loads the network) or with metadata that is not JSON, and a
    label raster of fractions."""
    image, labels = write_scene(tmp_path, 32, 32)
    (tmp_path / "text.tif").write_text("notes")
    (tmp_path / "notes.onnx").write_text("notes")
    info = ModelInfo("unet", [4, 3, 2], class_scheme(["a", "b", "c"]), {"offset": [0.0, 0.0, 0.0]})
    _model_zip(tmp_path / "metadata-only.keras", json.dumps(info.to_dict()))
    _model_zip(tmp_path / "not-json.keras", "{not JSON")
    write_raster(tmp_path / "fractions.tif", scene(32, 32)[1].astype(np.float32) + 0.5)
    return {"dir": tmp_path, "image": image, "labels": labels, "long": "x" * 300}


def _model_zip(path, metadata):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(METADATA_ENTRY, metadata)


def case(name, *args, says, stdin=None, status=1):
    """``python -m training ARGS`` (placeholders: the ``files`` fixture's), with ``stdin``, ends with ``status``
    and a message containing ``says``."""
    return pytest.param(list(args), says, stdin, status, id=name)


CASES = [
    case("inspect_chips_folder_missing", "inspect", "{dir}/report.html", "--chips-dir", "{dir}/none",
         says="{dir}/none/images is missing"),
    case("inspect_image_not_a_raster", "inspect", "{dir}/report.html", "--image-raster", "{dir}/text.tif",
         says="GDAL cannot read the image raster {dir}/text.tif"),
    case("chips_image_not_a_raster", "chips", "{dir}/text.tif", "{dir}/chips", "--label-raster", "{labels}",
         says="GDAL cannot read the image raster {dir}/text.tif"),
    case("chips_label_values_are_fractions", "chips", "{image}", "{dir}/chips", "--label-raster",
         "{dir}/fractions.tif", "--chip-size", "16", says="{dir}/fractions.tif"),
    case("train_window_too_small", "train", "{dir}/m.keras", "--image-raster", "{image}", "--label-raster", "{labels}",
         "--window-size", "16", says="The window size 16 is too small: give at least 32."),
    case("evaluate_report_replaces_the_model", "evaluate", "{dir}/m.keras", "{dir}", "--output-html", "{dir}/m.keras",
         says="never overwrites its inputs"),
    case("evaluate_negative_preview_chips", "evaluate", "{dir}/m.keras", "{dir}", "--preview-chips", "-1",
         says="The preview chips -1 is too small: give at least 0."),
    case("evaluate_onnx_model_that_is_no_model", "evaluate", "{dir}/notes.onnx", "{dir}",
         says="{dir}/notes.onnx is not an ONNX model ONNX Runtime can load"),
    case("compare_batch_size_zero", "compare", "{dir}/report.html", "--batch-size", "0",
         says="The batch size 0 is too small: give at least 1."),
    case("classify_model_missing", "classify", "{image}", "{dir}/missing.keras", "{dir}/classes.tif",
         says="The model file {dir}/missing.keras does not exist"),
    case("classify_extent_of_three_numbers", "classify", "{image}", "{dir}/metadata-only.keras", "{dir}/classes.tif",
         "--extent", "1,2,3", says="must be 4 numbers, not 3: only this area: xmin,ymin,xmax,ymax"),
    case("classify_model_metadata_not_json", "classify", "{image}", "{dir}/not-json.keras", "{dir}/classes.tif",
         says="{dir}/not-json.keras"),
    case("classify_mask_polygons_a_raster", "classify", "{image}", "{dir}/metadata-only.keras", "{dir}/classes.tif",
         "--mask-polygons", "{labels}", says="{labels}"),
    case("classify_several_rasters_with_a_model_that_is_no_model", "classify", "{image}", "{labels}",
         "{dir}/text.tif", "{dir}/classes", says="{dir}/text.tif"),  # Dask logs a failed task's traceback unless told
    case("classify_onnx_model_that_is_no_model", "classify", "{image}", "{dir}/notes.onnx", "{dir}/classes.tif",
         says="{dir}/notes.onnx is not an ONNX model ONNX Runtime can load"),
    case("export_model_that_is_no_model", "export", "{dir}/text.tif", "{dir}/model.onnx",
         says="{dir}/text.tif is not a GeoSeg model"),
    case("postprocess_not_a_class_raster", "postprocess", "{image}", "{dir}/clean.tif",
         says="{image} is not a single-band Byte class raster"),
    case("postprocess_output_name_of_300_characters", "postprocess", "{labels}", "{dir}/{long}.tif",
         says="{dir}/"),
    case("vectorize_class_raster_not_a_raster", "vectorize", "{dir}/text.tif", "{dir}/polygons.gpkg",
         says="GDAL cannot read the class raster {dir}/text.tif"),
    case("suggest_squares_not_a_geopackage", "suggest", "{image}", "{dir}/metadata-only.keras", "{dir}/squares.shp",
         says="give an output file ending in .gpkg, not {dir}/squares.shp"),
    case("assess_reference_missing", "assess", "{labels}", "--reference-raster", "{dir}/missing.tif",
         says="The reference raster {dir}/missing.tif does not exist"),
    case("check_unknown_option", "check", "--no-such-option", status=2,  # argparse's usage error
         says="unrecognized arguments: --no-such-option"),
    case("worker_job_not_json", "worker", stdin="not JSON", says="Not a GeoSeg job"),
    case("worker_unknown_setting", "worker", stdin='{"task": "postprocess", "config": {"bogus": 1}}',
         says="Settings not understood for the postprocess job"),
]


@pytest.mark.parametrize("args, says, stdin, status", CASES)
def test_bad_input_ends_the_process_with_a_sentence_and_no_traceback(args, says, stdin, status, files):
    done = subprocess.run([sys.executable, "-m", "training", *(arg.format(**files) for arg in args)],
                          input=stdin, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    assert done.returncode == status, done.stderr
    if args[0] == "worker":
        message = json.loads(done.stdout.splitlines()[-1])["error"]
    else:
        message = done.stderr.strip().splitlines()[-1]
        assert message.startswith("error: " if status == 1 else "python -m training")
    assert says.format(**files) in message and (status != 1 or message.endswith(".")), message
