import os
import sys

import pytest

from geoseg_qgis.provider import register_provider

# TensorFlow jobs run in this Python (the project's .venv), as a user's chosen Python would.
os.environ.setdefault("GEOSEG_PYTHON", sys.executable)


@pytest.fixture(scope="session")
def geoseg(qgis_processing):
    """QGIS Processing with the GeoSeg provider registered; yields ``processing``."""
    import processing
    from qgis.core import QgsApplication

    provider = register_provider()
    yield processing
    QgsApplication.processingRegistry().removeProvider(provider)


@pytest.fixture(autouse=True)
def no_geoseg_settings(qgis_app):
    """Each test starts without GeoSeg settings (pytest-qgis keeps QGIS settings between runs)."""
    from qgis.core import QgsSettings

    QgsSettings().remove("geoseg")
    yield
    QgsSettings().remove("geoseg")


@pytest.fixture
def layer_tree(qgis_iface, monkeypatch):
    """A real layer tree view behind the test interface: from QGIS 3.44 on, Processing adds the results it
    loads to ``iface.layerTreeView()``, which pytest-qgis otherwise mocks (earlier QGIS never asks for it)."""
    from qgis.core import Qgis, QgsLayerTreeModel, QgsProject
    from qgis.gui import QgsLayerTreeView
    from qgis.PyQt.QtCore import QCoreApplication

    if Qgis.QGIS_VERSION_INT < 34400:
        yield None
        return
    view = QgsLayerTreeView()
    view.setModel(QgsLayerTreeModel(QgsProject.instance().layerTreeRoot(), view))  # the view owns its model
    monkeypatch.setattr(qgis_iface, "layerTreeView", lambda: view)
    yield view
    view.deleteLater()
    QCoreApplication.processEvents()


@pytest.fixture
def desktop_legend(layer_tree):
    """The layer tree as QGIS desktop models it: a layer whose legend has 10 items or more when it is added
    comes in collapsed (QgisApp sets setAutoCollapseLegendNodes(10); a class raster's 256-entry colour table
    has them before its style applies). Yields ``expanded(path)``: whether the legend of the one layer
    loaded from ``path`` is shown."""
    from qgis.core import QgsLayerTreeModel, QgsProject

    root = QgsProject.instance().layerTreeRoot()
    model = QgsLayerTreeModel(root)
    model.setAutoCollapseLegendNodes(10)

    def expanded(path) -> bool:
        nodes = [node for node in root.findLayers() if node.layer().source().split("|")[0] == str(path)]
        assert len(nodes) == 1, [node.layer().source() for node in root.findLayers()]
        return nodes[0].isExpanded()

    yield expanded
    del model
