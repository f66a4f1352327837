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
    "output_is_the_input_raster": (["predict", "{image}", "{model}", "{image}"], "output raster", "image"),
    "output_is_the_input_by_another_spelling": (["predict", "{image}", "{model}", "{dir}/sub/../image.tif"],
                                                "output raster", "image"),
    "output_is_a_link_to_the_input": (["predict", "{image}", "{model}", "{dir}/link-to-image.tif"],
                                      "output raster", "image"),
    "output_is_the_model": (["predict", "{image}", "{model}", "{model}"], "output raster", "model"),
    "probabilities_are_the_classes": (["predict", "{image}", "{model}", "{dir}/c.tif", "--probabilities-raster",
                                       "{dir}/c.tif"], "probabilities raster", None),
    "report_is_the_model": (["evaluate", "{model}", "{dir}", "--output-html", "{model}"], "output html", "model"),
    "trained_model_is_its_initial_model": (["train", "{dir}", "{model}", "--init-model", "{model}"],
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
