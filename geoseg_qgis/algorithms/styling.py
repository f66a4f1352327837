"""Give output layers that Processing loads their default style (the .qml that training/ writes beside them).

QGIS applies a layer file's default style whenever it opens the file, except where Processing loads an
algorithm's outputs into the project (the dialog, ``processing.runAndLoadResults``, models run there):
this post-processor applies it there too.
"""
from qgis.core import QgsProcessingLayerPostProcessorInterface


class DefaultStyle(QgsProcessingLayerPostProcessorInterface):
    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API name)
        layer.loadDefaultStyle()
        layer.triggerRepaint()


# QGIS keeps only a pointer to a post-processor: this one lives as long as the plugin.
DEFAULT_STYLE = DefaultStyle()


def load_with_default_style(context, path: str) -> None:
    """Apply ``path``'s default style once Processing has loaded it, if it loads it at all."""
    if context.willLoadLayerOnCompletion(path):
        context.layerToLoadOnCompletionDetails(path).setPostProcessor(DEFAULT_STYLE)
