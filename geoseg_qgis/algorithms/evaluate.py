"""geoseg:evaluate — score a trained model, or an ONNX segmentation model, on a chips folder."""
from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingOutputString,
                       QgsProcessingParameterFeatureSink, QgsProcessingParameterFile,
                       QgsProcessingParameterFileDestination)

from ..runner import run
from ..training.config import EvaluateConfig
from ..training.data.classes import MATCH_IOU
from .base import GeoSegAlgorithm


class EvaluateAlgorithm(GeoSegAlgorithm):
    MODEL = "MODEL"
    INPUT = "INPUT"
    PREVIEW_CHIPS = "PREVIEW_CHIPS"
    OUTPUT_HTML = "OUTPUT_HTML"
    OUTPUT_CSV = "OUTPUT_CSV"
    OUTPUT_PNG = "OUTPUT_PNG"
    OUTPUT_TABLE = "OUTPUT_TABLE"
    PIXEL_ACCURACY = "PIXEL_ACCURACY"
    MEAN_IOU = "MEAN_IOU"
    MEAN_F1 = "MEAN_F1"
    MEAN_OBJECT_F1 = "MEAN_OBJECT_F1"
    PIXEL_BASELINE_MEAN_IOU = "PIXEL_BASELINE_MEAN_IOU"
    FLIP_AVERAGE = "FLIP_AVERAGE"

    NAME = "evaluate"
    DISPLAY_NAME = "Evaluate model"
    HELP = (
        "Scores a model trained by <i>Train segmentation model</i> on a chips folder (<b>images/</b> and "
        "<b>labels/</b>), e.g. chips from another area or date that the model never saw.<br><br>"
        "<b>ONNX models</b> (.onnx) are scored too, run by ONNX Runtime as <i>Classify raster</i> runs them: "
        "GeoSeg's exports (<i>Export model</i>) score as the .keras model they were exported from, and "
        "third-party segmentation models carrying Deepness' metadata read the chips' bands 1, 2, 3, …<br><br>"
        "Reports pixel accuracy, intersection over union (IoU) and F1 per class, and their unweighted (macro) "
        "means over the classes present, with the confusion matrix (rows: reference, columns: predicted). "
        "Unlabelled pixels (255) are ignored.<br><br>"
        "For mapped objects (vessels, buildings), where pixel IoU says little: object precision, recall, F1 and "
        "count error (predicted minus reference objects) of every class but the most frequent one. An object is a "
        "patch of a class' pixels touching by an edge or a corner, found in each chip whole; a predicted object "
        f"matches one reference object at most, where their IoU is at least {MATCH_IOU} or its centroid lies in "
        "it.<br><br>"
        "Beside the model, the same scores of a <b>per-pixel classifier</b> (scikit-learn's gradient boosting on "
        "each pixel's own band values, no neighbourhood), refitted on the training pixels the model file keeps and "
        "scored on the same pixels: the baseline the network must beat for its view of context to pay. Model "
        "files written before GeoSeg kept training pixels, and ONNX models, have no baseline, and the report says "
        "so.<br><br>"
        "The report and the log also show whether <i>Classify raster</i>'s automatic flip averaging is on for this "
        "model, with the validation mean IoU without and with it that its training measured, and whether the model "
        "file carries an int8 copy for it, with the validation mean IoU in float32 and in int8.<br><br>"
        "Image and label chips pair by file name; set the name suffixes when they differ (X_img.tif / "
        "X_label.tif).<br><br>"
        "Outputs: an HTML report with pictures of the first chips (RGB | reference | prediction | the per-pixel "
        "classifier's prediction), a CSV table of the per-class scores (with the per-pixel classifier's IoU, F1 "
        "and object F1 in the columns pixel_baseline_iou, pixel_baseline_f1 and pixel_baseline_object_f1), the "
        "same scores as a table layer, the pictures as a PNG, and pixel accuracy, mean IoU, mean F1, mean object "
        "F1 and the per-pixel classifier's mean IoU as numbers for the graphical modeler, and the flip averaging "
        "decision as text."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self.addParameter(self.model_parameter(self.MODEL, EvaluateConfig))
        self.addParameter(QgsProcessingParameterFile(
            self.INPUT, self.tr("Chips folder"), behavior=QgsProcessingParameterFile.Folder))
        self.addParameter(self.setting_parameter(
            self.PREVIEW_CHIPS, "Chips shown as pictures", EvaluateConfig, "preview_chips"))
        self.add_advanced(self.chip_suffix_parameters())
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_HTML, self.tr("Evaluation report"), self.tr("HTML files (*.html)")))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_CSV, self.tr("Per-class scores"), self.tr("CSV files (*.csv)"), optional=True,
            createByDefault=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_PNG, self.tr("Pictures of chips"), self.tr("PNG files (*.png)"), optional=True,
            createByDefault=False))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT_TABLE, self.tr("Scores per class (table)"), QgsProcessing.TypeVector, optional=True,
            createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber(self.PIXEL_ACCURACY, self.tr("Pixel accuracy")))
        self.addOutput(QgsProcessingOutputNumber(self.MEAN_IOU, self.tr("Mean IoU")))
        self.addOutput(QgsProcessingOutputNumber(self.MEAN_F1, self.tr("Mean F1")))
        self.addOutput(QgsProcessingOutputNumber(self.MEAN_OBJECT_F1, self.tr("Mean object F1")))
        self.addOutput(QgsProcessingOutputNumber(self.PIXEL_BASELINE_MEAN_IOU,
                                                 self.tr("Per-pixel classifier's mean IoU")))
        self.addOutput(QgsProcessingOutputString(self.FLIP_AVERAGE, self.tr("Flip averaging decision")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        config = EvaluateConfig(
            model_path=self.parameterAsFile(parameters, self.MODEL, context),
            chips_dir=self.parameterAsFile(parameters, self.INPUT, context),
            output_csv=self.parameterAsFileOutput(parameters, self.OUTPUT_CSV, context),
            output_html=self.parameterAsFileOutput(parameters, self.OUTPUT_HTML, context),
            preview_png=self.parameterAsFileOutput(parameters, self.OUTPUT_PNG, context),
            preview_chips=self.parameterAsInt(parameters, self.PREVIEW_CHIPS, context),
            **self.chip_suffixes(parameters, context),
        )
        result = run("evaluate", config, feedback)
        metrics = result["metrics"]
        table = self.table_sink(parameters, self.OUTPUT_TABLE, context, result["table"])
        return {**({self.OUTPUT_TABLE: table} if table else {}),
            self.OUTPUT_HTML: result["output_html"], self.OUTPUT_CSV: result["output_csv"],
            self.OUTPUT_PNG: result["preview_png"], self.PIXEL_ACCURACY: metrics["pixel_accuracy"],
            self.MEAN_IOU: metrics["mean_iou"], self.MEAN_F1: metrics["mean_f1"],
            self.MEAN_OBJECT_F1: metrics["mean_object_f1"],
            self.PIXEL_BASELINE_MEAN_IOU: (result["pixel_baseline"] or {}).get("mean_iou"),
            self.FLIP_AVERAGE: result["flip_note"],
        }
