"""Plain, serialisable configurations and results: what crosses the seam between GeoSeg's callers and
its training code. No TensorFlow here, so the QGIS plugin can build them without importing it.

Every setting is declared once, here: its default, a help text (the command line's ``-h``) and, for a fixed
set of values, its choices with the labels users see (the command line's choices, QGIS' drop-downs).
Each config names the fields that are files it reads (``INPUTS``) and writes (``OUTPUTS``, folders among them
in ``OUTPUT_FOLDERS``): no output may be one of the inputs (training.outputs.refuse_overwriting), and each
must be writable before a job starts (training.outputs.check_writable).
"""
from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import ClassVar

from .architectures import INPUT_MULTIPLE, LABELS
from .errors import GeoSegError

# Choices: key (what configs hold) → label (what users see).
NORMALIZATIONS = {"standard": "Per-band mean and standard deviation", "stretch": "2–98 % percentile stretch"}
BAND_SETS = {"all": "All bands", "rgb": "RGB (bands 4,3,2)", "custom": "Custom list"}  # custom: a band list
CLASS_WEIGHTINGS = {"none": "None", "balanced": "Balanced (inverse pixel frequency)"}
# Labels are short, to fit a drop-down in QGIS' dialogs; the option's help says what each choice does.
SCHEDULES = {"cosine": "Warm-up, then cosine decay to 0", "constant": "Constant"}
AVERAGINGS = {"swa": "Average of the last quarter's epochs", "none": "None: the best epoch by validation"}
ENGINES = {"auto": "Automatic", "litert": "LiteRT (XNNPACK, CPU)", "tensorflow": "TensorFlow"}
STRATEGIES = {"default": "One device", "mirrored": "Mirrored: every GPU of this machine",
              "multiworker": "Multi-worker: the machines in TF_CONFIG"}
TENSORFLOW_BUILDS = {  # what the managed environment installs; "auto" picks one (training.host.environment)
    "auto": "Automatic (GPU if a driver answers, else CPU)",
    "tensorflow-cpu": "CPU only (tensorflow-cpu)",
    "tensorflow[and-cuda]": "NVIDIA GPU (tensorflow[and-cuda]; Linux)",
    "tensorflow": "Standard build (tensorflow; macOS and ARM)",
}
SETUPS = {  # what the managed environment installs (training.host.environment.SETUP_REQUIREMENTS)
    "full": "Everything (TensorFlow)",
    "classification": "Classification only (ONNX Runtime)",
}
PRECISIONS = {"auto": "Automatic", "float32": "float32", "bfloat16": "bfloat16 (TensorFlow engine)"}
# Classify's: also the int8 copy a model file carries where its training found it as good (training.models.int8).
CLASSIFY_PRECISIONS = {**PRECISIONS, "int8": "int8 (ONNX Runtime; model files carrying it)"}
INT8_MAX_LOSS = 0.005  # validation mean IoU an int8 copy may lose against float32 and still be used
BLEND_WEIGHTS = (0.0, 0.1, 0.2, 0.3)  # the weights of the per-pixel network tried (training.learn.pixel_blend)
BLEND_MIN_GAIN = 0.005  # validation mean IoU the blend must add to be kept
RARE_CLASS = 0.02  # a class with fewer than this share of the labelled training pixels is rare
EXPORT_FORMATS = {"onnx": "ONNX", "tflite": "LiteRT (TensorFlow Lite)"}
MODELS_TO_CLASSIFY = "a GeoSeg model file (.keras), or an ONNX segmentation model (.onnx) with Deepness' metadata"
FLIP_AVERAGES = {"auto": "Automatic (where it paid in training)", "on": "On (4× the computation)", "off": "Off"}


def option(default=MISSING, help: str = "", choices: dict[str, str] | None = None, factory=MISSING,  # noqa: A002
           minimum: float | None = None, maximum: float | None = None, length: int | None = None):
    """A config field with its help text, for a fixed set of values its choices (key → label), for a
    number the range it must lie in, and for a list the count of its items (when given)."""
    metadata = {"help": help, **({"choices": choices} if choices else {}),
                **({"minimum": minimum} if minimum is not None else {}),
                **({"maximum": maximum} if maximum is not None else {}),
                **({"length": length} if length is not None else {})}
    return field(default=default, default_factory=factory, metadata=metadata)


