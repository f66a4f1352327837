"""Benchmark the study's three models on real water chips: held-out water IoU per model and initialisation.

    .venv/bin/python bench/quality.py
    .venv/bin/python bench/quality.py --weights-dir ~/keras-weights --models unet_vgg16,deeplabv3_resnet50

Each model trains with ``training.train`` on ``../shared/data/water-chips`` (128×128 chips, used whole: the
models are fully convolutional) from bands 1–7 only (bands 8, 11 and 12 leak the answer), classes
"Not water" and "Water". The split is 80 % training / 20 % validation with seed 0 and no test split, so
the scores are train()'s held-out metrics on the validation chips, which also chose the best epoch.

``unet`` trains from scratch; ``unet_vgg16`` and ``deeplabv3_resnet50`` train from scratch and, when
ImageNet no-top weights are found in ``--weights-dir`` (under Keras' file names) or Keras' cache, a second
time from them. A run stops after ``--patience`` epochs without a better validation loss, after
``--epochs`` epochs, or once ``--minutes`` of wall time are spent (mid-epoch; the best epoch is kept).

The chips are overlapping crops, several of one place on different dates with one water mask: a random
split leaves part of each validation chip in training chips. The script finds those pixels (a training chip,
shifted by whole pixels, correlates with the validation chip at r >= 0.9 in the red band over at least a
quarter of it) and reports the water IoU on seen and unseen validation pixels apart.

For scale, it first scores a rule that needs no training: MNDWI = (green − SWIR1) / (green + SWIR1)
(bands 3 and 6) above a threshold chosen on the training chips. Defaults: U-Net base_filters 16, batch 8,
Adam 1e-3, cross-entropy + 1.0 × Dice, patience 10, 14 minutes a run.

The last line reads ``best_water_iou=<value> model=<name>``.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from training.config import CLASS_WEIGHTINGS, TrainConfig  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "water-chips"
BANDS = "1,2,3,4,5,6,7"
CLASS_NAMES = ["Not water", "Water"]
VALIDATION_SHARE, SEED = 0.2, 0  # the split of every run and of the MNDWI rule
SEEN_CORRELATION, SEEN_OVERLAP, PEAKS = 0.9, 0.25, 5  # a validation pixel "seen" in a training chip
MODELS = ("unet", "unet_vgg16", "deeplabv3_resnet50")
BACKBONE = {"unet_vgg16": "vgg16", "unet_vgg19": "vgg19", "deeplabv3_resnet50": "resnet50"}
MODEL_OPTIONS = {"unet": {"base_filters": 16}, "unet_vgg16": {}, "unet_vgg19": {}, "deeplabv3_resnet50": {}}


@dataclass
class Run:
    """One model trained from one initialisation, and what came of it."""

    model: str
    init: str  # "scratch" or "imagenet"
    weights_path: str = ""
    epochs_run: int = 0
    best_epoch: int = 0
    seconds: float = 0.0
    out_of_time: bool = False
    pixel_accuracy: float = math.nan
    water_iou: float = math.nan
    water_iou_seen: float = math.nan
    water_iou_unseen: float = math.nan

    @property
    def name(self) -> str:
        return self.model if self.init == "scratch" else f"{self.model}+{self.init}"


def main() -> None:
    args = parse_args()
    if not (Path(args.data, "images").is_dir() and Path(args.data, "labels").is_dir()):
        sys.exit(f"No water chips at {args.data}: it needs images/ and labels/ (see ../shared/README.md); "
                 "give their folder with --data.")
    split = Split.load(args.data)
    print(f"Validation pixels also in a training chip: {split.seen.mean():.1%}", flush=True)
    print(f"MNDWI rule: {index_baseline(split)}", flush=True)
    runs = plan(args.models, args.weights_dir)
    for run in runs:
        print(f"Training {run.name} ({run.init})…", flush=True)
        train_run(run, args, split)
        print(f"{run.name}: init {run.init}, {run.epochs_run} epochs run"
              f"{' (time budget reached)' if run.out_of_time else ''}, best epoch {run.best_epoch}, "
              f"{run.seconds:.0f} s training, pixel accuracy {run.pixel_accuracy:.4f}, "
              f"water IoU {run.water_iou:.4f} (seen pixels {run.water_iou_seen:.4f}, "
              f"unseen {run.water_iou_unseen:.4f})", flush=True)
    print()
    print(caption(args))
    print()
    print(table(runs))
    best = max(runs, key=lambda r: -1.0 if math.isnan(r.water_iou) else r.water_iou)
    print(f"best_water_iou={best.water_iou:.4f} model={best.name}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DATA), help="water-chips folder (images/, labels/)")
    parser.add_argument("--out", default=str(ROOT / "bench-output" / "quality"), help="folder for the models")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated architectures")
    parser.add_argument("--bands", default=BANDS, help="1-based bands (1-7 are honest; 8, 11, 12 leak the answer)")
    parser.add_argument("--weights-dir", default="", help="folder with Keras' ImageNet no-top .h5 files")
    parser.add_argument("--epochs", type=int, default=200, help="most epochs per run")
    parser.add_argument("--patience", type=int, default=10, help="epochs without a better validation loss")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--dice-weight", type=float, default=1.0, help="weight of the soft Dice loss term")
    parser.add_argument("--class-weighting", default="none", choices=CLASS_WEIGHTINGS)
    parser.add_argument("--minutes", type=float, default=14.0, help="wall-time budget per run")
    args = parser.parse_args()
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(args.models) - set(MODEL_OPTIONS))
    if unknown or not args.models:
        parser.error(f"unknown or no model(s) {', '.join(unknown)}: choose from {', '.join(MODEL_OPTIONS)}")
    return args


@dataclass
class Split:
    """The validation chips' labels, MNDWI bands and seen pixels, on the split every run uses."""

    train: np.ndarray
    validation: np.ndarray
    labels: np.ndarray  # all chips
    green_swir: np.ndarray  # all chips: bands 3 and 6
    seen: np.ndarray  # validation chips: pixels that also lie in a training chip

    @classmethod
    def load(cls, data: str) -> Split:
        from training.dataset import find_pairs, load_chips, split_indices

        chips = load_chips(find_pairs(data), (3, 4, 6))
        train, validation, _ = split_indices(len(chips.names), VALIDATION_SHARE, 0, SEED)
        seen = seen_in_training(chips.images[..., 1], train, validation)
        return cls(train, validation, chips.labels, chips.images[..., [0, 2]], seen)


