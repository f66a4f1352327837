"""Bad input through QGIS Processing: a QgsProcessingException with a clear message, and nothing left behind.
The jobs that need TensorFlow run in the worker Python (GEOSEG_PYTHON, see conftest.py), as in QGIS."""
import os
from pathlib import Path

import numpy as np
import pytest
from qgis.core import QgsProcessingException

from onnx_models import write_segmentor
from synthetic import scene, tree, truncate, write_chips, write_raster, write_scene


@pytest.fixture
def files(tmp_path):
    """The synthetic scene, a chips folder, a stand-in model and a text file, in ``tmp_path``."""
    image, labels = write_scene(tmp_path, 64, 64)
    write_chips(tmp_path / "chips")
    (tmp_path / "model.keras").write_text("a GeoSeg model")
    (tmp_path / "notes.txt").write_text("notes")
    (tmp_path / "folder.keras").mkdir()
    return {"dir": tmp_path, "image": image, "labels": labels, "chips": tmp_path / "chips",
            "model": tmp_path / "model.keras", "read_only": Path("/sys") if os.geteuid() == 0 else _read_only(tmp_path)}


def _read_only(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    return folder


def _train(**parameters):
    return "geoseg:train", {"INPUT": "{chips}", "OUTPUT": "{dir}/new.keras", **parameters}


def _spoil_chip(files):
    write_raster(files["chips"] / "images" / "chip_1.tif", scene(16, 16)[0][:3])


def _unlabel_chips(files):
    for path in (files["chips"] / "labels").iterdir():
        write_raster(path, np.full((16, 16), 255, np.uint8))


CASES = {  # (how to spoil the files, algorithm, parameters, message)
    "classify_output_is_its_input": (None, "geoseg:classify", {"INPUT": "{image}", "MODEL": "{model}",
                                                               "OUTPUT": "{image}"}, "never overwrites its inputs"),
    "postprocess_output_is_its_input": (None, "geoseg:postprocess", {"INPUT": "{labels}", "OUTPUT": "{labels}"},
                                        "never overwrites its inputs"),
    "three_band_chip_among_twelve": (_spoil_chip, *_train(), "but 1 do not: chip_1.tif (3 bands"),
    "all_chips_unlabelled": (_unlabel_chips, *_train(), "No pixel of the label chips"),
    "chip_without_its_label": (lambda files: (files["chips"] / "labels" / "chip_0.tif").unlink(), *_train(),
                               "1 image chips in {chips}/images have no label chip"),
    "chips_too_small_for_the_networks_depth": (lambda files: write_chips(files["dir"] / "small", size=8),
                                               *_train(INPUT="{dir}/small"), "multiples of 16 px, but the training "
                                               "data comes in 8-px pieces"),
    "learning_rate_zero": (None, *_train(LEARNING_RATE=0),
                           "Learning rate (AdamW): 0 is too small, give at least 1e-10."),
    "learning_rate_negative": (None, *_train(LEARNING_RATE=-0.001), "Learning rate (AdamW): -0.001 is too small"),
    "batch_size_zero": (None, *_train(BATCH_SIZE=0), "Batch size: 0 is too small, give at least 1."),
    "text_file_named_tif": (lambda files: (files["dir"] / "text.tif").write_text("notes"), "geoseg:classify",
                            {"INPUT": "{dir}/text.tif", "MODEL": "{model}", "OUTPUT": "{dir}/c.tif"},
                            "{dir}/text.tif (Multispectral raster) is not a readable raster"),
    "onnx_model_without_class_names": (
        lambda files: write_segmentor(files["dir"] / "nameless.onnx", class_names=None), "geoseg:classify",
        {"INPUT": "{image}", "MODEL": "{dir}/nameless.onnx", "OUTPUT": "{dir}/c.tif"},
        "The ONNX model {dir}/nameless.onnx answers 2 classes but its metadata names 0 (class_names)"),
    "export_to_a_file_that_is_not_onnx": (None, "geoseg:export", {"MODEL": "{model}", "OUTPUT": "{dir}/m.tflite"},
                                          "must end in .onnx"),
    "truncated_image_raster": (lambda files: truncate(files["image"]), "geoseg:createchips",
                               {"INPUT": "{image}", "LABELS": "{labels}", "OUTPUT": "{dir}/new-chips"},
                               "GDAL cannot read the raster {image}"),
    "model_path_is_a_folder": (None, "geoseg:classify", {"INPUT": "{image}", "MODEL": "{dir}/folder.keras",
                                                         "OUTPUT": "{dir}/c.tif"}, "{dir}/folder.keras"),
    "class_raster_in_a_read_only_folder": (None, "geoseg:classify", {"INPUT": "{image}", "MODEL": "{model}",
                                                                     "OUTPUT": "{read_only}/geoseg/c.tif"},
                                           "Cannot use {read_only}: Permission denied"),
    "chips_folder_is_a_file": (None, "geoseg:createchips", {"INPUT": "{image}", "LABELS": "{labels}",
                                                            "OUTPUT": "{dir}/notes.txt"},
                               "Cannot use {dir}/notes.txt: Not a directory"),
    "inspected_folder_without_chips": (None, "geoseg:inspect", {"CHIPS": "{dir}", "OUTPUT_HTML": "{dir}/report.html"},
                                       "{dir}/images is missing"),
    "evaluation_report_is_the_model": (None, "geoseg:evaluate", {"MODEL": "{model}", "INPUT": "{chips}",
                                                                 "OUTPUT_HTML": "{model}"},
                                       "never overwrites its inputs"),
    "comparison_report_is_the_training_raster": (None, "geoseg:compare", {"IMAGE": "{image}", "LABELS": "{labels}",
                                                                          "OUTPUT_HTML": "{image}"},
                                                 "never overwrites its inputs"),
    "vectorize_an_image_not_a_class_raster": (None, "geoseg:vectorize", {"INPUT": "{image}",
                                                                         "OUTPUT": "{dir}/polygons.gpkg"},
                                              "{image}"),
    "suggested_squares_not_a_geopackage": (None, "geoseg:suggestsamples", {"INPUT": "{image}", "MODEL": "{model}",
                                                                           "OUTPUT": "{dir}/squares.shp"},
                                            "give an output file ending in .gpkg, not {dir}/squares.shp"),
    "assess_without_reference": (None, "geoseg:assessaccuracy", {"INPUT": "{labels}",
                                                                 "OUTPUT_TABLE": "TEMPORARY_OUTPUT"},
                                 "Give either a reference raster or reference polygons or points"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_through_processing_is_a_clear_error_that_leaves_nothing(case, geoseg, files):
    spoil, algorithm, parameters, message = CASES[case]
    if spoil:
        spoil(files)
    before = tree(files["dir"])
    with pytest.raises(QgsProcessingException) as raised:
        geoseg.run(algorithm, {key: value.format(**files) if isinstance(value, str) else value
                               for key, value in parameters.items()})
    assert message.format(**files) in str(raised.value) and "Traceback" not in str(raised.value)
    assert tree(files["dir"]) == before


def test_bad_input_set_up_refuses_an_environment_folder_that_is_a_file(geoseg, files, monkeypatch):
    monkeypatch.setenv("GEOSEG_ENV_DIR", str(files["dir"] / "notes.txt"))
    before = tree(files["dir"])
    with pytest.raises(QgsProcessingException) as raised:
        geoseg.run("geoseg:setupenvironment", {})
    assert (f"GeoSeg cannot set up its TensorFlow environment in {files['dir']}/notes.txt: {files['dir']}/notes.txt "
            "is a file, not a folder. Set GEOSEG_ENV_DIR") in str(raised.value)
    assert tree(files["dir"]) == before


def test_bad_input_check_environment_reports_a_python_that_is_not_there_without_failing(geoseg, files, monkeypatch):
    """Check environment never fails (its help says so): the problem is its report."""
    monkeypatch.setenv("GEOSEG_PYTHON", str(files["dir"] / "no-python"))
    result = geoseg.run("geoseg:checkenvironment", {})
    assert result["READY"] is False
    assert f"Problem: Cannot start the GeoSeg worker Python {files['dir']}/no-python" in result["REPORT"]
    assert "Traceback" not in result["REPORT"]
