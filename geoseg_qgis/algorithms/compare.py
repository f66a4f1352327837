"""geoseg:compare — train configurations and/or take model files, score them on the same held-out chips, one
visual report."""
from qgis.core import (QgsProcessing, QgsProcessingOutputFile, QgsProcessingOutputNumber, QgsProcessingOutputString,
                       QgsProcessingParameterFeatureSink, QgsProcessingParameterFile,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterFolderDestination,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterRasterLayer,
                       QgsProcessingParameterString)

from ..runner import run
from ..training.config import CompareConfig
from .base import GeoSegAlgorithm, declared_help, raster_file


class CompareAlgorithm(GeoSegAlgorithm):
    RUNS = "RUNS"
    SHARED = "SHARED"
    MODELS = "MODELS"
    IMAGE = "IMAGE"
    LABELS = "LABELS"
    INPUT = "INPUT"
    TEST_CHIPS = "TEST_CHIPS"
    PREVIEW_CHIPS = "PREVIEW_CHIPS"
    OUTPUT_HTML = "OUTPUT_HTML"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    OUTPUT_TABLE = "OUTPUT_TABLE"
    BEST_MODEL = "BEST_MODEL"
    BEST_MODEL_FILE = "BEST_MODEL_FILE"
    BEST_MEAN_IOU = "BEST_MEAN_IOU"

    NAME = "compare"
    DISPLAY_NAME = "Compare models"
    HELP = (
        "Which model is best on my data? Trains several <b>configurations</b> on the same training data, split and "
        "seed, and/or takes <b>model files</b> as they are (GeoSeg .keras models, or ONNX segmentation models "
        "run by ONNX Runtime as <i>Classify raster</i> runs them), then scores every model on the same held-out "
        "chips: a <b>test chips folder</b>, else the held-out test part of the training data (as <i>Train "
        "segmentation model</i> splits it).<br><br>"
        "<b>Configurations</b>: one a line, each as setting=value pairs of the training settings (the names of "
        "<code>python -m training train -h</code>), e.g.<br><code>architecture=unet<br>architecture=unet "
        "bands=rgb<br>architecture=unet_vgg16 pretrained=false</code><br>Settings every configuration shares "
        "(e.g. <code>epochs=20 patience=5 seed=1</code>) go in the shared settings; the split and seed may only "
        "be set there. A configuration that cannot be trained, e.g. for want of ImageNet weights offline, says "
        "why in its row and the others still run.<br><br>"
        "Beside the models, one row for a <b>per-pixel classifier</b> (scikit-learn's gradient boosting on each "
        "pixel's own band values, no neighbourhood), scored on the same held-out pixels: the baseline a network "
        "must beat for its view of context to pay. It is refitted on the training pixels a model file keeps: those "
        "of the configuration trained here that reads the most bands (all share the training part), else of the "
        "first model file that keeps some (files written before GeoSeg kept them, and ONNX models, have none; the "
        "report says when no baseline could be fitted).<br><br>"
        "Outputs: one HTML report (a table of pixel accuracy, IoU per class, mean IoU and F1, parameters, "
        "training time and classification speed; learning curves; confusion matrices; held-out chips as RGB | "
        "reference | each model's prediction with one class legend), the same table as a table layer, the "
        "trained models and the figures as CSV (metrics, curves, confusion) in the output folder, and the best "
        "model (highest mean IoU, never the per-pixel classifier) with its file and mean IoU for the graphical "
        "modeler."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self.addParameter(self.with_help(QgsProcessingParameterString(
            self.RUNS, self.tr("Configurations to train, one a line"), multiLine=True, optional=True),
            declared_help(CompareConfig, "runs")))
        self.addParameter(self.with_help(QgsProcessingParameterString(
            self.SHARED, self.tr("Settings all configurations share"), optional=True),
            declared_help(CompareConfig, "shared")))
        self.addParameter(self.with_help(QgsProcessingParameterMultipleLayers(
            self.MODELS, self.tr("Model files to compare as they are"), QgsProcessing.TypeFile,
            optional=True), declared_help(CompareConfig, "model_paths")))
        self.addParameter(QgsProcessingParameterRasterLayer(
            self.IMAGE, self.tr("Training raster (or give a chips folder)"), optional=True))
        self.addParameter(self.with_help(QgsProcessingParameterRasterLayer(
            self.LABELS, self.tr("Its label raster (255 = unlabelled)"), optional=True),
            declared_help(CompareConfig, "label_raster")))
        self.addParameter(QgsProcessingParameterFile(
            self.INPUT, self.tr("Training chips folder (instead of rasters)"),
            behavior=QgsProcessingParameterFile.Folder, optional=True))
        self.addParameter(self.with_help(QgsProcessingParameterFile(
            self.TEST_CHIPS, self.tr("Test chips folder"), behavior=QgsProcessingParameterFile.Folder,
            optional=True), declared_help(CompareConfig, "test_dir")))
        self.addParameter(self.setting_parameter(
            self.PREVIEW_CHIPS, "Chips shown as pictures", CompareConfig, "preview_chips"))
        self.add_advanced(self.chip_suffix_parameters())
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_HTML, self.tr("Comparison report"), self.tr("HTML files (*.html)")))
        self.addParameter(self.with_help(QgsProcessingParameterFolderDestination(
            self.OUTPUT_FOLDER, self.tr("Folder for the models and figures (CSV)"), optional=True,
            createByDefault=False), declared_help(CompareConfig, "output_dir")))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT_TABLE, self.tr("Scores per model (table)"), QgsProcessing.TypeVector, optional=True))
        self.addOutput(QgsProcessingOutputString(self.BEST_MODEL, self.tr("Best model (highest mean IoU)")))
        self.addOutput(QgsProcessingOutputFile(self.BEST_MODEL_FILE, self.tr("Best model file")))
        self.addOutput(QgsProcessingOutputNumber(self.BEST_MEAN_IOU, self.tr("Best mean IoU")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        image, labels = (self.parameterAsRasterLayer(parameters, name, context) for name in (self.IMAGE, self.LABELS))
        config = CompareConfig(
            output_html=self.parameterAsFileOutput(parameters, self.OUTPUT_HTML, context),
            runs=self.parameterAsString(parameters, self.RUNS, context),
            shared=self.parameterAsString(parameters, self.SHARED, context),
            model_paths=self.parameterAsFileList(parameters, self.MODELS, context) or None,
            chips_dir=self.parameterAsFile(parameters, self.INPUT, context),
            image_raster=raster_file(image, self.IMAGE) if image else "",
            label_raster=raster_file(labels, self.LABELS) if labels else "",
            test_dir=self.parameterAsFile(parameters, self.TEST_CHIPS, context),
            output_dir=self.parameterAsFileOutput(parameters, self.OUTPUT_FOLDER, context),
            preview_chips=self.parameterAsInt(parameters, self.PREVIEW_CHIPS, context),
            **self.chip_suffixes(parameters, context),
        )
        result = run("compare", config, feedback)
        for row in result["table"]:
            if row["note"]:
                feedback.reportError(f"{row['model']}: {row['note']}")
        table = self.table_sink(parameters, self.OUTPUT_TABLE, context, result["table"])
        return {**({self.OUTPUT_TABLE: table} if table else {}), self.OUTPUT_HTML: result["output_html"],
                self.OUTPUT_FOLDER: result["output_dir"], self.BEST_MODEL: result["best_model"],
                self.BEST_MODEL_FILE: result["best_model_path"], self.BEST_MEAN_IOU: result["best_mean_iou"]}
