"""geoseg:inspect — look at a raster and its labels, or a chips folder, before training."""
from qgis.core import (QgsProcessingOutputNumber, QgsProcessingOutputString, QgsProcessingParameterFile,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterRasterLayer)

from ..runner import run
from ..training.config import InspectConfig
from .base import GeoSegAlgorithm, raster_file


class InspectAlgorithm(GeoSegAlgorithm):
    INPUT = "INPUT"
    LABELS = "LABELS"
    CHIPS = "CHIPS"
    OUTPUT_HTML = "OUTPUT_HTML"
    LABELLED_SHARE = "LABELLED_SHARE"
    WARNINGS = "WARNINGS"

    NAME = "inspect"
    DISPLAY_NAME = "Inspect training data"
    HELP = (
        "Look before training. For a multispectral raster (and its label raster, if any) or a chips folder, "
        "writes one HTML page: a warning list (a constant band, much nodata, classes with almost no pixels, "
        "little labelled, chips that overlap), the share of each class and of labelled pixels, per-band "
        "statistics, histograms of every band per class, and example chips (RGB from bands 4,3,2 with a "
        "2–98 % stretch beside their labels in the class colours). A large raster is inspected at 1024 "
        "pixels a side (averaged). The page opens in the Results Viewer and any browser."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Multispectral raster"),
                                                            optional=True))
        self.addParameter(self.with_help(QgsProcessingParameterRasterLayer(
            self.LABELS, self.tr("Its label raster (255 = unlabelled)"), optional=True),
            "Class values 0, 1, 2, …; 255 or the raster's nodata = unlabelled."))
        self.addParameter(QgsProcessingParameterFile(
            self.CHIPS, self.tr("…or a chips folder"), QgsProcessingParameterFile.Folder, optional=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_HTML, self.tr("Inspection report"), self.tr("HTML files (*.html)")))
        self.addOutput(QgsProcessingOutputNumber(self.LABELLED_SHARE, self.tr("Share of labelled pixels")))
        self.addOutput(QgsProcessingOutputString(self.WARNINGS, self.tr("Warnings")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        image = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        labels = self.parameterAsRasterLayer(parameters, self.LABELS, context)
        config = InspectConfig(
            output_html=self.parameterAsFileOutput(parameters, self.OUTPUT_HTML, context),
            image_raster=raster_file(image, self.INPUT) if image else "",
            label_raster=raster_file(labels, self.LABELS) if labels else "",
            chips_dir=self.parameterAsFile(parameters, self.CHIPS, context),
        )
        result = run("inspect", config, feedback, needs_tensorflow=False)
        for warning in result["warnings"]:
            feedback.pushWarning(warning)
        return {self.OUTPUT_HTML: result["output_html"], self.LABELLED_SHARE: result["labelled_share"],
                self.WARNINGS: "\n".join(result["warnings"])}
