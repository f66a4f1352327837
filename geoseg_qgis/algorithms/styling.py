"""Style class rasters in QGIS: a paletted renderer listing only the model's classes."""
from qgis.core import QgsPalettedRasterRenderer, QgsProcessingLayerPostProcessorInterface, QgsRasterLayer
from qgis.PyQt.QtGui import QColor


def paletted_renderer(layer: QgsRasterLayer, classes) -> QgsPalettedRasterRenderer:
    """A legend with one entry per class (a GeoTIFF color table alone would list all 256 values)."""
    return QgsPalettedRasterRenderer(layer.dataProvider(), 1, [
        QgsPalettedRasterRenderer.Class(info.value, QColor(*info.color), info.name) for info in classes])


class ClassStyler(QgsProcessingLayerPostProcessorInterface):
    """Applies the class legend to the output layer once QGIS has loaded it."""

    def __init__(self, classes):
        super().__init__()
        self.classes = classes

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API name)
        if isinstance(layer, QgsRasterLayer):
            layer.setRenderer(paletted_renderer(layer, self.classes))
            layer.triggerRepaint()