def check_settings(config) -> None:
    """Raise :class:`GeoSegError` for a setting outside its declared choices, range or length."""
    for declared in fields(config):
        value, meta = getattr(config, declared.name), declared.metadata
        name = declared.name.replace("_", " ")
        if "choices" in meta and value not in meta["choices"]:
            raise GeoSegError(f"The {name} {value!r} is unknown: choose one of {', '.join(meta['choices'])}.")
        if "minimum" in meta and value < meta["minimum"]:
            raise GeoSegError(f"The {name} {value} is too small: give at least {meta['minimum']}.")
        if "maximum" in meta and value > meta["maximum"]:
            raise GeoSegError(f"The {name} {value} is too large: give at most {meta['maximum']}.")
        if "length" in meta and value is not None and len(value) != meta["length"]:
            raise GeoSegError(f"The {name} {', '.join(map(str, value))} must be {meta['length']} numbers, not "
                              f"{len(value)}: {meta['help']}.")


@dataclass
class ChipsConfig:
    """Labels come from ``label_raster``, or from ``label_polygons`` burnt by their numeric ``class_field``."""

    INPUTS: ClassVar = ("image_raster", "label_raster", "label_polygons")
    OUTPUTS: ClassVar = ("output_dir",)
    OUTPUT_FOLDERS: ClassVar = ("output_dir",)  # outputs that are folders, not files

    image_raster: str = option(help="multispectral raster to cut")
    output_dir: str = option(help="new or empty chips folder: images/, labels/, classes.json")
    label_raster: str = option("", "label raster: 0, 1, 2, …; 255 or its nodata = unlabelled (and wherever an image "
                                   "band is nodata, NaN or infinite)")
    label_polygons: str = option("", "…or label polygons (GDAL vector file) with a numeric class field")
    class_field: str = option("", "the label polygons' class field (0, 1, 2, …)")
    chip_size: int = option(64, "chip side in pixels", minimum=8)
    min_labelled: float = option(0.0, "also skip chips whose labelled share is below this (0–1; the default 0 keeps "
                                      "every chip with a labelled pixel: training leaves unlabelled pixels out)",
                                 minimum=0, maximum=1)


@dataclass
class ChipsResult:
    output_dir: str
    chip_count: int
    skipped: int


