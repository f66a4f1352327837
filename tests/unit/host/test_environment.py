"""The managed TensorFlow environment: wheel choice, interpreter discovery, and real builds from local wheels."""
import json
import sys

import pytest

from training.host import environment
from training.host.environment import EnvironmentSetupError, Interpreter, Machine
from training.progress import Cancelled, Progress
from training.host.worker_client import run_worker
from wheels import FAKE_TENSORFLOW, isolate_pip, stand_in_wheel


@pytest.mark.parametrize("machine, build", [
    (Machine("Linux", "x86_64", nvidia_gpu=True), "tensorflow[and-cuda]"),
    (Machine("Linux", "x86_64", nvidia_gpu=False), "tensorflow-cpu"),
    (Machine("Windows", "AMD64", nvidia_gpu=True), "tensorflow-cpu"),  # no CUDA builds for Windows
    (Machine("Darwin", "arm64", nvidia_gpu=False), "tensorflow"),
    (Machine("Linux", "aarch64", nvidia_gpu=False), "tensorflow"),
])
def test_tensorflow_build_suits_the_platform(machine, build):
    assert environment.tensorflow_build(machine) == build


def test_requirements_name_the_chosen_build_and_keep_versions_and_markers():
    text = environment.REQUIREMENTS.read_text()
    cuda = environment.requirements_for(text, "tensorflow[and-cuda]")
    lines = [line for line in cuda.splitlines() if line.startswith("tensorflow")]
    assert lines == ['tensorflow[and-cuda]==2.21.* ; python_version < "3.14"',
                     'tensorflow[and-cuda]>=2.22.0rc0,<2.23 ; python_version >= "3.14"']
    assert "tensorflow-cpu" not in "".join(line for line in cuda.splitlines() if not line.startswith("#"))
    assert environment.requirements_for(text, "tensorflow-cpu") == text


@pytest.mark.parametrize("numpy_version, constraint", [("1.24.2", "numpy>=1,<2\n"), ("2.2.4", "numpy>=2,<3\n"),
                                                        (None, "")])
def test_numpy_stays_on_the_major_version_of_qgis(numpy_version, constraint):
    assert environment.numpy_constraint(numpy_version) == constraint


def fake_python(path, version, gdal=True, ran=None):
    """An executable that answers GeoSeg's probe like a Python of ``version`` would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    answer = json.dumps({"version": list(version), "gdal": gdal})
    path.write_text(f"#!/bin/sh\n{'touch ' + str(ran) if ran else ''}\necho '{answer}'\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def no_pythons_on_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))


def test_windows_osgeo4w_python_is_found_and_qgis_bin_is_never_run(tmp_path, no_pythons_on_path):
    ran = tmp_path / "qgis-bin-ran"
    qgis = fake_python(tmp_path / "OSGeo4W/bin/qgis-bin.exe", (3, 12), ran=ran)
    python = fake_python(tmp_path / "OSGeo4W/apps/Python312/python.exe", (3, 12))
    facts = Interpreter(str(qgis), str(qgis), str(python.parent), (3, 12), "Windows")
    assert environment.find_base_python(facts) == python
    assert not ran.exists()


def test_macos_bundle_python_is_found_beside_the_app(tmp_path, no_pythons_on_path):
    app = tmp_path / "QGIS-LTR.app"
    qgis = fake_python(app / "Contents/MacOS/QGIS", (3, 12))
    python = fake_python(app / "Contents/MacOS/bin/python3", (3, 12))
    frameworks = app / "Contents/Frameworks/Python.framework/Versions/3.12"  # holds no interpreter here
    facts = Interpreter(str(qgis), str(qgis), str(frameworks), (3, 12), "Darwin")
    assert environment.find_base_python(facts) == python


def test_linux_skips_a_pyenv_shim_of_another_version(tmp_path, no_pythons_on_path):
    shim = fake_python(tmp_path / "home/.pyenv/shims/python3", (3, 13), gdal=False)
    python = fake_python(tmp_path / "usr/bin/python3.11", (3, 11))
    facts = Interpreter(str(shim), str(shim), str(tmp_path / "usr"), (3, 11), "Linux")
    assert environment.find_base_python(facts) == python


def test_no_python_of_qgis_version_with_gdal_is_a_clear_error(tmp_path, no_pythons_on_path):
    without_gdal = fake_python(tmp_path / "usr/bin/python3.11", (3, 11), gdal=False)
    facts = Interpreter(str(tmp_path / "qgis"), str(tmp_path / "qgis"), str(tmp_path / "usr"), (3, 11), "Linux")
    with pytest.raises(EnvironmentSetupError, match="could not find the Python 3.11") as error:
        environment.find_base_python(facts)
    assert f"{without_gdal} (Python 3.11 without GDAL)" in str(error.value)
    assert "Settings › Options › GeoSeg" in str(error.value)


def test_this_machines_interpreter_is_found_and_has_gdal():
    python = environment.find_base_python()
    assert environment.probe(python) == {"version": list(sys.version_info[:2]), "gdal": True}


@pytest.fixture
def local_index(tmp_path, monkeypatch):
    """pip options for a folder of wheels, and pip isolated from this machine's own configuration."""
    isolate_pip(monkeypatch)
    folder = tmp_path / "wheels"
    folder.mkdir()
    stand_in_wheel(folder, "tensorflow-cpu", "2.21.0", {"tensorflow/__init__.py": FAKE_TENSORFLOW})
    stand_in_wheel(folder, "tensorflow-cpu", "2.22.0", {"tensorflow/__init__.py": FAKE_TENSORFLOW})
    return ["--no-index", "--find-links", str(folder)]


