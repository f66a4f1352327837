"""geoseg:train — train a segmentation model on a chips folder."""
from qgis.core import (QgsProcessingException, QgsProcessingOutputFile, QgsProcessingOutputNumber,
                       QgsProcessingParameterBoolean,
                       QgsProcessingParameterDefinition, QgsProcessingParameterEnum, QgsProcessingParameterFile,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterNumber,
                       QgsProcessingParameterString)

from ..runner import run
from ..training.config import ARCHITECTURES, CLASS_WEIGHTINGS, TrainConfig
from ..training.normalization import METHODS
from .base import GeoSegAlgorithm

BAND_SETS = ("all", "rgb", "custom")


class TrainAlgorithm(GeoSegAlgorithm):
    INPUT = "INPUT"
    BANDS = "BANDS"
    BAND_LIST = "BAND_LIST"
    ARCHITECTURE = "ARCHITECTURE"
    CLASS_NAMES = "CLASS_NAMES"
    EPOCHS = "EPOCHS"
    BATCH_SIZE = "BATCH_SIZE"
    LEARNING_RATE = "LEARNING_RATE"
    PATIENCE = "PATIENCE"
    VALIDATION_SHARE = "VALIDATION_SHARE"
    TEST_SHARE = "TEST_SHARE"
    NORMALIZATION = "NORMALIZATION"
    SEED = "SEED"
    CLASS_WEIGHTING = "CLASS_WEIGHTING"
    DICE_WEIGHT = "DICE_WEIGHT"
    PRETRAINED = "PRETRAINED"
    WEIGHTS = "WEIGHTS"
    FREEZE_ENCODER = "FREEZE_ENCODER"
    INIT_MODEL = "INIT_MODEL"
    RESUME = "RESUME"
    IMAGE_SUFFIX = "IMAGE_SUFFIX"
    LABEL_SUFFIX = "LABEL_SUFFIX"
    OUTPUT = "OUTPUT"
    HISTORY = "HISTORY"
    HELD_OUT_ACCURACY = "HELD_OUT_ACCURACY"
    HELD_OUT_MEAN_IOU = "HELD_OUT_MEAN_IOU"
    BASELINE_ACCURACY = "BASELINE_ACCURACY"

    NAME = "train"
    DISPLAY_NAME = "Train segmentation model"
    HELP = (
        "Trains a semantic segmentation model on a chips folder (<b>images/</b> and <b>labels/</b>, as written by "
        "<i>Create training chips</i>) and saves it as one <b>.keras</b> model file that also holds the bands, "
        "normalisation, class names and colours — everything <i>Classify raster</i> needs.<br><br>"
        "<b>Bands</b>: all bands, RGB (bands 4,3,2 of a Sentinel-2 12-band stack) or a custom list of 1-based band "
        "numbers such as 2,3,4,8.<br>"
        "Image and label chips pair by file name; set the name suffixes when they differ (X_img.tif / "
        "X_label.tif).<br>"
        "Chips are split at random (fixed seed) into training, validation and held-out test chips. Training uses "
        "Adam and cross-entropy; unlabelled pixels (255) are ignored. After every epoch with a lower validation "
        "loss the model file is rewritten, and training stops early when the validation loss has not improved for "
        "<b>patience</b> epochs. Cancelling keeps the best model so far.<br><br>"
        "<b>Models</b>: the study's U-Net from scratch (4 down/4 up blocks, 32→512 filters, batch norm, dropout "
        "0.2); U-Nets on VGG16/VGG19 encoders and DeepLabv3+ on ResNet50, which start from ImageNet weights for any "
        "band count (bands 4,3,2 take the R,G,B filters, other bands their mean, scaled by 3/bands). ImageNet "
        "weights come from the <b>weights file</b> or the Keras cache (~/.keras/models); offline, the error names the "
        "file to download and where to put it.<br>"
        "Expert options: class weights, Dice loss, encoder freezing, starting from an earlier GeoSeg model (its "
        "matching layers are copied, a new head is used when the classes differ) and resuming an interrupted run "
        "from its last completed epoch.<br><br>"
        "Outputs: the model, its training history (CSV), and the held-out pixel accuracy and mean IoU next to the "
        "accuracy of always predicting the most frequent class (the baseline to beat)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self.addParameter(QgsProcessingParameterFile(
            self.INPUT, self.tr("Chips folder"), behavior=QgsProcessingParameterFile.Folder))
        self.addParameter(QgsProcessingParameterEnum(
            self.BANDS, self.tr("Bands"), [self.tr("All bands"), self.tr("RGB (bands 4,3,2)"),
                                           self.tr("Custom list")], defaultValue=0))
        self.addParameter(QgsProcessingParameterString(
            self.BAND_LIST, self.tr("Custom band list (1-based, e.g. 2,3,4,8)"), optional=True))
        self.addParameter(QgsProcessingParameterEnum(
            self.ARCHITECTURE, self.tr("Model"), [self.tr(label) for label in ARCHITECTURES.values()],
            defaultValue=0))
        self.addParameter(QgsProcessingParameterString(
            self.CLASS_NAMES, self.tr("Class names, comma-separated (default: from the chips folder)"),
            optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            self.EPOCHS, self.tr("Maximum epochs"), QgsProcessingParameterNumber.Integer, 200, minValue=1))
        self.addParameter(QgsProcessingParameterNumber(
            self.PATIENCE, self.tr("Early-stopping patience (epochs)"), QgsProcessingParameterNumber.Integer,
            10, minValue=1))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT, self.tr("Model file"), self.tr("Keras model (*.keras)")))
        for parameter in (
            QgsProcessingParameterNumber(self.BATCH_SIZE, self.tr("Batch size"),
                                         QgsProcessingParameterNumber.Integer, 16, minValue=1),
            QgsProcessingParameterNumber(self.LEARNING_RATE, self.tr("Learning rate (Adam)"),
                                         QgsProcessingParameterNumber.Double, 0.001, minValue=1e-7, maxValue=1.0),
            QgsProcessingParameterNumber(self.VALIDATION_SHARE, self.tr("Validation share (fraction, or count ≥ 1)"),
                                         QgsProcessingParameterNumber.Double, 0.2, minValue=0.0),
            QgsProcessingParameterNumber(self.TEST_SHARE, self.tr("Held-out test share (fraction, or count ≥ 1)"),
                                         QgsProcessingParameterNumber.Double, 0.1, minValue=0.0),
            QgsProcessingParameterEnum(self.NORMALIZATION, self.tr("Normalisation"),
                                       [self.tr("Per-band mean and standard deviation"),
                                        self.tr("2–98 % percentile stretch")], defaultValue=0),
            QgsProcessingParameterNumber(self.SEED, self.tr("Random seed"), QgsProcessingParameterNumber.Integer,
                                         0, minValue=0),
            QgsProcessingParameterEnum(self.CLASS_WEIGHTING, self.tr("Class weights"),
                                       [self.tr("None"), self.tr("Balanced (inverse pixel frequency)")],
                                       defaultValue=0),
            QgsProcessingParameterNumber(self.DICE_WEIGHT, self.tr("Dice loss weight (0 = cross-entropy only)"),
                                         QgsProcessingParameterNumber.Double, 0.0, minValue=0.0),
            QgsProcessingParameterBoolean(self.PRETRAINED, self.tr("Start VGG/ResNet encoders from ImageNet"), True),
            QgsProcessingParameterFile(self.WEIGHTS, self.tr("ImageNet weights file (default: the Keras cache)"),
                                       extension="h5", optional=True),
            QgsProcessingParameterBoolean(self.FREEZE_ENCODER, self.tr("Freeze the pretrained encoder"), False),
            QgsProcessingParameterFile(self.INIT_MODEL, self.tr("Start from an earlier GeoSeg model"),
                                       extension="keras", optional=True),
            QgsProcessingParameterBoolean(self.RESUME, self.tr("Resume an interrupted run of this model file"),
                                          False),
            QgsProcessingParameterString(self.IMAGE_SUFFIX, self.tr("Image chip name suffix (e.g. _img)"),
                                         optional=True),
            QgsProcessingParameterString(self.LABEL_SUFFIX, self.tr("Label chip name suffix (e.g. _label)"),
                                         optional=True),
        ):
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(parameter)
        self.addOutput(QgsProcessingOutputFile(self.HISTORY, self.tr("Training history (CSV)")))
        self.addOutput(QgsProcessingOutputNumber(self.HELD_OUT_ACCURACY, self.tr("Held-out pixel accuracy")))
        self.addOutput(QgsProcessingOutputNumber(self.HELD_OUT_MEAN_IOU, self.tr("Held-out mean IoU")))
        self.addOutput(QgsProcessingOutputNumber(self.BASELINE_ACCURACY, self.tr("Majority-class baseline accuracy")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        config = TrainConfig(
            chips_dir=self.parameterAsFile(parameters, self.INPUT, context),
            output_model=self.parameterAsFileOutput(parameters, self.OUTPUT, context),
            bands=self._bands(parameters, context),
            architecture=list(ARCHITECTURES)[self.parameterAsEnum(parameters, self.ARCHITECTURE, context)],
            class_names=[n.strip() for n in self.parameterAsString(parameters, self.CLASS_NAMES, context).split(",")
                         if n.strip()] or None,
            epochs=self.parameterAsInt(parameters, self.EPOCHS, context),
            patience=self.parameterAsInt(parameters, self.PATIENCE, context),
            batch_size=self.parameterAsInt(parameters, self.BATCH_SIZE, context),
            learning_rate=self.parameterAsDouble(parameters, self.LEARNING_RATE, context),
            validation_split=self.parameterAsDouble(parameters, self.VALIDATION_SHARE, context),
            test_split=self.parameterAsDouble(parameters, self.TEST_SHARE, context),
            normalization=METHODS[self.parameterAsEnum(parameters, self.NORMALIZATION, context)],
            seed=self.parameterAsInt(parameters, self.SEED, context),
            class_weighting=CLASS_WEIGHTINGS[self.parameterAsEnum(parameters, self.CLASS_WEIGHTING, context)],
            dice_weight=self.parameterAsDouble(parameters, self.DICE_WEIGHT, context),
            pretrained=self.parameterAsBool(parameters, self.PRETRAINED, context),
            weights_path=self.parameterAsFile(parameters, self.WEIGHTS, context),
            freeze_encoder=self.parameterAsBool(parameters, self.FREEZE_ENCODER, context),
            init_model=self.parameterAsFile(parameters, self.INIT_MODEL, context),
            resume=self.parameterAsBool(parameters, self.RESUME, context),
            image_suffix=self.parameterAsString(parameters, self.IMAGE_SUFFIX, context),
            label_suffix=self.parameterAsString(parameters, self.LABEL_SUFFIX, context),
        )
        result = run("train", config, feedback)
        if result["cancelled"]:
            feedback.reportError(f"Cancelled after {result['epochs_run']} epoch(s); kept the best model "
                                 f"(epoch {result['best_epoch']}).")
        return {
            self.OUTPUT: result["model_path"],
            self.HISTORY: result["history_path"],
            self.HELD_OUT_ACCURACY: result["test_metrics"]["pixel_accuracy"],
            self.HELD_OUT_MEAN_IOU: result["test_metrics"]["mean_iou"],
            self.BASELINE_ACCURACY: result["baseline"]["pixel_accuracy"],
        }

    def _bands(self, parameters, context) -> str:
        choice = BAND_SETS[self.parameterAsEnum(parameters, self.BANDS, context)]
        if choice != "custom":
            return choice
        band_list = self.parameterAsString(parameters, self.BAND_LIST, context).strip()
        if not band_list:
            raise QgsProcessingException("Bands is set to 'Custom list': give 1-based band numbers such as 2,3,4,8.")
        return band_list
