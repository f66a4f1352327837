"""geoseg:createchips — cut a raster and its labels into training chips."""
from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterField, QgsProcessingParameterFolderDestination,
                       QgsProcessingParameterRasterLayer)

from ..runner import run
from ..training.config import ChipsConfig
from .base import GeoSegAlgorithm, raster_file


class CreateChipsAlgorithm(GeoSegAlgorithm):
    INPUT = "INPUT"
    LABELS = "LABELS"
    LABEL_POLYGONS = "LABEL_POLYGONS"
    CLASS_FIELD = "CLASS_FIELD"
    CHIP_SIZE = "CHIP_SIZE"
    MIN_LABELLED = "MIN_LABELLED"
    OUTPUT = "OUTPUT"
    CHIP_COUNT = "CHIP_COUNT"

    NAME = "createchips"
    DISPLAY_NAME = "Create training chips"
    HELP = (
        "Cuts a multispectral raster and its labels into square GeoTIFF chips for training: "
        "<b>images/</b> holds the raster's bands, <b>labels/</b> one class band per chip with the same name. "
        "Every chip keeps the source CRS and its own geotransform.<br><br>"
        "Give the labels either as a <b>label raster</b> (class values 0, 1, 2, …; 255 or the raster's nodata "
        "= unlabelled; resampled by nearest neighbour onto the image grid if needed) or as <b>label polygons</b> "
        "with a numeric <b>class field</b>. Pixels outside any polygon are unlabelled and ignored in training, as "
        "are pixels where any image band is nodata, NaN or infinite.<br><br>"
        "Chips without a labelled pixel are skipped. By default (<b>minimum labelled share</b> 0) every chip with "
        "a labelled pixel is kept, however few: training leaves unlabelled pixels out. A higher minimum also skips "
        "chips whose labelled share is below it, and the log then warns how many labelled chips and pixels were "
        "dropped. Class names stored as "
        "category names in the label raster are kept for training (classes.json)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Multispectral raster")))
        self.addParameter(QgsProcessingParameterRasterLayer(
            self.LABELS, self.tr("Label raster (0, 1, 2, …; 255 = unlabelled)"), optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.LABEL_POLYGONS, self.tr("…or label polygons"), [QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.CLASS_FIELD, self.tr("Class field of the polygons (0, 1, 2, …)"),
            parentLayerParameterName=self.LABEL_POLYGONS, type=QgsProcessingParameterField.Numeric, optional=True))
        self.addParameter(self.setting_parameter(self.CHIP_SIZE, "Chip size (pixels)", ChipsConfig, "chip_size"))
        self.addParameter(self.setting_parameter(
            self.MIN_LABELLED, "Minimum labelled share of a chip", ChipsConfig, "min_labelled"))
        self.addParameter(QgsProcessingParameterFolderDestination(self.OUTPUT, self.tr("Chips folder")))
        self.addOutput(QgsProcessingOutputNumber(self.CHIP_COUNT, self.tr("Number of chips written")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        label_layer = self.parameterAsRasterLayer(parameters, self.LABELS, context)
        polygons = self.vector_file(parameters, self.LABEL_POLYGONS, context, feedback)
        config = ChipsConfig(
            image_raster=raster_file(self.parameterAsRasterLayer(parameters, self.INPUT, context), self.INPUT),
            output_dir=self.parameterAsString(parameters, self.OUTPUT, context),
            label_raster=raster_file(label_layer, self.LABELS) if label_layer else "",
            label_polygons=polygons,
            class_field=self.parameterAsString(parameters, self.CLASS_FIELD, context),
            chip_size=self.parameterAsInt(parameters, self.CHIP_SIZE, context),
            min_labelled=self.parameterAsDouble(parameters, self.MIN_LABELLED, context),
        )
        result = run("chips", config, feedback, needs_tensorflow=False)
        return {self.OUTPUT: result["output_dir"], self.CHIP_COUNT: result["chip_count"]}