def seen_in_training(red, train, validation):
    """(validation chips, H, W): pixels of each validation chip that a training chip also covers, found by
    normalised cross-correlation of the chips' ``red`` bands (N, H, W) over every whole-pixel shift."""
    chips = (red - red.mean(axis=(1, 2), keepdims=True)) / np.maximum(red.std(axis=(1, 2), keepdims=True), 1e-6)
    height, width = chips.shape[1:]
    spectra = np.fft.rfft2(chips, s=(2 * height, 2 * width))
    seen = np.zeros((len(validation), height, width), bool)
    for row, chip in enumerate(validation):
        surfaces = np.fft.irfft2(spectra[chip] * spectra[train].conj(), s=(2 * height, 2 * width))
        for other, surface in zip(train, surfaces):
            for peak in np.argpartition(surface.ravel(), -PEAKS)[-PEAKS:]:
                shift = np.unravel_index(peak, surface.shape)
                dy, dx = ((s + n) % (2 * n) - n for s, n in zip(shift, (height, width)))  # -n..n-1
                mine = slice(max(dy, 0), height + min(dy, 0)), slice(max(dx, 0), width + min(dx, 0))
                theirs = slice(max(-dy, 0), height + min(-dy, 0)), slice(max(-dx, 0), width + min(-dx, 0))
                a, b = chips[chip][mine].ravel(), chips[other][theirs].ravel()
                if a.size >= SEEN_OVERLAP * height * width and np.corrcoef(a, b)[0, 1] >= SEEN_CORRELATION:
                    seen[row][mine] = True
                    break
    return seen


def water_ious(labels, predicted, seen) -> tuple[float, float]:
    """Water IoU of ``predicted`` classes against ``labels`` on the seen and on the unseen pixels."""
    from training.metrics import confusion_matrix, scores

    def iou(where):
        water = scores(confusion_matrix(labels[where], predicted[where], 2), CLASS_NAMES)["iou"]["Water"]
        return math.nan if water is None else water

    return iou(seen), iou(~seen)


def index_baseline(split: Split) -> str:
    """Scores on the validation chips of ``MNDWI > t``, ``t`` best on the training chips."""
    from training.metrics import confusion_matrix, scores

    green, swir = split.green_swir[..., 0], split.green_swir[..., 1]
    mndwi = (green - swir) / np.maximum(green + swir, 1e-6)

    def water_iou(indices, threshold):
        matrix = confusion_matrix(split.labels[indices], mndwi[indices] > threshold, 2)
        return scores(matrix, CLASS_NAMES)

    threshold = max(np.arange(-0.5, 0.51, 0.05), key=lambda t: water_iou(split.train, t)["iou"]["Water"])
    held_out = water_iou(split.validation, threshold)
    seen, unseen = water_ious(split.labels[split.validation], mndwi[split.validation] > threshold, split.seen)
    return (f"threshold {threshold:.2f}, pixel accuracy {held_out['pixel_accuracy']:.4f}, "
            f"water IoU {held_out['iou']['Water']:.4f} (seen pixels {seen:.4f}, unseen {unseen:.4f})")


