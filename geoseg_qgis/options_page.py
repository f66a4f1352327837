"""Settings › Options › GeoSeg: the Python that runs TensorFlow, its status, and buttons to set up and check."""
import os

from qgis.core import QgsSettings
from qgis.gui import QgsFileWidget, QgsOptionsPageWidget, QgsOptionsWidgetFactory
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from .metadata import ICON_PATH
from .runner import ENV_DIR_SETTING, PYTHON_SETTING, PYTHON_VARIABLE, default_environment_root, environment_root
from .training.host import environment

PAGE = "GeoSeg"


def tr(text: str) -> str:
    return QCoreApplication.translate("GeoSeg", text)


class GeoSegOptionsFactory(QgsOptionsWidgetFactory):
    """Makes the page; ``on_change`` is called after the page ran a set-up or check, or saved its settings."""

    def __init__(self, on_change=lambda: None):
        super().__init__(PAGE, QIcon(ICON_PATH))
        self.on_change = on_change

    def createWidget(self, parent):  # noqa: N802 (QGIS API name)
        return GeoSegOptionsPage(parent, self.on_change)


class GeoSegOptionsPage(QgsOptionsPageWidget):
    def __init__(self, parent=None, on_change=lambda: None):
        super().__init__(parent)
        self.setObjectName(PAGE)
        self.on_change = on_change
        settings = QgsSettings()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.folder = QgsFileWidget()
        self.folder.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.folder.setFilePath(settings.value(ENV_DIR_SETTING, "", type=str))
        self.folder.lineEdit().setPlaceholderText(str(default_environment_root()))
        self.python = QgsFileWidget()
        self.python.setFilePath(settings.value(PYTHON_SETTING, "", type=str))
        self.python.lineEdit().setPlaceholderText(tr("Empty: GeoSeg's own environment (recommended)"))
        set_up = QPushButton(tr("Set up TensorFlow environment…"))
        set_up.clicked.connect(self._set_up)  # bound methods: PyQt holds no reference cycle to the page
        check = QPushButton(tr("Check environment…"))
        check.clicked.connect(self._check)

        managed = QGroupBox(tr("GeoSeg's TensorFlow environment"))
        form = QFormLayout(managed)
        form.addRow(tr("Status"), self.status)
        form.addRow(tr("Folder"), self.folder)
        buttons = QHBoxLayout()
        buttons.addWidget(set_up)
        buttons.addWidget(check)
        buttons.addStretch()
        form.addRow(buttons)
        form.addRow(_note(tr(
            "GeoSeg runs TensorFlow in a Python environment of its own, in a separate process, so QGIS' own "
            "Python needs nothing extra. Setting it up takes a minute or a few, with ") + environment.SIZE_NOTE + "."))
        other = QGroupBox(tr("Another Python (advanced)"))
        form = QFormLayout(other)
        form.addRow(tr("Python with TensorFlow"), self.python)
        form.addRow(_note(tr(
            "A Python (e.g. of a conda environment) that has TensorFlow 2.16 or later, NumPy and GDAL. "
            f"The environment variable {PYTHON_VARIABLE} takes precedence over both.")))
        layout = QVBoxLayout(self)
        layout.addWidget(managed)
        layout.addWidget(other)
        layout.addStretch()
        self.refresh()

    def apply(self):
        settings = QgsSettings()
        for key, widget in ((ENV_DIR_SETTING, self.folder), (PYTHON_SETTING, self.python)):
            if widget.filePath().strip():
                settings.setValue(key, widget.filePath().strip())
            else:
                settings.remove(key)
        self._changed()

    def refresh(self):
        """The status line, from what is saved (the buttons save the page first)."""
        self.status.setText(status_line())

    def _set_up(self):
        self._run_dialog("geoseg:setupenvironment")

    def _check(self):
        self._run_dialog("geoseg:checkenvironment")

    def _run_dialog(self, algorithm_id: str):
        import processing

        self.apply()
        processing.execAlgorithmDialog(algorithm_id, {})
        self._changed()

    def _changed(self):
        self.refresh()
        self.on_change()


def status_line() -> str:
    """E.g. "Ready: TensorFlow 2.21.0 · CPU with bfloat16", or what to do."""
    if os.environ.get(PYTHON_VARIABLE):
        return f"{PYTHON_VARIABLE} is set: TensorFlow jobs run in {os.environ[PYTHON_VARIABLE]}."
    chosen = QgsSettings().value(PYTHON_SETTING, "", type=str)
    if chosen:
        return f"TensorFlow jobs run in {chosen} (chosen below); Check environment tests it."
    managed = environment.status(environment_root())
    if managed.state == "ready":
        return f"<b>Ready</b>: {managed.summary}"
    return f"<b>{managed.summary}</b>. Press Set up TensorFlow environment."


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label
