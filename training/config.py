"""Plain, serialisable configurations and results: what crosses the seam between GeoSeg's callers and
its training code. No TensorFlow here, so the QGIS plugin can build them without importing it."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ChipsConfig:
    """Labels come from ``label_raster``, or from ``label_polygons`` burnt by their numeric ``class_field``."""

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
    input_raster: str
    model_path: str
    output_raster: str
    probabilities_raster: str | None = None
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
class CheckConfig:
    """The environment check takes no settings."""


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
