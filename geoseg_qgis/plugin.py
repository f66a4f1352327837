"""Plugin entry: registers the Processing provider, also when QGIS runs headless (qgis_process)."""
from qgis.core import QgsApplication

from .provider import register_provider


class GeoSegPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802 (QGIS API name)
        if self.provider is None:
            self.provider = register_provider()

    def initGui(self):  # noqa: N802 (QGIS API name)
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
