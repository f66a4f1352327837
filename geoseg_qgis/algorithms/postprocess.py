"""geoseg:postprocess — majority filter and minimum mapping unit for a class raster."""
from qgis.core import (QgsProcessingOutputNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer)

from ..runner import run
from ..training.config import PostprocessConfig
from .base import GeoSegAlgorithm, raster_file
from .styling import style_on_load


class PostprocessAlgorithm(GeoSegAlgorithm):
    INPUT = "INPUT"
    MIN_PIXELS = "MIN_PIXELS"
    MIN_AREA = "MIN_AREA"
    MAJORITY_WINDOW = "MAJORITY_WINDOW"
    EIGHT_CONNECTED = "EIGHT_CONNECTED"
    OUTPUT = "OUTPUT"
    APPLIED_MIN_PIXELS = "APPLIED_MIN_PIXELS"

    NAME = "postprocess"
    DISPLAY_NAME = "Clean class raster (minimum mapping unit)"
    TOOLBOX_GROUP = ("Map products", "mapproducts")
    HELP = (
        "Makes a class raster ready for a map. An optional <b>majority filter</b> first gives each pixel the "
        "most frequent class of its neighbourhood (a pixel keeps its class where that ties), which smooths "
        "ragged class edges. Then a <b>minimum mapping unit</b> removes speckle: patches smaller than it merge "
        "into their largest neighbouring class (GDAL's sieve); patches of the unit or larger stay as they "
        "are. Give the unit in pixels or as an area in square map units (e.g. m² for a UTM raster); the "
        "larger applies.<br><br>"
        "Nodata (255) stays nodata and is never merged into. The output keeps the input's grid, CRS, class "
        "names and colours, and opens with the same legend. Works on any single-band Byte class raster."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Class raster")))
        for name, description, setting in (
                (self.MIN_PIXELS, "Minimum mapping unit (pixels; 0 = none)", "min_pixels"),
                (self.MIN_AREA, "…or as an area (square map units; 0 = none)", "min_area"),
                (self.MAJORITY_WINDOW, "Majority filter window (odd px; 0 = none)", "majority_window")):
            self.addParameter(self.setting_parameter(name, description, PostprocessConfig, setting))
        self.add_advanced([self.setting_parameter(self.EIGHT_CONNECTED, "Patches connect through corners",
                                                  PostprocessConfig, "eight_connected")])
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Clean class raster")))
        self.addOutput(QgsProcessingOutputNumber(self.APPLIED_MIN_PIXELS,
                                                 self.tr("Minimum mapping unit applied (pixels)")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        config = PostprocessConfig(
            class_raster=raster_file(self.parameterAsRasterLayer(parameters, self.INPUT, context), self.INPUT),
            output_raster=self.parameterAsOutputLayer(parameters, self.OUTPUT, context),
            min_pixels=self.parameterAsInt(parameters, self.MIN_PIXELS, context),
            min_area=self.parameterAsDouble(parameters, self.MIN_AREA, context),
            majority_window=self.parameterAsInt(parameters, self.MAJORITY_WINDOW, context),
            eight_connected=self.parameterAsBool(parameters, self.EIGHT_CONNECTED, context),
        )
        result = run("postprocess", config, feedback, needs_tensorflow=False)
        style_on_load(context, result["output_raster"])
        return {self.OUTPUT: result["output_raster"], self.APPLIED_MIN_PIXELS: result["min_pixels"]}
