"""Style the layers that Processing loads from GeoSeg's outputs.

Class rasters carry their own default style (the .qml that training/ writes beside them), which QGIS
applies whenever it opens the file, except where Processing loads an algorithm's outputs into the project
(the dialog, ``processing.runAndLoadResults``, models run there): :class:`DefaultStyle` applies it there.
Class polygons are drawn in their classes' colours (their ``color`` field) by :class:`ClassColours`, suggested
squares as outlines in their predicted class' colour by :class:`SuggestedSquares`.
Either way the layer's legend is then shown expanded: QGIS desktop collapses a legend of 10 items or more
when the layer is added, as a class raster's is before its style (its colour table has 256 entries).
"""
from qgis.core import (QgsCategorizedSymbolRenderer, QgsProcessingLayerPostProcessorInterface, QgsRendererCategory,
                       QgsSymbol)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor


class LayerStyler(QgsProcessingLayerPostProcessorInterface):
    """Styles a loaded output layer. The Processing context owns it and deletes it with itself, yet calls
    its Python method only while Python holds it too: ``pending`` does, until it has run."""

    pending = set()

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API name)
        self.style(layer)
        layer.triggerRepaint()
        node = layer.project() and layer.project().layerTreeRoot().findLayer(layer)
        if node:
            node.setExpanded(True)
        LayerStyler.pending.discard(self)

    def style(self, layer):
        raise NotImplementedError


class DefaultStyle(LayerStyler):
    def style(self, layer):
        layer.loadDefaultStyle()


class ClassColours(LayerStyler):
    """One category per class value, labelled with its name and filled with its colour."""

    def style(self, layer):
        categories, seen = [], set()
        for feature in layer.getFeatures():
            value = feature["value"]
            if value not in seen:
                seen.add(value)
                symbol = QgsSymbol.defaultSymbol(layer.geometryType())
                symbol.setColor(QColor(feature["color"]))
                categories.append(QgsRendererCategory(value, symbol, feature["class"]))
        layer.setRenderer(QgsCategorizedSymbolRenderer("value", sorted(categories, key=lambda c: c.value())))


class SuggestedSquares(LayerStyler):
    """Suggested squares (geoseg:suggestsamples) as outlines, one category per predicted class in its colour."""

    def style(self, layer):
        categories = {}
        for feature in layer.getFeatures():
            if feature["predicted"] not in categories:
                symbol = QgsSymbol.defaultSymbol(layer.geometryType())
                symbol.symbolLayer(0).setBrushStyle(Qt.BrushStyle.NoBrush)  # scoped: Qt6 has no Qt.NoBrush
                symbol.symbolLayer(0).setStrokeColor(QColor(feature["color"]))
                symbol.symbolLayer(0).setStrokeWidth(0.6)
                categories[feature["predicted"]] = QgsRendererCategory(
                    feature["predicted"], symbol, feature["predicted_name"])
        layer.setRenderer(QgsCategorizedSymbolRenderer("predicted", [categories[key] for key in sorted(categories)]))


def style_on_load(context, path: str, styler: type[LayerStyler] = DefaultStyle) -> None:
    """Style ``path``'s layer with ``styler`` once Processing has loaded it, if it loads it at all."""
    if context.willLoadLayerOnCompletion(path):
        instance = styler()
        LayerStyler.pending.add(instance)
        context.layerToLoadOnCompletionDetails(path).setPostProcessor(instance)
