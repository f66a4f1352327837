"""geoseg:vectorize — polygons per class from a class raster."""
from qgis.core import (QgsProcessingOutputNumber, QgsProcessingParameterRasterLayer,
                       QgsProcessingParameterVectorDestination)

from ..runner import run
from ..training.config import VectorizeConfig
from .base import GeoSegAlgorithm, raster_file
from .styling import ClassColours, style_on_load


class VectorizeAlgorithm(GeoSegAlgorithm):
    INPUT = "INPUT"
    MIN_AREA = "MIN_AREA"
    SIMPLIFY = "SIMPLIFY"
    DISSOLVE = "DISSOLVE"
    OUTPUT = "OUTPUT"
    POLYGONS = "POLYGONS"

    NAME = "vectorize"
    DISPLAY_NAME = "Class raster to polygons"
    TOOLBOX_GROUP = ("Map products", "mapproducts")
    HELP = (
        "Turns a class raster into polygons: one polygon per object (a patch of a class' pixels touching by an "
        "edge or a corner, as <i>Evaluate model</i> counts objects), or one multipolygon per class with "
        "<b>Dissolve</b>. Each has the class <b>value</b>, its name (<b>class</b>), its colour (<b>color</b>, "
        "#rrggbb), its <b>area</b> in square map units and its <b>length</b> in map units (the longer side of its "
        "smallest rotated rectangle: a vessel's length whatever its heading), in the raster's CRS; nodata (255) "
        "gives no polygon. The polygons open drawn in the classes' colours.<br><br>"
        "Polygons smaller than the <b>minimum area</b> are left out (to merge small patches into their "
        "neighbours instead, run <i>Clean class raster</i> first). A <b>simplification tolerance</b> (map "
        "units) smooths the pixel staircase of the outlines, each polygon on its own, so neighbours may no "
        "longer share edges exactly. Written as a GeoPackage; with the output skipped, nothing is done."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Class raster")))
        self.addParameter(self.setting_parameter(
            self.MIN_AREA, "Minimum polygon area (map units²; 0 = all)", VectorizeConfig, "min_area"))
        self.addParameter(self.setting_parameter(
            self.SIMPLIFY, "Simplification tolerance (map units)", VectorizeConfig, "simplify"))
        self.addParameter(self.setting_parameter(
            self.DISSOLVE, "Dissolve: one multipolygon per class", VectorizeConfig, "dissolve"))
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT, self.tr("Class polygons"), optional=True, createByDefault=True, defaultValue=None))
        self.addOutput(QgsProcessingOutputNumber(self.POLYGONS, self.tr("Number of polygons")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        if not output:  # skipped, e.g. the optional step of the shipped model
            feedback.pushInfo("No class polygons asked for: nothing to do.")
            return {self.POLYGONS: 0}
        config = VectorizeConfig(
            class_raster=raster_file(self.parameterAsRasterLayer(parameters, self.INPUT, context), self.INPUT),
            output_vector=output,
            min_area=self.parameterAsDouble(parameters, self.MIN_AREA, context),
            simplify=self.parameterAsDouble(parameters, self.SIMPLIFY, context),
            dissolve=self.parameterAsBool(parameters, self.DISSOLVE, context),
        )
        result = run("vectorize", config, feedback, needs_tensorflow=False)
        style_on_load(context, result["output_vector"], ClassColours)
        return {self.OUTPUT: result["output_vector"], self.POLYGONS: result["polygons"]}
