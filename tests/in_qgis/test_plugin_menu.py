"""Plugins › GeoSeg: the menu the plugin adds to QGIS desktop (with pytest-qgis' stand-in interface)."""
import pytest
from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QSize

from geoseg_qgis.plugin import MENU, GeoSegPlugin


@pytest.fixture
def menu(geoseg, qgis_iface, monkeypatch):
    """The plugin's menu entries by label, once its GUI is set up."""
    entries = {}
    monkeypatch.setattr(qgis_iface, "addPluginToMenu", lambda name, action: entries.setdefault(action.text(), action)
                        if name == MENU else None)
    monkeypatch.setattr(qgis_iface, "iconSize", lambda docked=False: QSize(24, 24))  # the stand-in needs an argument
    plugin = GeoSegPlugin(qgis_iface)
    plugin.provider = QgsApplication.processingRegistry().providerById("geoseg")  # the session's, not removed
    plugin.initGui()
    yield entries
    plugin.provider = None
    plugin.unload()


def test_menu_opens_the_shipped_model_in_the_graphical_modeler_as_an_unsaved_copy(menu):
    from processing.modeler.ModelerDialog import ModelerDialog

    open_model = next(action for label, action in menu.items() if "graphical modeler" in label)
    open_model.trigger()
    dialog = ModelerDialog.dlgs[-1]
    try:
        shipped = QgsApplication.processingRegistry().algorithmById("geoseg:train_and_classify")
        assert dialog.isVisible()
        assert dialog.model().toVariant()["children"].keys() == shipped.toVariant()["children"].keys()
        assert dialog.model().displayName() == shipped.displayName()
        assert dialog.model().sourceFilePath() == ""  # Save asks where: never over the plugin's own file
    finally:
        dialog.setDirty(False)
        dialog.close()
