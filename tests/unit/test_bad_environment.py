"""An environment folder (GEOSEG_ENV_DIR, or the options page's) that cannot hold GeoSeg's TensorFlow environment:
the one-click set-up (training.host.environment.build) refuses it with a sentence, before it looks for a Python,
runs venv or pip, or writes anything."""
import subprocess

import pytest

from training.errors import GeoSegError
from training.host import environment
from training.progress import Progress


@pytest.fixture
def read_only_mount(tmp_path):
    """A real read-only file system (tmpfs mounted ro; needs root with CAP_SYS_ADMIN, else the test is skipped).
    As root, a folder chmod-ed read-only is still writable, so only a mount shows the real failure."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {mounted.stderr.strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def nothing_is_built(monkeypatch):
    """Fail the test if the set-up gets as far as looking for a Python or running venv or pip."""
    def reached(*args, **kwargs):
        raise AssertionError("the environment folder was not checked before the build began")

    monkeypatch.setattr(environment, "find_base_python", reached)
    monkeypatch.setattr(environment, "_run", reached)


def _file(tmp_path):
    (tmp_path / "notes.txt").write_text("notes")
    return tmp_path / "notes.txt"


FOLDERS = {  # how to make the unusable folder from tmp_path and the mount, and what the message says is wrong
    "is_a_file": (lambda tmp_path, mount: _file(tmp_path), "{root} is a file, not a folder"),
    "inside_a_file": (lambda tmp_path, mount: _file(tmp_path) / "geoseg" / "python", "{file} is a file, not a folder"),
    "on_a_read_only_mount": (lambda tmp_path, mount: mount / "geoseg" / "python", "Read-only file system"),
    "a_read_only_mount": (lambda tmp_path, mount: mount, "Read-only file system"),
}


@pytest.mark.parametrize("case", FOLDERS)
def test_an_unusable_environment_folder_is_refused_before_anything_is_built(case, tmp_path, nothing_is_built,
                                                                            request):
    make, reason = FOLDERS[case]
    mount = request.getfixturevalue("read_only_mount") if "read_only" in case else None
    root = make(tmp_path, mount)
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(GeoSegError) as refused:
        environment.build(root, Progress(), lambda python, progress: {})
    message = str(refused.value)
    assert f"GeoSeg cannot set up its TensorFlow environment in {root}: " in message
    assert reason.format(root=root, file=tmp_path / "notes.txt") in message
    assert "Set GEOSEG_ENV_DIR" in message and "to a writable folder" in message
    assert sorted(tmp_path.rglob("*")) == before
