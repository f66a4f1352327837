"""Benchmark GeoSeg's training against plain Keras float32 ``fit`` of the same model on the same data.

    .venv/bin/python bench/train_speed.py
    .venv/bin/python bench/train_speed.py --chips 256 --epochs 4 --workdir /tmp/train-speed

Synthetic 12-band 64×64 chips (``--chips`` of them, cut from a synthetic scene by GeoSeg's Create chips) are
written once to ``--workdir``. Both runs train the study's U-Net (``build_model("unet", 12, 3)``) with AdamW,
GeoSeg's loss and metrics, batch ``--batch``, on the same training split, validating every epoch on the same
validation split:

* plain Keras: every chip loaded into memory, normalised, ``model.fit`` in float32;
* GeoSeg: ``training.learn.train.train`` with its defaults — chips streamed from their files by tf.data, augmented,
  automatic precision (mixed bfloat16 on CPUs that compute it natively; ``--precision float32`` shows what a
  CPU without it gets) — which also saves the best model.

Speed counts training chips per second of wall time of an epoch (training and validation, and GeoSeg's saving
of the best model and resume point), the fastest epoch after the first (which traces and warms up); the two
runs alternate ``--repeat`` times and the fastest epoch of each counts, which damps the noise of a shared CPU
(whole processes there ran the same float32 work at 21–63 chips/s); the mean and slowest epoch are printed
beside it, so that pauses the fastest epoch hides still show. The default 1024 chips give epochs of
717 training chips, so the per-epoch saves weigh about as they do on real data (the study trained on ~4,000
chips an epoch).
It first prints the CPU (model, family, bfloat16 flags, cores): the speedup depends on it.
Peak RSS (``ru_maxrss``) is that of a one-epoch GeoSeg training on the chips and on ten times as many
(the same files linked ten times under other names). Each run is its own subprocess, so TensorFlow starts
cold and its peak RSS is its own. The last line reads
``speedup=<ratio> chips_per_s=<v> peak_rss_mib_1x=<v> peak_rss_mib_10x=<v>`` (speedup: GeoSeg's chips/s over
plain Keras').
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from training.config import PRECISIONS, TrainConfig  # noqa: E402

CHIP = 64
COPIES = 10  # the larger chips folder holds this many times the chips


def main() -> None:
    args = parse_args()
    if args.phase:
        result = PHASES[args.phase](args)
        print(json.dumps({**(result or {}), "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
        return
    work = Path(args.workdir or tempfile.mkdtemp(prefix="geoseg-train-speed-"))
    chips, many = work / f"chips_{args.chips}", work / f"chips_{args.chips}_x{COPIES}"
    if not chips.exists():
        write_chips(chips, args.chips)
    if not many.exists():
        link_copies(chips, many, COPIES)
    print(f"CPU: {cpu_description()}", flush=True)
    runs = [{phase: run_phase(phase, chips, args) for phase in ("keras", "geoseg")} for _ in range(args.repeat)]
    speed = {}
    for name, phase in (("plain Keras float32", "keras"), ("GeoSeg", "geoseg")):
        epochs = [seconds for run in runs for seconds in run[phase]["epochs"]]
        train_chips, settings = runs[0][phase]["train_chips"], runs[0][phase]["settings"]
        speed[phase] = train_chips / min(epochs)
        print(f"{name}: {speed[phase]:.1f} chips/s ({train_chips} training chips, fastest epoch {min(epochs):.1f} s "
              f"of epochs 2–{args.epochs}, {args.repeat} runs; their mean {sum(epochs) / len(epochs):.1f} s, the "
              f"slowest {max(epochs):.1f} s), {settings}", flush=True)
    rss = {copies: run_phase("rss", folder, args)["peak_rss_mib"] for copies, folder in ((1, chips), (COPIES, many))}
    print(f"one-epoch GeoSeg training: peak RSS {rss[1]:.0f} MiB on {args.chips} chips, {rss[COPIES]:.0f} MiB on "
          f"{args.chips * COPIES} chips ({(rss[COPIES] / rss[1] - 1) * 100:+.1f} %)")
    print(f"speedup={speed['geoseg'] / speed['keras']:.2f} chips_per_s={speed['geoseg']:.1f} "
          f"peak_rss_mib_1x={rss[1]:.0f} peak_rss_mib_10x={rss[COPIES]:.0f}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chips", type=int, default=1024, help="chips in the smaller folder (a square number)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the timed runs (the first is not timed)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each, alternating; the fastest counts")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--precision", choices=list(PRECISIONS), default=TrainConfig.precision,
                        help="GeoSeg's training precision (float32: as on a CPU without native bfloat16)")
    parser.add_argument("--workdir", help="folder for the chips (default: a new temp folder)")
    parser.add_argument("--phase", choices=list(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch is not timed")
    return args


def run_phase(phase: str, folder: Path, args: argparse.Namespace) -> dict:
    """Run one phase in a fresh interpreter and return the JSON it prints last."""
    command = [sys.executable, __file__, "--phase", phase, "--folder", str(folder), "--epochs", str(args.epochs),
               "--batch", str(args.batch), "--chips", str(args.chips), "--precision", args.precision]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def cpu_description(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU's model, family and bfloat16 flags as Linux reports them, and its cores: speedups depend on them."""
    from training.host.devices import NATIVE_BFLOAT16_FLAGS, native_bfloat16

    fields = {}
    with contextlib.suppress(OSError), open(cpuinfo) as file:
        for line in file:
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    flags = sorted(NATIVE_BFLOAT16_FLAGS.intersection(fields.get("flags", "").split()))
    return (f"{fields.get('model name', platform.processor() or 'unknown')} (family {fields.get('cpu family', '?')}, "
            f"model {fields.get('model', '?')}), {os.cpu_count()} cores, bfloat16 flags: {', '.join(flags) or 'none'}"
            f" (native bfloat16: {'yes' if native_bfloat16(cpuinfo) else 'no'})")