@dataclass
class TrainConfig:
    """Train on a chips folder (``chips_dir``), or straight from ``image_raster`` and ``label_raster``.

    From a raster, the labelled area is split into blocks of about ``block_size`` px, whole blocks going to
    validation and test (``validation_split`` and ``test_split`` of the labelled pixels); every epoch draws
    ``windows_per_epoch`` random ``window_size``-px windows in the training blocks, half a window away from
    the others, ``rare_windows`` of them holding a rare class where there is one (see training.data.windows).
    ``more_images`` with their ``more_labels`` train beside ``image_raster``, as one mosaic of scenes.

    Training runs ``epochs`` epochs (or ``max_minutes``, whichever ends first): the learning rate follows
    ``schedule`` along that length, and the saved model is the ``averaging`` of the weights; with
    ``schedule="constant"``, ``averaging="none"`` and a ``patience`` GeoSeg's earlier recipe (the best epoch
    by validation, early stopping) is kept.
    """

    INPUTS: ClassVar = ("chips_dir", "image_raster", "label_raster", "more_images", "more_labels", "validation_dir",
                        "weights_path", "init_model")
    OUTPUTS: ClassVar = ("output_model",)

    output_model: str = option(help="the model file to write (.keras)")
    chips_dir: str = option("", "chips folder (images/, labels/) to train on: every image with its label, all "
                                "with the same bands, size and data type")
    image_raster: str = option("", "…or a multispectral raster to train on, with its label raster")
    label_raster: str = option("", "the raster's labels: 0, 1, 2, …; 255 or nodata = unlabelled (and wherever an "
                                   "image band is nodata, NaN or infinite)")
    more_images: list[str] | None = option(None, "more rasters to train on beside the first, with the same bands")
    more_labels: list[str] | None = option(None, "their label rasters, in the same order")
    validation_dir: str = option("", "chips folder for validation, instead of a share of the training chips")
    window_size: int = option(64, f"side of the training windows drawn from a raster, a multiple of {INPUT_MULTIPLE}",
                              minimum=INPUT_MULTIPLE)
    block_size: int = option(256, "side of the blocks a raster's labelled area is split into for validation and "
                                  "testing (whole blocks; training keeps half a window away, so blocks several "
                                  "windows wide lose little)",
                             minimum=2 * INPUT_MULTIPLE)
    windows_per_epoch: int = option(512, "random windows per epoch from a raster", minimum=1)
    rare_windows: float = option(0.5, "share of a raster's windows drawn among those holding a rare class (under "
                                      f"{RARE_CLASS * 100:g} % of the labelled training pixels), where there is "
                                      "one; 0: every window drawn alike", minimum=0, maximum=1)
    bands: str = option("all", "all, rgb (bands 4,3,2) or 1-based band numbers such as 2,3,4,8")
    architecture: str = option("unet", "the network", LABELS)
    epochs: int = option(40, "length of training in epochs (a pass over the training chips, or the windows per "
                             "epoch from a raster)", minimum=1)
    max_minutes: float = option(0.0, "end training after this many minutes, as if its length were reached: the "
                                     "schedule and averaging are fitted to the time (0: no limit)", minimum=0)
    batch_size: int = option(16, "chips or windows per batch", minimum=1)
    learning_rate: float = option(1e-3, "AdamW's learning rate", minimum=1e-10, maximum=1.0)
    schedule: str = option("cosine", "learning-rate schedule; the warm-up takes the first 5 % of the training's "
                                     "length, the cosine decay the rest", SCHEDULES)
    averaging: str = option("swa", "the weights saved; the average is of the weights at the ends of the epochs in the "
                                   "last quarter of the training, its batch-norm statistics recomputed; without it, "
                                   "the epoch with the best validation mean IoU", AVERAGINGS)
    weight_decay: float = option(0.0, "AdamW's decoupled weight decay", minimum=0)
    patience: int = option(0, "stop after this many epochs without a better validation mean IoU (0: never)",
                           minimum=0)
    validation_split: float = option(0.1, "validation share (a fraction, or a count of chips when ≥ 1)", minimum=0)
    test_split: float = option(0.1, "held-out test share (a fraction, or a count of chips when ≥ 1)", minimum=0)
    seed: int = option(0, "random seed: the same seed gives the same split and run", minimum=0)
    normalization: str = option("standard", "how bands are scaled (fitted on the training data)", NORMALIZATIONS)
    class_names: list[str] | None = option(None, "class names (default: from the labels)")
    image_suffix: str = option("", "image chip name suffix, e.g. _img (X_img.tif pairs with X_label.tif)")
    label_suffix: str = option("", "label chip name suffix, e.g. _label")
    class_weighting: str = option("none", "loss weights per class", CLASS_WEIGHTINGS)
    rare_decision: bool = option(True, f"for each rare class (under {RARE_CLASS * 100:g} % of the labelled training "
                                       "pixels), the prior correction that maximises its F1 on the validation pixels, "
                                       "built into the saved model (see training.learn.decision)")
    pixel_blend: bool = option(True, "blend the network's class probabilities with those of a small per-pixel "
                                     "network fitted on the training pixels the model file keeps, at the weight "
                                     f"({BLEND_WEIGHTS[1]:g}–{BLEND_WEIGHTS[-1]:g}) with the best validation mean "
                                     f"IoU, where that gains more than {BLEND_MIN_GAIN:g}; built into the saved "
                                     "model (see training.learn.pixel_blend)")
    dice_weight: float = option(0.0, "weight of the soft Dice term added to cross-entropy", minimum=0)
    jitter: float = option(0.0, "radiometric augmentation: per-band gain and offset drawn with this deviation "
                                "(normalised units)", minimum=0)
    pretrained: bool = option(True, "start the VGG and ResNet encoders from ImageNet weights")
    weights_path: str = option("", "ImageNet weights file (default: the Keras cache)")
    freeze_encoder: bool = option(False, "keep the pretrained encoder's weights fixed")
    init_model: str = option("", "start from an earlier GeoSeg model (matching layers are copied)")
    resume: bool = option(False, "continue an interrupted (even killed) run of the same output model from its last "
                                 "completed epoch")
    model_options: dict = option(help="network options as JSON, e.g. {\"base_filters\": 16}", factory=dict)
    int8: bool = option(True, "also quantize the network to int8 for classify (ONNX Runtime; needs the tf2onnx and "
                              "onnxruntime packages), calibrated on a few training windows, and keep the int8 copy "
                              "in the model file where its validation mean IoU is within "
                              f"{INT8_MAX_LOSS:g} of float32's (the decision is recorded either way)")
    report: bool = option(True, "also write a report beside the model (<model>.report.html): learning curves, "
                                "held-out scores, sample predictions")
    precision: str = option("auto", "arithmetic precision of training; automatic is mixed bfloat16 where the CPU "
                                    "computes it natively, mixed float16 with loss scaling on a GPU, else float32; "
                                    "weights and the model file stay float32", PRECISIONS)
    strategy: str = option("default", "how training spreads over devices (TensorFlow's distribution strategies); "
                                      "mirrored uses the CPU devices where there is no GPU; with mirrored and "
                                      "multiworker the batch size is per device; each multiworker machine runs this "
                                      "training, only the chief writing", STRATEGIES)


