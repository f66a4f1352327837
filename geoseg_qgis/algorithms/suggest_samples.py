"""geoseg:suggestsamples — squares to label next, where a model is least sure of a raster."""
from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterRasterLayer,
                       QgsProcessingParameterVectorDestination)

from ..runner import run
from ..training.config import SuggestConfig
from ..training.models.onnx_metadata import is_onnx
from .base import GeoSegAlgorithm, declared_help, raster_file
from .styling import SuggestedSquares, style_on_load


class SuggestSamplesAlgorithm(GeoSegAlgorithm):
    INPUT = "INPUT"
    MODEL = "MODEL"
    AREA = "AREA"
    LABELS = "LABELS"
    LABEL_POLYGONS = "LABEL_POLYGONS"
    COUNT = "COUNT"
    SQUARE_SIZE = "SQUARE_SIZE"
    MIN_DISTANCE = "MIN_DISTANCE"
    OUTPUT = "OUTPUT"
    SQUARES = "SQUARES"

    NAME = "suggestsamples"
    DISPLAY_NAME = "Suggest samples to label"
    CONFIG = SuggestConfig
    HELP = (
        "Suggests where to label next: small squares of the raster where the model is least sure (the mean "
        "normalised entropy of its class probabilities over the square, 0 = sure, 1 = all classes equally "
        "likely). Labels there improve a model faster than labels drawn anywhere (uncertainty sampling).<br><br>"
        "The <b>number of squares</b> is shared evenly among the classes the model predicts, so a rare class gets "
        "its share; the rest go to the most uncertain squares of any class. No two squares are closer than the "
        "<b>minimum distance</b>, and none touches a pixel the <b>label raster</b> or <b>label polygons</b> "
        "already label, or lies outside the <b>area</b>.<br><br>"
        "The output is a GeoPackage of squares (in the raster's CRS, or the label polygons') with the "
        "<b>predicted</b> class value and name, its colour, the <b>uncertainty</b> and an empty <b>class</b> "
        "field: edit the layer, fill <b>class</b> with the true class of each square (delete those you cannot "
        "tell), then use it as label polygons with class field <b>class</b> in <i>Create training chips</i>, "
        "and train again (under Advanced, <i>Start from an earlier GeoSeg model</i> continues from this one). "
        "The squares open as outlines in their predicted class' colour. With the output skipped, nothing is done."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Multispectral raster")))
        self.addParameter(self.model_parameter(self.MODEL, SuggestConfig))
        self.addParameter(self.setting(self.COUNT, "count", "Number of squares"))
        self.addParameter(self.with_help(QgsProcessingParameterFeatureSource(
            self.AREA, self.tr("Only inside these polygons"), [QgsProcessing.TypeVectorPolygon], optional=True),
            declared_help(SuggestConfig, "area_polygons")))
        self.addParameter(self.with_help(QgsProcessingParameterRasterLayer(
            self.LABELS, self.tr("Labels so far: label raster"), optional=True),
            declared_help(SuggestConfig, "label_raster")))
        self.addParameter(self.with_help(QgsProcessingParameterFeatureSource(
            self.LABEL_POLYGONS, self.tr("…or label polygons"), [QgsProcessing.TypeVectorAnyGeometry], optional=True),
            declared_help(SuggestConfig, "label_polygons")))
        self.add_advanced((self.setting(self.SQUARE_SIZE, "square_size", "Square side (pixels)"),
                           self.setting(self.MIN_DISTANCE, "min_distance", "Minimum distance (pixels)")))
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT, self.tr("Suggested squares"), QgsProcessing.TypeVectorPolygon, optional=True,
            createByDefault=True, defaultValue=None))
        self.addOutput(QgsProcessingOutputNumber(self.SQUARES, self.tr("Number of squares")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        if not output:  # skipped, e.g. the optional step of the shipped model
            feedback.pushInfo("No suggested squares asked for: nothing to do.")
            return {self.SQUARES: 0}
        labels = self.parameterAsRasterLayer(parameters, self.LABELS, context)
        config = SuggestConfig(
            input_raster=raster_file(self.parameterAsRasterLayer(parameters, self.INPUT, context), self.INPUT),
            model_path=self.parameterAsFile(parameters, self.MODEL, context),
            output_vector=output,
            area_polygons=self.vector_file(parameters, self.AREA, context, feedback),
            label_raster=raster_file(labels, self.LABELS) if labels else "",
            label_polygons=self.vector_file(parameters, self.LABEL_POLYGONS, context, feedback),
            **self.setting_values(parameters, context),
        )
        result = run("suggest", config, feedback, onnx_only=is_onnx(config.model_path))
        for name, squares in result["class_squares"].items():
            feedback.pushInfo(f"{name}: {squares} squares")
        style_on_load(context, result["output_vector"], SuggestedSquares)
        return {self.OUTPUT: result["output_vector"], self.SQUARES: result["squares"]}
