"""The GeoSeg Processing provider: its algorithms and the shipped graphical models."""
from pathlib import Path

from qgis.core import QgsApplication, QgsProcessingModelAlgorithm, QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .algorithms.assess_accuracy import AssessAccuracyAlgorithm
from .algorithms.base import GROUP_ID
from .algorithms.check_environment import CheckEnvironmentAlgorithm
from .algorithms.classify import ClassifyAlgorithm
from .algorithms.compare import CompareAlgorithm
from .algorithms.create_chips import CreateChipsAlgorithm
from .algorithms.evaluate import EvaluateAlgorithm
from .algorithms.export_model import ExportAlgorithm
from .algorithms.inspect_data import InspectAlgorithm
from .algorithms.postprocess import PostprocessAlgorithm
from .algorithms.setup_environment import SetupEnvironmentAlgorithm
from .algorithms.suggest_samples import SuggestSamplesAlgorithm
from .algorithms.train import TrainAlgorithm
from .algorithms.vectorize import VectorizeAlgorithm
from .metadata import ICON_PATH, PLUGIN_DIR, VERSION

MODELS_DIR = PLUGIN_DIR / "models"
SHIPPED_MODEL = MODELS_DIR / "train_and_classify.model3"  # Plugins › GeoSeg opens it in the graphical modeler


class GeoSegProvider(QgsProcessingProvider):
    def id(self):
        return "geoseg"

    def name(self):
        return "GeoSeg"

    def longName(self):  # noqa: N802 (QGIS API name)
        return f"GeoSeg {VERSION} — deep-learning segmentation"

    def versionInfo(self):  # noqa: N802 (QGIS API name)
        return VERSION

    def icon(self):
        return QIcon(ICON_PATH)

    def loadAlgorithms(self):  # noqa: N802 (QGIS API name)
        for algorithm in (InspectAlgorithm(), CreateChipsAlgorithm(), TrainAlgorithm(), EvaluateAlgorithm(),
                          CompareAlgorithm(), ClassifyAlgorithm(), ExportAlgorithm(), PostprocessAlgorithm(),
                          VectorizeAlgorithm(),
                          AssessAccuracyAlgorithm(), SuggestSamplesAlgorithm(), SetupEnvironmentAlgorithm(),
                          CheckEnvironmentAlgorithm()):
            self.addAlgorithm(algorithm)
        # A model finds its steps through the registry, so models are added once this provider is in it.
        if QgsApplication.processingRegistry().providerById(self.id()) is not None:
            for path in sorted(MODELS_DIR.glob("*.model3")):
                self.addAlgorithm(ShippedModel(path))


def register_provider() -> GeoSegProvider:
    """Add a GeoSeg provider to the Processing registry, shipped models included."""
    provider = GeoSegProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    provider.refreshAlgorithms()
    return provider


class ShippedModel(QgsProcessingModelAlgorithm):
    """A graphical model from the plugin's models/ folder; its id is the file name (e.g. geoseg:train_and_classify)."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self.fromFile(str(path))

    def name(self):
        return self.path.stem

    def groupId(self):  # noqa: N802 (QGIS API name)
        """The algorithms' group: a model file stores its group's name only, which QGIS takes as its id."""
        return GROUP_ID

    def createInstance(self):  # noqa: N802 (QGIS API name)
        return ShippedModel(self.path)