@dataclass
class TrainResult:
    model_path: str
    history_path: str
    epochs_run: int
    best_epoch: int
    cancelled: bool
    test_metrics: dict
    baseline: dict
    report_path: str = ""  # the training report (HTML), when written
    pixel_baseline: dict | None = None  # the per-pixel classifier's held-out scores (training.learn.baseline)


@dataclass
class EvaluateConfig:
    INPUTS: ClassVar = ("model_path", "chips_dir")
    OUTPUTS: ClassVar = ("output_csv", "output_html", "preview_png")

    model_path: str = option(help=MODELS_TO_CLASSIFY)
    chips_dir: str = option(help="chips folder to score it on")
    output_csv: str = option("", "per-class scores (CSV)")
    output_html: str = option("", "report with the confusion matrix and pictures (HTML)")
    preview_png: str = option("", "pictures: RGB | label | prediction (PNG)")
    preview_chips: int = option(8, "how many chips the pictures show", minimum=0)
    image_suffix: str = option("", "image chip name suffix, e.g. _img")
    label_suffix: str = option("", "label chip name suffix, e.g. _label")
    batch_size: int = option(16, "chips per batch", minimum=1)


@dataclass
class EvaluateResult:
    metrics: dict
    output_csv: str
    output_html: str
    preview_png: str
    table: list[dict]  # the CSV's rows: class, iou, f1, pixels (and the pixel classifier's iou and f1)
    pixel_baseline: dict | None = None  # the per-pixel classifier's scores; None for a model file without pixels
    # The flip averaging decision training recorded (training.learn.flips), None for a model file written before
    # GeoSeg recorded it; and that in a sentence.
    flip_average: dict | None = None
    flip_note: str = ""