def write_chips(folder: Path, count: int) -> None:
    from synthetic import write_scene
    from training.data.chips import create_chips
    from training.config import ChipsConfig

    side = round(count**0.5) * CHIP
    scene = Path(tempfile.mkdtemp(prefix="geoseg-train-speed-scene-"))
    image, labels = write_scene(scene, side, side)
    create_chips(ChipsConfig(str(image), str(folder), str(labels), chip_size=CHIP, min_labelled=0.0))


def link_copies(source: Path, target: Path, copies: int) -> None:
    """A chips folder holding every chip of ``source`` ``copies`` times, as links."""
    for sub in ("images", "labels"):
        (target / sub).mkdir(parents=True)
        for path in sorted((source / sub).iterdir()):
            for copy in range(copies):
                (target / sub / f"{path.stem}_{copy}{path.suffix}").symlink_to(path.resolve())


def train_config(args: argparse.Namespace, epochs: int):
    output = Path(tempfile.mkdtemp(prefix="geoseg-train-speed-model-")) / "model.keras"
    return TrainConfig(str(output), chips_dir=args.folder, epochs=epochs, patience=epochs, batch_size=args.batch,
                       precision=args.precision)


class EpochClock:
    """Wall-clock times at the end of each epoch."""

    def __init__(self):
        self.times: list[float] = []

    def durations(self) -> list[float]:
        """Seconds of each epoch after the first."""
        return [end - start for start, end in zip(self.times, self.times[1:])]


def plain_keras(args: argparse.Namespace) -> dict:
    """Every chip in memory, float32, ``model.fit`` — what one writes with Keras alone."""
    import keras
    import numpy as np

    from training.data.pairs import find_pairs, load_chips
    from training.data.split import split_indices
    from training.learn.losses import SegmentationLoss
    from training.models import build_model
    from training.data.normalization import fit_normalization, normalize

    config = train_config(args, args.epochs)
    keras.utils.set_random_seed(config.seed)
    chips = load_chips(find_pairs(args.folder), tuple(range(1, 13)))
    train, validation, _ = split_indices(len(chips.names), config.validation_split, config.test_split, config.seed)
    images = normalize(chips.images, fit_normalization(chips.images[train])).astype(np.float32)
    labels = chips.labels.astype(np.int32)
    model = build_model("unet", 12, 3)
    model.compile(optimizer=keras.optimizers.AdamW(config.learning_rate), loss=SegmentationLoss(3),
                  metrics=[keras.metrics.MeanIoU(3, name="mean_iou", ignore_class=255, sparse_y_pred=False)])
    clock = EpochClock()
    tick = keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: clock.times.append(time.perf_counter()))
    model.fit(images[train], labels[train], batch_size=args.batch, epochs=args.epochs, verbose=0,
              validation_data=(images[validation], labels[validation]), callbacks=[tick])
    return timed(clock, len(train), "in memory, float32")


def geoseg(args: argparse.Namespace) -> dict:
    """GeoSeg's training with its defaults."""
    from training.learn.precision import training_policy
    from training.progress import Progress
    from training.learn.train import train

    config = train_config(args, args.epochs)
    clock = EpochClock()
    counts = {}

    def on_report(percent: float, message: str) -> None:
        if message.startswith("Epoch "):
            clock.times.append(time.perf_counter())
        elif message.startswith("Training on "):
            counts["train"] = int(message.split()[2])

    train(config, Progress(on_report))
    return timed(clock, counts["train"], f"streamed from files, {training_policy(config.precision)}")


def peak_rss(args: argparse.Namespace) -> dict:
    """One epoch of GeoSeg's training (the figure is the process's peak RSS)."""
    from training.learn.train import train

    train(train_config(args, 1))


def timed(clock: EpochClock, train_chips: int, settings: str) -> dict:
    return {"epochs": clock.durations(), "train_chips": train_chips, "settings": settings}


PHASES = {"keras": plain_keras, "geoseg": geoseg, "rss": peak_rss}

if __name__ == "__main__":
    main()