def plan(models: list[str], weights_dir: str) -> list[Run]:
    """A scratch run per model, plus an ImageNet run per pretrained model whose weights are found."""
    runs = []
    for model in models:
        runs.append(Run(model, "scratch"))
        if model in BACKBONE:
            weights = imagenet_weights(BACKBONE[model], weights_dir)
            if weights:
                runs.append(Run(model, "imagenet", weights))
            else:
                print(f"Note: skipping {model}+imagenet: no ImageNet weights for {BACKBONE[model]} in "
                      f"{weights_dir or '(no --weights-dir given)'} nor in the Keras cache.", flush=True)
    return runs


def imagenet_weights(backbone: str, weights_dir: str) -> str:
    """The backbone's no-top weights file in ``weights_dir``, else in Keras' cache; "" if neither has it."""
    from training.models.imagenet import BACKBONES, resolve_weights

    candidate = Path(weights_dir, BACKBONES[backbone].file_name) if weights_dir else None
    try:
        return resolve_weights(backbone, str(candidate) if candidate and candidate.is_file() else None)
    except ValueError:
        return ""


def train_run(run: Run, args: argparse.Namespace, split: Split) -> None:
    """Train ``run`` with ``training.train`` within the time budget and record its held-out scores."""
    from training.callbacks import resume_path_for
    from training.progress import Cancelled, Progress
    from training.train import train

    config = TrainConfig(
        chips_dir=args.data, output_model=str(Path(args.out) / f"{run.name}.keras"), bands=args.bands,
        architecture=run.model, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        patience=args.patience, validation_split=VALIDATION_SHARE, test_split=0, seed=SEED, class_names=CLASS_NAMES,
        class_weighting=args.class_weighting, dice_weight=args.dice_weight, pretrained=run.init == "imagenet",
        weights_path=run.weights_path, model_options=MODEL_OPTIONS[run.model])
    start = time.monotonic()
    try:
        result = train(config, Progress(report=log, is_cancelled=lambda: time.monotonic() - start > args.minutes * 60))
    except Cancelled:
        raise SystemExit(f"{run.name}: the budget of {args.minutes:g} min ran out before the first epoch ended; "
                         "give more --minutes.") from None
    run.seconds = time.monotonic() - start
    Path(resume_path_for(config.output_model)).unlink(missing_ok=True)  # left by a budget stop
    run.epochs_run, run.best_epoch, run.out_of_time = result.epochs_run, result.best_epoch, result.cancelled
    run.pixel_accuracy = result.test_metrics["pixel_accuracy"]
    water = result.test_metrics["iou"]["Water"]
    run.water_iou = math.nan if water is None else water
    run.water_iou_seen, run.water_iou_unseen = water_ious(
        split.labels[split.validation], predict_validation(config.output_model, args.data, split), split.seen)


def predict_validation(model_path: str, data: str, split: Split):
    """The saved best model's classes for the validation chips."""
    from training.bundle import load_bundle
    from training.dataset import find_pairs, load_chips
    from training.normalization import normalize

    model, info = load_bundle(model_path)
    images = load_chips(find_pairs(data), tuple(info.bands)).images[split.validation]
    return model.predict(normalize(images, info.normalization), batch_size=8, verbose=0).argmax(axis=-1)


def log(percent: float, message: str) -> None:
    """Print train()'s messages (one per epoch)."""
    if message:
        print(f"  [{percent:3.0f} %] {message}", flush=True)


def caption(args: argparse.Namespace) -> str:
    """What the table's figures are."""
    return (f"Water chips, bands {args.bands}, 128 px; scores on the 20 % validation chips (seed 0), which also "
            f"chose the best epoch. Batch {args.batch_size}, Adam {args.learning_rate:g}, cross-entropy + "
            f"{args.dice_weight:g} × Dice, class weighting {args.class_weighting}, patience {args.patience}, "
            f"at most {args.epochs} epochs or {args.minutes:g} min a run (\"time\": stopped by the budget).")


def table(runs: list[Run]) -> str:
    """The runs as a Markdown table."""
    lines = ["| Model | Init | Epochs run | Best epoch | Training s | Pixel accuracy | Water IoU | "
             "… on seen pixels | … on unseen pixels |", "|---|---|--:|--:|--:|--:|--:|--:|--:|"]
    for r in runs:
        epochs = f"{r.epochs_run} (time)" if r.out_of_time else str(r.epochs_run)
        lines.append(f"| {r.model} | {r.init} | {epochs} | {r.best_epoch} | {r.seconds:.0f} | "
                     f"{r.pixel_accuracy:.4f} | {r.water_iou:.4f} | {r.water_iou_seen:.4f} | "
                     f"{r.water_iou_unseen:.4f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