@dataclass
class CompareConfig:
    """Several models scored on the same held-out chips: configurations trained here (``runs``, rows of training
    settings, all on the same data, split and seed) and model files given as they are (``model_paths``). Every
    model is scored on ``test_dir``, else on the held-out test part of the training data (see TrainConfig)."""

    INPUTS: ClassVar = ("chips_dir", "image_raster", "label_raster", "test_dir", "model_paths")
    OUTPUTS: ClassVar = ("output_html", "output_dir")
    OUTPUT_FOLDERS: ClassVar = ("output_dir",)

    output_html: str = option(help="the report to write (HTML)")
    runs: str = option("", "configurations to train, one a line or separated by ';', each as setting=value pairs of "
                           "the train command, e.g. 'architecture=unet; architecture=unet bands=rgb; "
                           "architecture=unet_vgg16 pretrained=false'")
    shared: str = option("", "training settings every configuration shares, e.g. 'epochs=20 patience=5 seed=1'")
    model_paths: list[str] | None = option(None, "GeoSeg model files (.keras) and ONNX segmentation models (.onnx) "
                                                 "to compare as they are")
    chips_dir: str = option("", "chips folder to train the configurations on")
    image_raster: str = option("", "…or a multispectral raster to train them on, with its label raster")
    label_raster: str = option("", "the raster's labels: 0, 1, 2, …; 255 or nodata = unlabelled")
    test_dir: str = option("", "chips folder every model is scored on (default: the held-out test part of the "
                               "training data)")
    output_dir: str = option("", "folder for the trained models and the figures as CSV (default: <report>_files "
                                 "beside the report)")
    preview_chips: int = option(EvaluateConfig.preview_chips, "how many chips the gallery shows", minimum=0)
    image_suffix: str = option("", "image chip name suffix, e.g. _img")
    label_suffix: str = option("", "label chip name suffix, e.g. _label")
    batch_size: int = option(EvaluateConfig.batch_size, "chips per batch when scoring", minimum=1)


@dataclass
class CompareResult:
    output_html: str
    output_dir: str
    tables: dict[str, str]  # metrics, curves, confusion → CSV file
    table: list[dict]  # the metrics table: one row per model
    best_model: str  # the name of the model with the highest held-out mean IoU
    best_model_path: str
    best_mean_iou: float | None


@dataclass
class ClassifyConfig:
    INPUTS: ClassVar = ("input_raster", "model_path", "mask_polygons")
    OUTPUTS: ClassVar = ("output_raster", "probabilities_raster", "uncertainty_raster")

    input_raster: str = option(help="multispectral raster to classify")
    model_path: str = option(help=MODELS_TO_CLASSIFY)
    output_raster: str = option(help="the class raster to write (GeoTIFF)")
    probabilities_raster: str | None = option(None, "also write per-class probabilities (%) here")
    uncertainty_raster: str | None = option(None, "also write per-pixel uncertainty here: the normalised entropy of "
                                                  "the class probabilities in percent (0 = sure, 100 = all classes "
                                                  "equally likely)")
    extent: list[float] | None = option(None, "only this area: xmin,ymin,xmax,ymax in the raster's CRS, widened to "
                                              "whole pixels", length=4)
    mask_polygons: str = option("", "outside these polygons the output is nodata")
    input_bands: list[int] | None = option(None, "the raster's 1-based bands that feed the model's bands, in order "
                                                 "(default: the model's own numbers)")
    tile_size: int = option(448, f"largest tile side (a multiple of {INPUT_MULTIPLE}); tiles are fitted to the raster",
                            minimum=INPUT_MULTIPLE)
    overlap: int = option(32, "pixels by which neighbouring tiles overlap and blend", minimum=0)
    batch_size: int = option(1, "tiles per batch", minimum=1)
    cog: bool = option(False, "write Cloud Optimized GeoTIFFs")
    engine: str = option("auto", "inference engine; automatic runs TensorFlow on a GPU or in bfloat16, else LiteRT",
                         ENGINES)
    precision: str = option("auto", "arithmetic precision; automatic is bfloat16 where the CPU computes it natively, "
                                    "else int8 on ONNX Runtime where the model file carries an int8 copy (its "
                                    "training found it within "
                                    f"{INT8_MAX_LOSS:g} validation mean IoU of float32), else float32; outputs stay "
                                    "float32", CLASSIFY_PRECISIONS)
    flip_average: str = option("auto", "average over each tile's mirror images (test-time augmentation, 4× the "
                                       "computation); automatic follows the model file: on where its training found "
                                       "that it raises the validation mean IoU by more than chance, off for model "
                                       "files without that record", FLIP_AVERAGES)


