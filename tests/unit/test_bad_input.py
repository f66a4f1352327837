"""Bad input through the command line: a clear message, exit code 1, inputs untouched, nothing written."""
import hashlib
import os

import pytest

from training.cli import main


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

    monkeypatch.setitem(jobs.TASKS, "fake", (jobs.configs.CheckConfig, "diagnostics:check_environment"))
    monkeypatch.setattr("training.diagnostics.check_environment",
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
