"""From no TensorFlow at all to a ready managed environment, through the Processing algorithms."""
import numpy
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException

from onnx_models import expected_classes, write_segmentor
from synthetic import write_raster
from tiny_model import write_tiny_model
from wheels import fake_tensorflow, isolate_pip, pip_installed, required_version, stand_in_wheel, wheel_of_installed

# The stand-in TensorFlow's version: what requirements.txt asks for on this Python (2.22 rc on 3.14).
TENSORFLOW = required_version("tensorflow-cpu")


@pytest.fixture
def new_user(monkeypatch, tmp_path):
    """No GEOSEG_PYTHON, no chosen Python, the managed environment in an empty folder."""
    monkeypatch.delenv("GEOSEG_PYTHON", raising=False)
    monkeypatch.setenv("GEOSEG_ENV_DIR", str(tmp_path / "geoseg-env"))
    isolate_pip(monkeypatch)
    return tmp_path / "geoseg-env"


@pytest.fixture
def wheels(tmp_path):
    """GeoSeg's requirements as local wheels: NumPy, ml-dtypes and tqdm repacked from this Python, stand-ins for
    TensorFlow, LiteRT, Dask, scikit-learn, ONNX Runtime, onnx and tf2onnx."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    for name in ("numpy", "ml-dtypes", "tqdm"):
        # A Debian package (Debian 13 and later: NumPy 2) has no RECORD to repack, and needs none: it is QGIS'
        # Python's own, so the new environment (--system-site-packages) has it already.
        if pip_installed(name):
            wheel_of_installed(folder, name)
    stand_in_wheel(folder, "tensorflow-cpu", TENSORFLOW, {"tensorflow/__init__.py": fake_tensorflow(TENSORFLOW)})
    stand_in_wheel(folder, "ai-edge-litert", "2.3.0", {"ai_edge_litert/__init__.py": ""})
    for name in ("dask", "distributed"):
        stand_in_wheel(folder, name, required_version("dask"), {f"{name}/__init__.py": ""})
    stand_in_wheel(folder, "scikit-learn", required_version("scikit-learn"), {"sklearn/__init__.py": ""})
    for name, module in (("onnxruntime", "onnxruntime"), ("onnx", "onnx"), ("tf2onnx", "tf2onnx")):
        stand_in_wheel(folder, name, required_version(name), {f"{module}/__init__.py": ""})
    return folder


def test_classify_without_an_environment_names_the_one_step_fix(geoseg, new_user, scene, tmp_path):
    image, _ = scene
    model = write_tiny_model(tmp_path / "m.keras")
    with pytest.raises(QgsProcessingException, match="not set up yet") as error:
        geoseg.run("geoseg:classify", {"INPUT": str(image), "MODEL": str(model),
                                       "OUTPUT": str(tmp_path / "classes.tif")})
    assert "Set up TensorFlow environment" in str(error.value) and "pip install" not in str(error.value)
    assert not (tmp_path / "classes.tif").exists()


def test_set_up_then_check_reports_ready(geoseg, new_user, wheels):
    from geoseg_qgis.runner import worker_python

    before = geoseg.run("geoseg:checkenvironment", {})
    assert before["READY"] is False and "not set up yet" in before["REPORT"]

    result = geoseg.run("geoseg:setupenvironment", {"PIP_OPTIONS": f"--no-index --find-links {wheels}"})
    assert result["STATUS"].startswith(f"TensorFlow {TENSORFLOW} · CPU")
    assert worker_python() == result["PYTHON"] and result["PYTHON"].startswith(str(new_user))

    after = geoseg.run("geoseg:checkenvironment", {"OUTPUT_HTML": str(new_user.parent / "report.html")})
    assert after["READY"] is True
    # NumPy: this Python's, repacked above (1.26.4 on Debian 12) or QGIS' own (Debian 13 and later).
    for line in (f"TensorFlow: {TENSORFLOW}", f"NumPy: {numpy.__version__}", "LiteRT: 2.3.0", "GeoSeg environment"):
        assert line in after["REPORT"]
    assert "Ready for TensorFlow jobs" in (new_user.parent / "report.html").read_text()

    again = geoseg.run("geoseg:setupenvironment", {"PIP_OPTIONS": "--no-index"})  # ready: nothing to do
    assert again["PYTHON"] == result["PYTHON"]


@pytest.fixture
def onnx_wheels(tmp_path):
    """The classification-only list as local wheels, repacked from this Python: NumPy, tqdm, and ONNX Runtime
    itself with the dependencies QGIS' Python may lack (packaging is Debian's, seen through the system
    site-packages), so that the new environment really classifies."""
    folder = tmp_path / "onnx-wheels"
    folder.mkdir()
    for name in ("numpy", "tqdm", "onnxruntime", "flatbuffers", "protobuf"):
        if pip_installed(name):
            wheel_of_installed(folder, name)
    return folder


def test_a_classification_only_set_up_classifies_onnx_models_and_names_the_fix_for_the_rest(
        geoseg, new_user, onnx_wheels, tmp_path):
    result = geoseg.run("geoseg:setupenvironment", {"SETUP": 1,  # classification only
                                                    "PIP_OPTIONS": f"--no-index --find-links {onnx_wheels}"})
    assert result["STATUS"].startswith("Classification only · ONNX Runtime 1.32")
    check = geoseg.run("geoseg:checkenvironment", {})
    assert check["READY"] is False and "ONNX models: can be classified" in check["REPORT"]
    assert "Classification only" in check["REPORT"] and "TensorFlow: not usable" in check["REPORT"]

    data = numpy.random.default_rng(0).integers(0, 256, (3, 40, 60)).astype(numpy.uint16)
    image = write_raster(tmp_path / "image.tif", data)
    classified = geoseg.run("geoseg:classify", {"INPUT": str(image), "OUTPUT": str(tmp_path / "classes.tif"),
                                                "MODEL": str(write_segmentor(tmp_path / "model.onnx"))})
    numpy.testing.assert_array_equal(gdal.Open(classified["OUTPUT"]).ReadAsArray(), expected_classes(data))
    with pytest.raises(QgsProcessingException, match="set up for classification only") as error:
        geoseg.run("geoseg:classify", {"INPUT": str(image), "MODEL": str(write_tiny_model(tmp_path / "m.keras")),
                                       "OUTPUT": str(tmp_path / "keras.tif")})
    assert "Everything" in str(error.value)
