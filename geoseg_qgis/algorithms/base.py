"""What every GeoSeg algorithm shares: naming, help, the TensorFlow check and the progress bridge."""
import contextlib
import importlib.util

from qgis.core import (QgsProcessingAlgorithm, QgsProcessingException, QgsProcessingFeedback,
                       QgsRasterLayer)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from training.progress import Cancelled, Progress

from ..metadata import ICON_PATH

TENSORFLOW_MISSING = (
    "TensorFlow is not installed in the Python that QGIS uses. Install it into that Python, e.g. "
    "`python3 -m pip install 'tensorflow-cpu>=2.16'` (on Windows from the OSGeo4W Shell), then restart QGIS."
)


class GeoSegAlgorithm(QgsProcessingAlgorithm):
    """Base class: subclasses set ``NAME``, ``DISPLAY_NAME``, ``HELP`` and implement the Processing hooks."""

    NAME = ""
    DISPLAY_NAME = ""
    HELP = ""

    def tr(self, text):
        return QCoreApplication.translate("GeoSeg", text)

    def createInstance(self):  # noqa: N802 (QGIS API name)
        return type(self)()

    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802 (QGIS API name)
        return self.tr(self.DISPLAY_NAME)

    def group(self):
        return self.tr("Deep learning")

    def groupId(self):  # noqa: N802 (QGIS API name)
        return "deeplearning"

    def shortHelpString(self):  # noqa: N802 (QGIS API name)
        return self.tr(self.HELP)

    def icon(self):
        return QIcon(ICON_PATH)


def require_tensorflow() -> None:
    if importlib.util.find_spec("tensorflow") is None:
        raise QgsProcessingException(TENSORFLOW_MISSING)


def progress_for(feedback: QgsProcessingFeedback) -> Progress:
    """A ``training`` progress reporter drawing on the Processing feedback (bar, log, cancel button)."""

    def report(percent: float, message: str) -> None:
        feedback.setProgress(percent)
        if message:
            feedback.pushInfo(message)

    return Progress(report, feedback.isCanceled)


def raster_file(layer: QgsRasterLayer, parameter: str) -> str:
    """The file behind a GDAL raster layer, or a clear error for other providers."""
    if layer is None:
        raise QgsProcessingException(f"No raster layer given for {parameter}.")
    if layer.providerType() != "gdal":
        raise QgsProcessingException(
            f"{layer.name()} is a {layer.providerType()} layer: GeoSeg reads rasters through GDAL files. "
            "Save it as a GeoTIFF first (Export › Save As…).")
    return layer.source().split("|")[0]


@contextlib.contextmanager
def processing_errors():
    """Show ``training``'s ValueErrors (which name the file and the fix) and cancellation as Processing errors."""
    try:
        yield
    except (ValueError, Cancelled) as err:
        raise QgsProcessingException(str(err)) from err
