"""Give output layers that Processing loads their default style (the .qml that training/ writes beside them).

QGIS applies a layer file's default style whenever it opens the file, except where Processing loads an
algorithm's outputs into the project (the dialog, ``processing.runAndLoadResults``, models run there):
this post-processor applies it there too.
"""
from qgis.core import QgsProcessingLayerPostProcessorInterface


class DefaultStyle(QgsProcessingLayerPostProcessorInterface):
    """Loads the layer's default style. The Processing context owns it and deletes it with itself, yet calls
    its Python method only while Python holds it too: ``pending`` does, until it has run."""

    pending = set()

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API name)
        layer.loadDefaultStyle()
        layer.triggerRepaint()
        DefaultStyle.pending.discard(self)


def load_with_default_style(context, path: str) -> None:
    """Apply ``path``'s default style once Processing has loaded it, if it loads it at all."""
    if context.willLoadLayerOnCompletion(path):
        styler = DefaultStyle()
        DefaultStyle.pending.add(styler)
        context.layerToLoadOnCompletionDetails(path).setPostProcessor(styler)