@dataclass
class ExportConfig:
    """A GeoSeg model written in another format, with what other tools need to run it (training.models.export)."""

    INPUTS: ClassVar = ("model_path",)
    OUTPUTS: ClassVar = ("output_path",)

    model_path: str = option(help="a GeoSeg model file (.keras)")
    output_path: str = option(help="the model file to write, its suffix the format's (.onnx, .tflite); its STAC "
                                   "Machine Learning Model item is written beside it (.json)")
    format: str = option("onnx", "the format to write: ONNX takes scaled tiles and carries Deepness' metadata; "
                                 "LiteRT takes raw tiles and normalises them itself",
                         EXPORT_FORMATS)
    resolution: float = option(1000.0, "the pixel size the model was trained on, in cm (ONNX: Deepness resamples "
                                       "rasters to it; 1000: Sentinel-2's 10 m bands)", minimum=1e-3)
    tile_size: int = option(ClassifyConfig.tile_size, "the side of the tiles the exported model takes (fixed: "
                                                      "Deepness needs it), in pixels (a multiple of "
                                                      f"{INPUT_MULTIPLE})", minimum=INPUT_MULTIPLE)
    overlap: int = option(ClassifyConfig.overlap, "pixels by which their tiles should overlap (Deepness takes it as "
                                                  "a percentage of the tile)", minimum=0)


@dataclass
class ExportResult:
    output_path: str
    stac_item: str  # the STAC MLM item (JSON) beside it


@dataclass
class ScenesConfig:
    """Several rasters (or glob patterns) classified on Dask distributed, one raster per task, into a folder;
    the other settings are :class:`ClassifyConfig`'s (see training.inference.scenes)."""

    scheduler: str = option("", "Dask scheduler address (e.g. tcp://10.0.0.1:8786) to classify several rasters on "
                                "a cluster (default: a LocalCluster on this machine)")
    workers: int = option(1, "processes of the LocalCluster, each classifying one raster at a time", minimum=1)


@dataclass
class ClassifyResult:
    output_raster: str
    probabilities_raster: str | None
    uncertainty_raster: str | None
    class_pixels: dict[str, int]


@dataclass
class InspectConfig:
    """A raster (with its label raster, if any) or a chips folder, inspected before training."""

    INPUTS: ClassVar = ("image_raster", "label_raster", "chips_dir")
    OUTPUTS: ClassVar = ("output_html",)

    output_html: str = option(help="the report to write (HTML)")
    image_raster: str = option("", "a multispectral raster")
    label_raster: str = option("", "its label raster")
    chips_dir: str = option("", "…or a chips folder")
    example_chips: int = option(6, "pictures of chips: RGB (bands 4,3,2) beside their labels", minimum=0)
    chip_size: int = option(64, "side of the example windows cut from a raster", minimum=8)


@dataclass
class InspectResult:
    output_html: str
    bands: list[dict]  # per band: min, max, mean, std, nodata share (and per-class means with labels)
    class_shares: dict[str, float]  # share of the labelled pixels
    labelled_share: float | None
    warnings: list[str]


@dataclass
class ClassRasterJob:
    """A job that reads one class raster (geoseg:classify's output) and writes one product of it."""

    INPUTS: ClassVar = ("class_raster",)

    class_raster: str = option(help="a single-band Byte class raster")


@dataclass
class PostprocessConfig(ClassRasterJob):
    OUTPUTS: ClassVar = ("output_raster",)

    output_raster: str = option(help="the clean class raster to write (GeoTIFF)")
    min_pixels: int = option(0, "minimum mapping unit in pixels: smaller patches merge into a neighbour (0: none)",
                             minimum=0)
    min_area: float = option(0.0, "the same in square map units (e.g. m²); the larger of the two applies", minimum=0)
    majority_window: int = option(0, "side of the majority filter's window, odd, before the sieve (0: none)",
                                  minimum=0)
    eight_connected: bool = option(False, "patches connect through corners too")


@dataclass
class PostprocessResult:
    output_raster: str
    min_pixels: int  # the minimum mapping unit applied, in pixels


