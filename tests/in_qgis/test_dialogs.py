"""GeoSeg's algorithm dialogs fit a laptop screen: short labels (details in each parameter's help, its tooltip),
no horizontal scrolling at the size QGIS opens a new dialog with, Advanced parameters most often changed first."""
import pytest
from qgis.core import QgsApplication, QgsProcessingParameterDefinition, QgsProcessingParameterEnum
from qgis.gui import QgsBrowserGuiModel, QgsCollapsibleGroupBoxBasic
from qgis.PyQt import sip
from qgis.PyQt.QtGui import QFont
from qgis.PyQt.QtWidgets import QApplication, QGroupBox, QScrollArea

from geoseg_qgis.algorithms.base import declared_help
from training.config import TrainConfig

LABEL_LENGTH = 45  # characters: with " [optional]" one line of a dialog 688 px wide (issue 34)
DIALOG_SIZE = (688, 523)  # the size QGIS 3.22 gives a dialog it has not shown before
DESKTOP_FONT = QFont("Sans Serif", 9)  # QGIS desktop's font on Linux (Xvfb, default settings)


def geoseg_algorithms():
    return QgsApplication.processingRegistry().providerById("geoseg").algorithms()


def test_every_label_is_short(geoseg):
    algorithms = geoseg_algorithms()
    assert len(algorithms) >= 12  # the algorithms and the shipped model
    long = {f"{algorithm.id()} {parameter.name()}": parameter.description()
            for algorithm in algorithms for parameter in algorithm.parameterDefinitions()
            if len(parameter.description()) > LABEL_LENGTH}
    assert not long


def test_every_drop_down_choice_is_short(geoseg):
    long = {f"{algorithm.id()} {parameter.name()}": option
            for algorithm in geoseg_algorithms() for parameter in algorithm.parameterDefinitions()
            if isinstance(parameter, QgsProcessingParameterEnum)
            for option in parameter.options() if len(option) > LABEL_LENGTH}
    assert not long


def test_details_cut_from_train_labels_are_in_their_help(geoseg):
    train = QgsApplication.processingRegistry().algorithmById("geoseg:train")
    help_texts = {parameter.name(): parameter.help() for parameter in train.parameterDefinitions()}
    assert "default: from the labels or the chips folder" in help_texts["CLASS_NAMES"]
    assert help_texts["VALIDATION_FOLDER"] == declared_help(TrainConfig, "validation_dir")
    assert "Keras cache" in help_texts["WEIGHTS"]
    assert "mixed float16" in help_texts["PRECISION"] and "per device" in help_texts["STRATEGY"]
    assert "last quarter" in help_texts["AVERAGING"]
    assert "<p>Chips or windows per batch.</p>" in train.parameterDefinition("BATCH_SIZE").toolTip()


def test_train_advanced_parameters_most_often_changed_first(geoseg):
    train = QgsApplication.processingRegistry().algorithmById("geoseg:train")
    advanced = [parameter.name() for parameter in train.parameterDefinitions()
                if parameter.flags() & QgsProcessingParameterDefinition.FlagAdvanced]
    assert advanced[:3] == ["BATCH_SIZE", "LEARNING_RATE", "CLASS_WEIGHTING"]
    assert advanced[-2:] == ["PRECISION", "STRATEGY"]


@pytest.fixture
def desktop_font(qgis_app):
    font = QApplication.font()
    QApplication.setFont(DESKTOP_FONT)
    yield
    QApplication.setFont(font)


@pytest.fixture
def dialog_context(geoseg, qgis_iface, monkeypatch):
    """Processing's dialogs ask the interface for its browser model, which pytest-qgis leaves a mock."""
    model = QgsBrowserGuiModel()
    monkeypatch.setattr(qgis_iface, "browserModel", lambda: model, raising=False)
    return geoseg


@pytest.mark.parametrize("algorithm_id", [
    "geoseg:inspect", "geoseg:createchips", "geoseg:train", "geoseg:evaluate", "geoseg:compare", "geoseg:classify",
    "geoseg:postprocess", "geoseg:vectorize", "geoseg:assessaccuracy", "geoseg:setupenvironment",
    "geoseg:checkenvironment", "geoseg:train_and_classify"])
def test_dialog_needs_no_horizontal_scrolling(dialog_context, desktop_font, algorithm_id):
    dialog = dialog_context.createAlgorithmDialog(algorithm_id, {})
    dialog.resize(*DIALOG_SIZE)
    dialog.show()
    for box in dialog.findChildren(QGroupBox):  # Advanced parameters, expanded
        sip.cast(box, QgsCollapsibleGroupBoxBasic).setCollapsed(False)
    QApplication.processEvents()
    try:
        areas = [area for area in dialog.findChildren(QScrollArea) if area.isVisible() and area.widget()]
        assert areas
        for area in areas:
            width, room = area.widget().minimumSizeHint().width(), area.viewport().width()
            assert width <= room, f"{algorithm_id}: parameters {width} px wide in a view of {room} px"
            assert not area.horizontalScrollBar().isVisible()
    finally:
        dialog.close()
        dialog.deleteLater()
