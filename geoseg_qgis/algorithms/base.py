"""What every GeoSeg algorithm shares: naming, group, help and icon."""
from qgis.core import QgsProcessingAlgorithm, QgsProcessingException, QgsRasterLayer
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..metadata import ICON_PATH


class GeoSegAlgorithm(QgsProcessingAlgorithm):
    """Base class: subclasses set ``NAME``, ``DISPLAY_NAME``, ``HELP`` (and ``GROUP``, ``GROUP_ID`` outside
    *Deep learning*) and implement the Processing hooks."""

    NAME = ""
    DISPLAY_NAME = ""
    HELP = ""
    GROUP = "Deep learning"
    GROUP_ID = "deeplearning"

    def tr(self, text):
        return QCoreApplication.translate("GeoSeg", text)

    def createInstance(self):  # noqa: N802 (QGIS API name)
        return type(self)()

    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802 (QGIS API name)
        return self.tr(self.DISPLAY_NAME)

    def group(self):
        return self.tr(self.GROUP)

    def groupId(self):  # noqa: N802 (QGIS API name)
        return self.GROUP_ID

    def shortHelpString(self):  # noqa: N802 (QGIS API name)
        return self.tr(self.HELP)

    def icon(self):
        return QIcon(ICON_PATH)


def raster_file(layer: QgsRasterLayer, parameter: str) -> str:
    """The file behind a GDAL raster layer, or a clear error for other providers."""
    if layer is None:
        raise QgsProcessingException(f"No raster layer given for {parameter}.")
    if layer.providerType() != "gdal":
        raise QgsProcessingException(
            f"{layer.name()} is a {layer.providerType()} layer: GeoSeg reads rasters through GDAL files. "
            "Save it as a GeoTIFF first (Export › Save As…).")
    return layer.source().split("|")[0]
