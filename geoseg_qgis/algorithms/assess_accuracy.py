"""geoseg:assessaccuracy — accuracy and area estimates of a class raster from reference data."""
from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterFeatureSink,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterField,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterRasterLayer)

from ..runner import run
from ..training.config import AccuracyConfig
from ..training.products.assess import class_rows
from .base import GeoSegAlgorithm, raster_file


class AssessAccuracyAlgorithm(GeoSegAlgorithm):
    INPUT = "INPUT"
    REFERENCE_RASTER = "REFERENCE_RASTER"
    REFERENCE_VECTOR = "REFERENCE_VECTOR"
    CLASS_FIELD = "CLASS_FIELD"
    OUTPUT_TABLE = "OUTPUT_TABLE"
    OUTPUT_HTML = "OUTPUT_HTML"
    OUTPUT_CSV = "OUTPUT_CSV"
    OVERALL_ACCURACY = "OVERALL_ACCURACY"
    OVERALL_ACCURACY_CI = "OVERALL_ACCURACY_CI"

    NAME = "assessaccuracy"
    DISPLAY_NAME = "Assess accuracy and areas"
    TOOLBOX_GROUP = ("Map products", "mapproducts")
    HELP = (
        "How accurate a class map is, and how large each class really is, the way remote-sensing practice "
        "requires (Olofsson et al. 2014, <i>Good practices for estimating area and assessing accuracy of land "
        "change</i>). Works on any single-band class raster, not only GeoSeg's.<br><br>"
        "The <b>reference</b> is a class raster (resampled by nearest neighbour onto the map's grid when needed), "
        "or polygons or points with a numeric <b>class field</b> (reprojected as needed); its pixels on mapped "
        "pixels form the sample, and 255 or nodata is left out. The estimators treat the map classes as strata "
        "of a stratified random sample: reference data collected that way (or spread evenly over the map) make "
        "the intervals meaningful.<br><br>"
        "The <b>table</b> and the <b>CSV</b> have one row per map class: its mapped area; its area adjusted for "
        "the map's errors (hectares for projected metric CRSs), user's and producer's accuracy and F1, each with "
        "the half-width of its 95 % confidence interval (<i>…_ci</i>; F1's by the delta method); and the class' "
        "row of the error matrix in reference pixels (<i>reference_&lt;value&gt;_pixels</i>) and in estimated "
        "area proportions (<i>reference_&lt;value&gt;_proportion</i>: W<sub>i</sub> n<sub>ij</sub> / "
        "n<sub>i·</sub>, W<sub>i</sub> the class' share of the mapped area). The "
        "<b>HTML report</b> has the overall accuracy, how the figures are estimated, that table, and both error "
        "matrices with their totals. "
        "The overall accuracy and its half-width are also outputs for the graphical modeler."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Class raster")))
        self.addParameter(QgsProcessingParameterRasterLayer(
            self.REFERENCE_RASTER, self.tr("Reference raster (class values; 255 = none)"), optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.REFERENCE_VECTOR, self.tr("…or reference polygons or points"),
            [QgsProcessing.TypeVectorPolygon, QgsProcessing.TypeVectorPoint], optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.CLASS_FIELD, self.tr("Class field of the reference (0, 1, 2, …)"),
            parentLayerParameterName=self.REFERENCE_VECTOR, type=QgsProcessingParameterField.Numeric,
            optional=True))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT_TABLE, self.tr("Accuracy per class"), QgsProcessing.TypeVector))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_HTML, self.tr("Accuracy report"), self.tr("HTML files (*.html)"), optional=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_CSV, self.tr("Accuracy per class as CSV"), self.tr("CSV files (*.csv)"), optional=True,
            createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber(self.OVERALL_ACCURACY, self.tr("Overall accuracy")))
        self.addOutput(QgsProcessingOutputNumber(self.OVERALL_ACCURACY_CI,
                                                 self.tr("Overall accuracy: 95 % confidence half-width")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        reference_layer = self.parameterAsRasterLayer(parameters, self.REFERENCE_RASTER, context)
        vector = self.vector_file(parameters, self.REFERENCE_VECTOR, context, feedback)
        config = AccuracyConfig(
            class_raster=raster_file(self.parameterAsRasterLayer(parameters, self.INPUT, context), self.INPUT),
            reference_raster=raster_file(reference_layer, self.REFERENCE_RASTER) if reference_layer else "",
            reference_vector=vector,
            class_field=self.parameterAsString(parameters, self.CLASS_FIELD, context),
            output_csv=self.parameterAsFileOutput(parameters, self.OUTPUT_CSV, context),
            output_html=self.parameterAsFileOutput(parameters, self.OUTPUT_HTML, context),
        )
        result = run("assess", config, feedback, needs_tensorflow=False)
        report = result["report"]
        table = self.table_sink(parameters, self.OUTPUT_TABLE, context, class_rows(report))
        feedback.pushInfo(f"Areas in {report['area_unit']}; error matrix (rows map, columns reference): "
                          f"{report['error_matrix']}")
        outputs = {self.OUTPUT_TABLE: table, self.OVERALL_ACCURACY: report["overall_accuracy"],
                   self.OVERALL_ACCURACY_CI: report["overall_accuracy_ci"]}
        for key, path in ((self.OUTPUT_HTML, result["output_html"]), (self.OUTPUT_CSV, result["output_csv"])):
            if path:
                outputs[key] = path
        return outputs