def requirements(tmp_path, text):
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    return path


def check(python, reporter):
    return run_worker(str(python), "check", {}, reporter)


class Recorder(Progress):
    def __init__(self, cancel_on=None):
        self.messages = []
        super().__init__(lambda percent, message: self.messages.append(message) if message else None,
                         lambda: bool(cancel_on and any(m.startswith(cancel_on) for m in self.messages)))


def test_build_installs_checks_and_marks_ready_last(tmp_path, local_index):
    root, wanted = tmp_path / "env", requirements(tmp_path, "tensorflow-cpu==2.21.*\n")
    assert environment.status(root, wanted).state == "missing"
    progress = Recorder()
    ready = environment.build(root, progress, check, requirements=wanted, pip_options=local_index,
                              tensorflow="tensorflow-cpu")
    assert ready.state == "ready" and ready.python.exists()
    assert ready.details["check"]["versions"]["TensorFlow"] == "2.21.0" and ready.details["check"]["ready"]
    assert ready.details["check"]["versions"]["GDAL"]  # QGIS' own GDAL, seen through the system site-packages
    assert ready.summary.startswith("TensorFlow 2.21.0 · CPU")
    assert any(m.startswith("Processing") and "tensorflow_cpu-2.21.0" in m for m in progress.messages)
    assert any(m.startswith("Successfully installed tensorflow-cpu-2.21.0") for m in progress.messages)
    assert environment.status(root, wanted).python == ready.python

    changed = requirements(tmp_path, "tensorflow-cpu==2.22.*\n")
    assert environment.status(root, changed).state == "outdated"
    cancelled = Recorder(cancel_on="Processing")
    with pytest.raises(Cancelled):
        environment.build(root, cancelled, check, requirements=changed, pip_options=local_index)
    assert environment.status(root, wanted).python == ready.python and ready.python.exists()
    assert [p.name for p in root.glob("env-*")] == [ready.python.parents[1].name]

    upgraded = environment.build(root, Recorder(), check, requirements=changed, pip_options=local_index)
    assert upgraded.state == "ready" and upgraded.details["check"]["versions"]["TensorFlow"] == "2.21.0"
    assert upgraded.python != ready.python and not ready.python.parents[1].exists()


def test_a_failed_install_names_the_fix_and_leaves_nothing(tmp_path, local_index):
    root = tmp_path / "env"
    with pytest.raises(EnvironmentSetupError, match="pip found no TensorFlow build for this Python"):
        environment.build(root, Recorder(), check, requirements=requirements(tmp_path, "tensorflow-cpu==9.9\n"),
                          pip_options=local_index)
    assert sorted(p.name for p in root.iterdir()) == []


def test_an_environment_that_fails_its_check_is_not_marked_ready(tmp_path, local_index):
    def refuse(python, reporter):
        raise EnvironmentSetupError("TensorFlow does not import")

    root = tmp_path / "env"
    with pytest.raises(EnvironmentSetupError, match="does not import"):
        environment.build(root, Recorder(), refuse, requirements=requirements(tmp_path, "tensorflow-cpu\n"),
                          pip_options=local_index)
    assert environment.status(root).state == "missing" and list(root.iterdir()) == []


def test_the_full_list_includes_the_classification_list_and_only_it_has_no_tensorflow():
    full = environment.expanded(environment.SETUP_REQUIREMENTS["full"])
    classification = environment.expanded(environment.SETUP_REQUIREMENTS["classification"])
    assert "-r " not in full and classification in full and "onnxruntime==" in classification
    assert "tensorflow" not in classification and "tensorflow-cpu==" in full
    assert environment.requirements_digest() != environment.requirements_digest(
        environment.SETUP_REQUIREMENTS["classification"])


@pytest.mark.parametrize("setup, built_from, state", [
    ("classification", "classification", "ready"), ("classification", "full", "outdated"),
    ("full", "full", "ready"), (None, "full", "ready")])  # None: a marker written before set-ups existed
def test_an_environment_is_ready_when_built_from_its_set_ups_list(tmp_path, setup, built_from, state):
    python = tmp_path / "env-1" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()
    check = {"versions": {"ONNX Runtime": "1.32.0", "TensorFlow": "2.21.0"}, "devices": ["CPU: cpu"]}
    marker = {"python": "env-1/bin/python", "check": check, **({"setup": setup} if setup else {}),
              "requirements_sha256": environment.requirements_digest(environment.SETUP_REQUIREMENTS[built_from])}
    (tmp_path / environment.MARKER).write_text(json.dumps(marker))
    found = environment.status(tmp_path)
    assert (found.state, found.setup) == (state, setup or "full")
    if state == "ready":
        assert found.summary == ("Classification only · ONNX Runtime 1.32.0" if setup == "classification"
                                 else "TensorFlow 2.21.0 · CPU")