@dataclass
class VectorizeConfig(ClassRasterJob):
    OUTPUTS: ClassVar = ("output_vector",)

    output_vector: str = option(help="the polygons to write (GeoPackage, .gpkg)")
    min_area: float = option(0.0, "polygons smaller than this (square map units) are left out", minimum=0)
    simplify: float = option(0.0, "simplification tolerance in map units (0: the pixels' outlines)", minimum=0)
    dissolve: bool = option(False, "one multipolygon per class instead of one polygon per patch")


@dataclass
class VectorizeResult:
    output_vector: str
    polygons: int
    class_areas: dict[str, float]  # square map units


@dataclass
class SuggestConfig:
    """Squares to label next where ``model_path`` is least sure of ``input_raster`` (training.products.suggest)."""

    INPUTS: ClassVar = ("input_raster", "model_path", "area_polygons", "label_raster", "label_polygons")
    OUTPUTS: ClassVar = ("output_vector",)

    input_raster: str = option(help="multispectral raster to suggest squares in")
    model_path: str = option(help=MODELS_TO_CLASSIFY)
    output_vector: str = option(help="the squares to write (GeoPackage, .gpkg), with an empty class field to fill")
    count: int = option(20, "how many squares: shared evenly among the predicted classes, the rest to the most "
                            "uncertain", minimum=1)
    square_size: int = option(8, "side of a square in pixels", minimum=1)
    min_distance: float = option(32.0, "smallest distance between two squares in pixels", minimum=0)
    area_polygons: str = option("", "suggest only inside these polygons")
    label_raster: str = option("", "the labels so far (a label raster: 255 or nodata = unlabelled): squares "
                                   "touching a labelled pixel are left out")
    label_polygons: str = option("", "…or label polygons (the squares are then written in their CRS)")


@dataclass
class SuggestResult:
    output_vector: str
    squares: int
    class_squares: dict[str, int]  # predicted class name → squares


@dataclass
class AccuracyConfig:
    """Reference classes from ``reference_raster``, or from polygons or points (``reference_vector``) by
    their numeric ``class_field``."""

    INPUTS: ClassVar = ("class_raster", "reference_raster", "reference_vector")
    OUTPUTS: ClassVar = ("output_csv", "output_html")

    class_raster: str = option(help="the class map to assess")
    reference_raster: str = option("", "reference classes as a raster (255 = none)")
    reference_vector: str = option("", "…or reference polygons or points with a numeric class field")
    class_field: str = option("", "the reference's class field")
    output_csv: str = option("", "one row per class: areas, accuracies and their 95 % confidence intervals")
    output_html: str = option("", "the same with the error matrix (HTML)")


@dataclass
class AccuracyResult:
    report: dict
    output_csv: str
    output_html: str


@dataclass
class EnvironmentConfig:
    """GeoSeg's managed TensorFlow environment, built in the caller's Python (training.host.environment.build):
    not a job, since the worker's Python is what it makes."""

    tensorflow: str = option("auto", "the TensorFlow build to install; automatic picks the NVIDIA GPU build on Linux "
                                     "where a driver answers, else the CPU build; the CPU build is for Linux and "
                                     "Windows on x86-64", TENSORFLOW_BUILDS)
    setup: str = option("full", "what to install: everything GeoSeg's algorithms need, or only what classifying ONNX "
                                "models needs (ONNX Runtime: a 28 MB wheel, 78 MB installed, against TensorFlow's "
                                "274 MB and 1.3 GB on Python 3.11, x86-64 Linux; training, .keras models and export "
                                "then need the full set-up)", SETUPS)


@dataclass
class CheckConfig:
    """The environment check takes no settings."""

    INPUTS: ClassVar = ()
    OUTPUTS: ClassVar = ()


@dataclass
class CheckResult:
    python: str
    python_version: str
    platform: str
    versions: dict[str, str]  # package → version, for those that import
    problems: dict[str, str]  # package → why it does not import
    devices: list[str]
    native_bfloat16: bool
    engine: str  # what classify's automatic engine and precision pick here
    precision: str
    ready: bool  # TensorFlow, NumPy and GDAL import
    onnx_ready: bool = False  # ONNX Runtime, NumPy and GDAL import: ONNX models classify
