"""Settings › Options › GeoSeg: the status line and the settings it saves."""
import json

from qgis.core import QgsSettings

from geoseg_qgis.options_page import GeoSegOptionsPage
from geoseg_qgis.runner import ENV_DIR_SETTING, PYTHON_SETTING, environment_root, worker_python
from training.host import environment


def test_page_shows_the_environment_status_and_saves_its_settings(qgis_app, monkeypatch, tmp_path):
    monkeypatch.delenv("GEOSEG_PYTHON", raising=False)
    monkeypatch.delenv("GEOSEG_ENV_DIR", raising=False)
    changes = []
    page = GeoSegOptionsPage(on_change=lambda: changes.append(True))
    assert page.status.text().startswith("<b>Not set up</b>")

    page.folder.setFilePath(str(tmp_path / "env"))
    page.apply()
    assert QgsSettings().value(ENV_DIR_SETTING) == str(tmp_path / "env") and environment_root() == tmp_path / "env"
    python = tmp_path / "env" / "env-1" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()
    (tmp_path / "env" / environment.MARKER).write_text(json.dumps({
        "python": "env-1/bin/python", "requirements_sha256": environment.requirements_digest(),
        "check": {"versions": {"TensorFlow": "2.21.0"}, "devices": ["CPU: cpu", "GPU: NVIDIA H200"]}}))
    page.refresh()
    assert page.status.text() == "<b>Ready</b>: TensorFlow 2.21.0 · NVIDIA H200"
    assert worker_python() == str(python)

    page.python.setFilePath("/opt/conda/bin/python")
    page.apply()
    assert worker_python() == "/opt/conda/bin/python" and "chosen below" in page.status.text()
    page.python.setFilePath("")
    page.folder.setFilePath("")
    page.apply()
    assert QgsSettings().value(PYTHON_SETTING) is None and QgsSettings().value(ENV_DIR_SETTING) is None
    assert len(changes) == 3
