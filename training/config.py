"""Plain, serialisable configurations and results: what crosses the seam between GeoSeg's callers and
its training code. No TensorFlow here, so the QGIS plugin can build them without importing it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass
class ChipsConfig:
    """Labels come from ``label_raster``, or from ``label_polygons`` burnt by their numeric ``class_field``."""

    # The fields naming files the job reads and writes: an output may never be one of the inputs.
    INPUTS: ClassVar = ("image_raster", "label_raster", "label_polygons")
    OUTPUTS: ClassVar = ("output_dir",)

    image_raster: str
    output_dir: str
    label_raster: str = ""
    label_polygons: str = ""
    class_field: str = ""
    chip_size: int = 64
    min_labelled: float = 0.5


@dataclass
class ChipsResult:
    output_dir: str
    chip_count: int
    skipped: int


@dataclass
class TrainConfig:
    """Train on a chips folder (``chips_dir``), or straight from ``image_raster`` and ``label_raster``.

    From a raster, the labelled area is cut across its longer side into training, validation and test strips
    (``validation_split`` and ``test_split`` of the labelled pixels); every epoch draws ``windows_per_epoch``
    random ``window_size``-px windows inside the training strip (see training.windows).
    """

    INPUTS: ClassVar = ("chips_dir", "image_raster", "label_raster", "validation_dir", "weights_path", "init_model")
    OUTPUTS: ClassVar = ("output_model",)

    output_model: str
    chips_dir: str = ""
    image_raster: str = ""
    label_raster: str = ""
    validation_dir: str = field(default="", metadata={"help": "chips folder for validation, instead of "
                                                         "validation_split of chips_dir"})
    window_size: int = field(default=64, metadata={"help": "side of the training windows drawn from a raster, "
                                                           "a multiple of 32"})
    windows_per_epoch: int = field(default=512, metadata={"help": "random windows per epoch from a raster"})
    bands: str = "all"
    architecture: str = "unet"
    epochs: int = 200
    batch_size: int = 16
    learning_rate: float = 1e-3
    schedule: str = field(default="constant", metadata={"help": "learning rate: constant, or cosine (decaying "
                                                                "to 0 over the epochs)"})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW's decoupled weight decay"})
    patience: int = field(default=10, metadata={"help": "epochs without a better validation mean IoU before "
                                                        "stopping"})
    validation_split: float = 0.2
    test_split: float = 0.1
    seed: int = 0
    normalization: str = "standard"
    class_names: list[str] | None = None
    image_suffix: str = ""
    label_suffix: str = ""
    class_weighting: str = "none"  # "none" or "balanced" (inverse pixel frequency)
    dice_weight: float = 0.0  # weight of the soft Dice term added to cross-entropy
    jitter: float = field(default=0.0, metadata={"help": "radiometric augmentation: per-band gain and offset "
                                                         "drawn with this deviation (normalised units)"})
    pretrained: bool = True  # ImageNet encoder for the pretrained architectures
    weights_path: str = ""  # ImageNet weights file; default: the Keras cache
    freeze_encoder: bool = False
    init_model: str = ""  # start from an earlier GeoSeg model (matching layers are copied)
    resume: bool = False  # continue an interrupted run of the same output model from its last epoch
    model_options: dict = field(default_factory=dict)


@dataclass
class TrainResult:
    model_path: str
    history_path: str
    epochs_run: int
    best_epoch: int
    cancelled: bool
    test_metrics: dict
    baseline: dict


@dataclass
class EvaluateConfig:
    INPUTS: ClassVar = ("model_path", "chips_dir")
    OUTPUTS: ClassVar = ("output_csv", "output_html", "preview_png")

    model_path: str
    chips_dir: str
    output_csv: str = ""  # per-class scores
    output_html: str = ""  # report with the confusion matrix and pictures
    preview_png: str = ""  # RGB | label | prediction for up to ``preview_chips`` chips
    preview_chips: int = 8
    image_suffix: str = ""
    label_suffix: str = ""
    batch_size: int = 16


@dataclass
class EvaluateResult:
    metrics: dict
    output_csv: str
    output_html: str
    preview_png: str


@dataclass
class ClassifyConfig:
    INPUTS: ClassVar = ("input_raster", "model_path", "mask_polygons")
    OUTPUTS: ClassVar = ("output_raster", "probabilities_raster")

    input_raster: str
    model_path: str
    output_raster: str
    probabilities_raster: str | None = None
    # Only this area: [xmin, ymin, xmax, ymax] in the raster's CRS, widened to whole pixels (None: all of it).
    extent: list[float] | None = None
    mask_polygons: str = ""  # outside these polygons the output is nodata
    # The input raster's 1-based bands that feed the model's bands, in order (None: the model's own numbers).
    input_bands: list[int] | None = None
    # The largest tile side; tiles are fitted to the raster (see training.predict.TileAxis). Measured with
    # LiteRT on 2 CPU cores: the U-Net ran tiles of 448–704 px at the same Mpx/s within the shared CPU's
    # noise, so larger tiles would only save overlap (at most 6 % of the pixels of a 4096² raster) while
    # the working memory grows with the tile's area; with 448 px the peak stays near 0.5 GiB at any raster
    # size. Batches of 1 and 2 tiles ran equally fast, and one tile needs half the working memory.
    tile_size: int = 448
    overlap: int = 32
    batch_size: int = 1
    cog: bool = False
    # auto, litert or tensorflow (see training.engines): auto runs LiteRT on CPUs, TensorFlow on GPUs or
    # in bfloat16.
    engine: str = "auto"
    # auto, float32 or bfloat16 (see training.engines): auto computes in bfloat16 on CPUs that do so natively
    # (AVX512-BF16, AMX), as OpenVINO does, else in float32. Weights and the output stay float32.
    precision: str = "auto"
    # Test-time augmentation: average the class probabilities over the tile and its three mirror images
    # (4× the computation).
    flip_average: bool = field(default=False, metadata={"help": "average over each tile's mirror images"})


@dataclass
class ClassifyResult:
    output_raster: str
    probabilities_raster: str | None
    class_pixels: dict[str, int]


@dataclass
class InspectConfig:
    """A raster (with its label raster, if any) or a chips folder, inspected before training."""

    INPUTS: ClassVar = ("image_raster", "label_raster", "chips_dir")
    OUTPUTS: ClassVar = ("output_html",)

    output_html: str
    image_raster: str = ""
    label_raster: str = ""
    chips_dir: str = ""
    example_chips: int = 6  # pictures of chips: RGB (bands 4,3,2) beside their labels
    chip_size: int = 64  # side of the example windows cut from a raster


@dataclass
class InspectResult:
    output_html: str
    bands: list[dict]  # per band: min, max, mean, std, nodata share (and per-class means with labels)
    class_shares: dict[str, float]  # share of the labelled pixels
    labelled_share: float | None
    warnings: list[str]


@dataclass
class VectorizeConfig:
    INPUTS: ClassVar = ("class_raster",)
    OUTPUTS: ClassVar = ("output_vector",)

    class_raster: str
    output_vector: str  # a GeoPackage
    min_area: float = 0.0  # polygons smaller than this (square map units) are left out
    simplify: float = 0.0  # simplification tolerance in map units (0: the pixels' outlines)
    dissolve: bool = False  # one multipolygon per class instead of one polygon per patch


@dataclass
class VectorizeResult:
    output_vector: str
    polygons: int
    class_areas: dict[str, float]  # square map units


@dataclass
class AccuracyConfig:
    """Reference classes from ``reference_raster``, or from polygons or points (``reference_vector``) by
    their numeric ``class_field``."""

    INPUTS: ClassVar = ("class_raster", "reference_raster", "reference_vector")
    OUTPUTS: ClassVar = ("output_csv", "output_html")

    class_raster: str
    reference_raster: str = ""
    reference_vector: str = ""
    class_field: str = ""
    output_csv: str = ""  # one row per class: areas, accuracies and their 95 % confidence intervals
    output_html: str = ""  # the same with the error matrices


@dataclass
class AccuracyResult:
    report: dict
    output_csv: str
    output_html: str


@dataclass
class PostprocessConfig:
    INPUTS: ClassVar = ("class_raster",)
    OUTPUTS: ClassVar = ("output_raster",)

    class_raster: str
    output_raster: str
    min_pixels: int = 0  # minimum mapping unit in pixels: smaller patches merge into a neighbour (0: none)
    min_area: float = 0.0  # the same in square map units (e.g. m²); the larger of the two applies
    majority_window: int = 0  # side of the majority filter's window, odd, before the sieve (0: none)
    eight_connected: bool = False  # patches connect through corners too


@dataclass
class PostprocessResult:
    output_raster: str
    min_pixels: int  # the minimum mapping unit applied, in pixels


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


CLASS_WEIGHTINGS = ("none", "balanced")
SCHEDULES = ("constant", "cosine")

# Inference engines for classification (training.engines).
ENGINES = ("auto", "litert", "tensorflow")
PRECISIONS = ("auto", "float32", "bfloat16")

# Model architectures the training module builds, with the names users see.
ARCHITECTURES = {
    "unet": "U-Net (from scratch)",
    "unet_vgg16": "U-Net with VGG16 encoder (ImageNet)",
    "unet_vgg19": "U-Net with VGG19 encoder (ImageNet)",
    "deeplabv3_resnet50": "DeepLabv3+ with ResNet50 backbone (ImageNet)",
}
