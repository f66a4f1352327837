"""geoseg:train — train a segmentation model on a labelled raster or a chips folder."""
from qgis.core import (QgsProcessing, QgsProcessingException, QgsProcessingOutputFile, QgsProcessingOutputHtml,
                       QgsProcessingOutputNumber, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterRasterLayer,
                       QgsProcessingParameterString)

from ..runner import run
from ..training.architectures import INPUT_MULTIPLE
from ..training.config import BAND_SETS, BLEND_MIN_GAIN, BLEND_WEIGHTS, INT8_MAX_LOSS, RARE_CLASS, TrainConfig
from .base import GeoSegAlgorithm, declared_default, declared_help, raster_file


class TrainAlgorithm(GeoSegAlgorithm):
    IMAGE = "IMAGE"
    LABELS = "LABELS"
    MORE_IMAGES = "MORE_IMAGES"
    MORE_LABELS = "MORE_LABELS"
    BANDS = "BANDS"
    BAND_LIST = "BAND_LIST"
    CLASS_NAMES = "CLASS_NAMES"
    OUTPUT = "OUTPUT"
    HISTORY = "HISTORY"
    REPORT = "REPORT"
    HELD_OUT_ACCURACY = "HELD_OUT_ACCURACY"
    HELD_OUT_MEAN_IOU = "HELD_OUT_MEAN_IOU"
    BASELINE_ACCURACY = "BASELINE_ACCURACY"
    PIXEL_BASELINE_MEAN_IOU = "PIXEL_BASELINE_MEAN_IOU"

    CONFIG = TrainConfig
    NAME = "train"
    DISPLAY_NAME = "Train segmentation model"
    HELP = (
        "Trains a semantic segmentation model and saves it as one <b>.keras</b> model file that also holds the "
        "bands, normalisation, class names and colours — everything <i>Classify raster</i> needs.<br><br>"
        "<b>Training data</b>: either a <b>multispectral raster and its label raster</b> (0, 1, 2, …; 255 or the "
        "label's nodata = unlabelled; partly labelled rasters are fine), or a <b>chips folder</b> (<b>images/</b> "
        "and <b>labels/</b>, as written by <i>Create training chips</i>), checked as a whole before training: every "
        "image chip with its label, all with the same bands, size and data type, some pixels labelled. Image pixels "
        "that are nodata, NaN or infinite in any band count as unlabelled.<br>"
        "From a raster, the labelled area is split into square <b>blocks</b> (256 px by default); whole blocks "
        "spread over the area go to validation and to test (their shares of the labelled pixels), every class "
        "in each where the labels allow (a warning says when they do not), so the scores come from places the "
        "model never saw and represent the whole area. The split depends on the labels only, not on the seed. "
        "Every epoch draws new random windows inside the training blocks, half a window away from the others, "
        "so no window sees or borders a held-out pixel (windows without labels are skipped); where a class covers "
        f"under {RARE_CLASS * 100:g} % of the labelled training pixels (a rare class: vessels, buildings), a share "
        f"of the windows ({declared_default(TrainConfig, 'rare_windows'):g} by default) is drawn among those holding "
        "one (the log says so). <b>More rasters</b> with their label rasters (same bands, "
        "matched in order) train beside the first as one mosaic: blocks, windows and the held-out scores span "
        "them all. Chips with map "
        "coordinates in 10 or more places (cells of the block size) are split by place, whole cells to training, "
        "validation or test; others chip by chip (by the seed); or validation comes from a separate validation "
        "chips folder.<br><br>"
        "<b>Bands</b>: all bands, RGB (bands 4,3,2 of a Sentinel-2 12-band stack) or a custom list of 1-based band "
        "numbers such as 2,3,4,8.<br>"
        "Training uses AdamW, cross-entropy (optionally plus Dice), flips and 90° turns (optionally radiometric "
        "jitter: random gain and offset per band); unlabelled pixels are ignored. Training runs for its "
        "<b>epochs</b>, or until the <b>time limit</b> (then the schedule is fitted to the time): the learning rate "
        "warms up, then decays along a cosine to 0, and the saved model is the average of the weights at the ends "
        "of the epochs in the last quarter, its batch-norm statistics recomputed: one good model rather than the "
        "luckiest epoch. The same seed gives the same model on the same machine (unless the time limit ends "
        "it). After every epoch with a higher validation mean IoU the model file is rewritten, so cancelling "
        "keeps the best model so far. The earlier recipe (constant rate, the best epoch, early stopping after "
        "<b>patience</b> epochs) stays available under Advanced parameters.<br><br>"
        "<b>Models</b>: the study's U-Net from scratch (4 down/4 up blocks, 32→512 filters, batch norm, dropout "
        "0.2); U-Nets on VGG16/VGG19 encoders and DeepLabv3+ on ResNet50, which start from ImageNet weights for any "
        "band count (bands 4,3,2 take the R,G,B filters, other bands their mean, scaled by 3/bands). ImageNet "
        "weights come from the <b>weights file</b> or the Keras cache (~/.keras/models); offline, the error names the "
        "file to download and where to put it.<br>"
        "<b>Advanced parameters</b>, the most often changed first (hover over one for its details): batch "
        "size, learning rate, class weights, the validation and test shares and the seed; the windows and blocks "
        "drawn from a raster, a separate validation chips folder and the normalisation; where training starts "
        "(ImageNet weights, a weights file, encoder freezing, an earlier GeoSeg model, whose matching layers are "
        "copied with a new head when the classes differ, or resuming an interrupted run, even a killed one, from "
        "its last completed epoch); jitter, Dice weight and weight decay; the recipe (learning-rate schedule, "
        "weights saved, early-stopping patience); and last the chip name suffixes, precision (by default mixed "
        "bfloat16 on CPUs that compute it natively and mixed float16 with loss scaling on a GPU; the model file is "
        "float32 either way) and devices (all GPUs of the machine, each taking a batch of the batch size; or every "
        "machine named in TF_CONFIG, each running the same training, the first writing the model).<br><br>"
        "Outputs: the model, its training history (CSV), a report beside the model (<b>&lt;model&gt;.report.html"
        "</b>: learning curves, held-out scores and confusion matrices, held-out chips with their predictions), and "
        "the held-out pixel accuracy and mean IoU next to two baselines to beat: the accuracy of always predicting "
        "the most frequent class, and the mean IoU of a <b>per-pixel classifier</b> (scikit-learn's gradient "
        "boosting on each pixel's own band values, no neighbourhood) fitted on up to 50,000 labelled training "
        "pixels and scored on the same held-out pixels, so you see whether the network's view of context pays on "
        "your data. The model file keeps those training pixels, so <i>Evaluate model</i> and <i>Compare models</i> "
        "show the same baseline. On those training pixels training also fits a small <b>per-pixel network</b> "
        "and blends its class probabilities into the network's at the weight "
        f"({BLEND_WEIGHTS[1]:g}–{BLEND_WEIGHTS[-1]:g}) with the best validation mean IoU, where that gains more "
        f"than {BLEND_MIN_GAIN:g}; the blend is built into the saved model. It also quantizes the network to "
        "<b>int8</b> (ONNX Runtime, calibrated on a few training windows) and keeps the int8 copy in the model file "
        "where it scores within "
        f"{INT8_MAX_LOSS:g} mean IoU of float32 on the validation windows: <i>Classify raster</i> then runs it on "
        "CPUs without native bfloat16 (the report says what was decided)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self.addParameter(self.with_help(QgsProcessingParameterRasterLayer(
            self.IMAGE, self.tr("Multispectral raster (or give a chips folder)"), optional=True),
            declared_help(TrainConfig, "image_raster")))
        self.addParameter(self.with_help(QgsProcessingParameterRasterLayer(
            self.LABELS, self.tr("Label raster (0, 1, 2, …; 255 = unlabelled)"), optional=True),
            declared_help(TrainConfig, "label_raster")))
        for name, setting, label in ((self.MORE_IMAGES, "more_images", "More rasters with the same bands"),
                                     (self.MORE_LABELS, "more_labels", "Their label rasters, in the same order")):
            self.addParameter(self.with_help(QgsProcessingParameterMultipleLayers(
                name, self.tr(label), QgsProcessing.TypeRaster, optional=True), declared_help(TrainConfig, setting)))
        self.addParameter(self.setting("INPUT", "chips_dir", "Chips folder (instead of the rasters)", folder=True))
        self.addParameter(self.with_help(
            self.choice_parameter(self.BANDS, "Bands", BAND_SETS, declared_default(TrainConfig, "bands")),
            "All bands, RGB (bands 4,3,2 of a Sentinel-2 12-band stack) or the custom band list below."))
        self.addParameter(self.with_help(QgsProcessingParameterString(
            self.BAND_LIST, self.tr("Custom band list (1-based, e.g. 2,3,4,8)"), optional=True),
            "The raster's bands to train on, numbered from 1, when Bands is Custom list."))
        self.addParameter(self.setting("ARCHITECTURE", "architecture", "Model"))
        self.addParameter(self.with_help(QgsProcessingParameterString(
            self.CLASS_NAMES, self.tr("Class names, comma-separated"), optional=True),
            "The names of classes 0, 1, 2, … in order (default: from the labels or the chips folder)."))
        self.addParameter(self.setting("EPOCHS", "epochs", "Epochs (the training's length)"))
        self.addParameter(self.setting("MAX_MINUTES", "max_minutes", "Time limit (minutes; 0 = none)"))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT, self.tr("Model file"), self.tr("Keras model (*.keras)")))
        self.add_advanced((  # the most often changed first
            self.setting("BATCH_SIZE", "batch_size", "Batch size"),
            self.setting("LEARNING_RATE", "learning_rate", "Learning rate (AdamW)"),
            self.setting("CLASS_WEIGHTING", "class_weighting", "Class weights"),
            self.setting("VALIDATION_SHARE", "validation_split", "Validation share (fraction or chip count)"),
            self.setting("TEST_SHARE", "test_split", "Held-out test share (fraction or chip count)"),
            self.setting("SEED", "seed", "Random seed"),
            self.setting("WINDOW_SIZE", "window_size", f"Window size (px, multiple of {INPUT_MULTIPLE}; rasters)"),
            self.setting("WINDOWS_PER_EPOCH", "windows_per_epoch", "Windows per epoch (rasters)"),
            self.setting("RARE_WINDOWS", "rare_windows", "Share of windows with a rare class (rasters)"),
            self.setting("BLOCK_SIZE", "block_size", "Validation/test block size (px; rasters)"),
            self.setting("VALIDATION_FOLDER", "validation_dir", "Validation chips folder", folder=True),
            self.setting("NORMALIZATION", "normalization", "Normalisation"),
            self.setting("PRETRAINED", "pretrained", "Start VGG/ResNet encoders from ImageNet"),
            self.setting("WEIGHTS", "weights_path", "ImageNet weights file (.h5)", extension="h5"),
            self.setting("FREEZE_ENCODER", "freeze_encoder", "Freeze the pretrained encoder"),
            self.setting("INIT_MODEL", "init_model", "Start from an earlier GeoSeg model", extension="keras"),
            self.setting("RESUME", "resume", "Resume an interrupted run of this model"),
            self.setting("JITTER", "jitter", "Radiometric jitter (0 = off)"),
            self.setting("RARE_DECISION", "rare_decision", "Tune rare classes' decision on validation"),
            self.setting("PIXEL_BLEND", "pixel_blend", "Blend in a per-pixel network (checked)"),
            self.setting("INT8", "int8", "Quantize to int8 for classify (checked)"),
            self.setting("DICE_WEIGHT", "dice_weight", "Dice loss weight (0 = cross-entropy only)"),
            self.setting("WEIGHT_DECAY", "weight_decay", "Weight decay (AdamW)"),
            self.setting("SCHEDULE", "schedule", "Learning-rate schedule"),
            self.setting("AVERAGING", "averaging", "Weights saved"),
            self.setting("PATIENCE", "patience", "Early-stopping patience (epochs; 0 = off)"),
            *self.chip_suffix_parameters(),
            self.setting("PRECISION", "precision", "Precision"),
            self.setting("STRATEGY", "strategy", "Devices"),
        ))
        self.addOutput(QgsProcessingOutputFile(self.HISTORY, self.tr("Training history (CSV)")))
        self.addOutput(QgsProcessingOutputHtml(self.REPORT, self.tr("Training report")))
        self.addOutput(QgsProcessingOutputNumber(self.HELD_OUT_ACCURACY, self.tr("Held-out pixel accuracy")))
        self.addOutput(QgsProcessingOutputNumber(self.HELD_OUT_MEAN_IOU, self.tr("Held-out mean IoU")))
        self.addOutput(QgsProcessingOutputNumber(self.BASELINE_ACCURACY, self.tr("Majority-class baseline accuracy")))
        self.addOutput(QgsProcessingOutputNumber(self.PIXEL_BASELINE_MEAN_IOU,
                                                 self.tr("Per-pixel classifier's held-out mean IoU")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        image, labels = (self.parameterAsRasterLayer(parameters, name, context) for name in (self.IMAGE, self.LABELS))
        settings = self.setting_values(parameters, context)
        if bool(settings["chips_dir"]) == bool(image) or bool(image) != bool(labels):
            raise QgsProcessingException("Give either a multispectral raster with its label raster, or a chips "
                                         "folder.")
        config = TrainConfig(
            **settings,
            output_model=self.parameterAsFileOutput(parameters, self.OUTPUT, context),
            image_raster=raster_file(image, self.IMAGE) if image else "",
            label_raster=raster_file(labels, self.LABELS) if labels else "",
            more_images=self._rasters(parameters, self.MORE_IMAGES, context),
            more_labels=self._rasters(parameters, self.MORE_LABELS, context),
            bands=self._bands(parameters, context),
            class_names=[n.strip() for n in self.parameterAsString(parameters, self.CLASS_NAMES, context).split(",")
                         if n.strip()] or None,
            **self.chip_suffixes(parameters, context),
        )
        result = run("train", config, feedback)
        if result["cancelled"]:
            feedback.reportError(f"Cancelled after {result['epochs_run']} epoch(s); kept the best model "
                                 f"(epoch {result['best_epoch']}).")
        return {
            self.OUTPUT: result["model_path"],
            self.HISTORY: result["history_path"],
            self.REPORT: result["report_path"],
            self.HELD_OUT_ACCURACY: result["test_metrics"]["pixel_accuracy"],
            self.HELD_OUT_MEAN_IOU: result["test_metrics"]["mean_iou"],
            self.BASELINE_ACCURACY: result["baseline"]["pixel_accuracy"],
            self.PIXEL_BASELINE_MEAN_IOU: (result["pixel_baseline"] or {}).get("mean_iou"),
        }

    def _rasters(self, parameters, name: str, context) -> list[str] | None:
        return [raster_file(layer, name) for layer in self.parameterAsLayerList(parameters, name, context)] or None

    def _bands(self, parameters, context) -> str:
        choice = self.parameter_as_choice(parameters, self.BANDS, context, BAND_SETS)
        if choice != "custom":
            return choice
        band_list = self.parameterAsString(parameters, self.BAND_LIST, context).strip()
        if not band_list:
            raise QgsProcessingException("Bands is set to 'Custom list': give 1-based band numbers such as 2,3,4,8.")
        return band_list
