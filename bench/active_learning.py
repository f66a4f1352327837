"""Does labelling where the model is unsure (``suggest``) improve it faster than labelling random places?

    .venv/bin/python bench/active_learning.py        # hours on a 2-core CPU; run it again to continue
    .venv/bin/python bench/active_learning.py --sets demo --rounds 2 --seeds 1 --squares 4 --minutes 1 \\
        --set epochs=1 --set windows_per_epoch=16 --set 'model_options={"base_filters": 4, "depth": 2}'  # plumbing

A simulated labeller on two sets, each split into a pool (where labels may be revealed) and a test part that no
training ever sees:

* ``demo``: the demo's Sentinel-2 scene (``demo-output/data``, built by demo/build_data.py when absent) split as
  bench/quality.py's scene set: the left two thirds are the pool, the right third is the test part;
* ``vessels``: ``../shared/data/vessels`` (skipped when absent): the ports in POOL_PORTS side by side in one raster
  are the pool, those in TEST_PORTS side by side the test part (unlabelled gaps between them).

The labeller can only reveal the reference labels (the OSM land use, the hand-drawn vessel masks), so squares are
``--square-size`` px cells of suggest's grid that lie wholly in the pool's labelled area: each reveals as many
labelled pixels as any other. Per seed, round 0 reveals random squares covering ``--initial`` of the pool's
labelled pixels (a share per set by default, INITIAL). Then two arms start from those same squares and in each of
``--rounds`` rounds add ``--squares`` squares: *suggested* as ``suggest`` picks them (training.products.suggest's
``candidates`` and ``select``, with suggest's minimum distance, on the previous round's model's class and
uncertainty rasters from the classify job), *random* drawn uniformly from the same candidates. Both arms hold equal
labelled pixels in every round. After each reveal a model trains **from scratch** (the fairer comparison: no arm
carries an earlier model's luck) on the pool with a label raster that is unlabelled outside the revealed squares
(written to the run's folder), with TrainConfig's defaults, the seed, ``--set`` overrides and at most ``--minutes``
(TrainConfig's ``max_minutes``), and is scored on the test part as quality.py's row "GeoSeg" (classify's default
flip averaging).

Every training runs in a fresh process; its figures are kept in ``--out`` (``<set>/seed<k>/<arm>-round<r>.json``,
round 0 as ``initial-round0.json``), so running the same command again goes on where it stopped (``--no-train``
only reports what is done); a folder made with other settings is refused. Printed: each run's seed, round,
labelled pixels and mean IoU; per set, round and arm the mean ± sample standard deviation (n − 1) over the seeds;
per set ``set=<name> rounds=<r> miou_suggested=<final> miou_random=<final> gain=<difference>``; and last the first
set's figures as ``rounds=<r> miou_suggested=<final> miou_random=<final> gain=<difference>`` (the final round's
means over the seeds; the goal is a gain of at least +0.03).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

import quality  # bench/quality.py, beside this script; it puts the repository on sys.path
import stability

ROOT = quality.ROOT
VESSELS = ROOT.parent / "shared" / "data" / "vessels"
POOL_PORTS = ("algiers", "athens", "cartagena", "hedland")
TEST_PORTS = ("casablanca", "klang")
PORT_GAP = 64  # unlabelled pixels between ports side by side
INITIAL = {"demo": 0.1, "vessels": 0.01}  # share of the pool's labelled pixels revealed in round 0
ARMS = ("suggested", "random")


def main() -> None:
    args = parse_args()
    if args.run:
        child(args)
        return
    out = Path(args.out)
    stability.check_settings(out, settings_of(args))
    lines = []
    for name in args.sets:
        if name == "vessels" and not Path(args.vessels).is_dir():
            print(f"\n## vessels: skipped, {args.vessels} is absent", flush=True)
            continue
        runs = set_runs(args, name)
        report(args, name, runs)
        if args.no_train:
            print(f"{len(runs)} of {args.seeds * (1 + 2 * args.rounds)} runs done (--no-train: no last line).")
        else:
            lines.append(summary_line(args, name, runs))
    for name, line in lines:
        print(f"set={name} {line}")
    if lines:
        print(lines[0][1])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="demo,vessels", help="comma-separated: demo, vessels")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of adding squares after round 0")
    parser.add_argument("--seeds", type=int, default=3,
                        help="seeds 0 … n − 1 (initial squares, random picks, training)")
    parser.add_argument("--squares", type=int, default=60, help="squares added per round and arm (K)")
    parser.add_argument("--square-size", type=int, default=8,
                        help="side of a square in pixels (the demo pool holds 219 wholly labelled 16-px cells, "
                             "too few for 3 rounds of 40; 1826 of 8 px)")
    parser.add_argument("--initial", type=float, help=f"share of the pool's labelled pixels revealed in round 0 "
                                                      f"(default per set: {json.dumps(INITIAL)})")
    parser.add_argument("--scene", default=str(quality.SCENE), help="folder with the demo's scene.tif and labels.tif")
    parser.add_argument("--vessels", default=str(VESSELS), help="vessels folder (<port>/image.tif, labels.tif)")
    parser.add_argument("--out", default=str(ROOT / "bench-output" / "active-learning"), help="folder for runs")
    parser.add_argument("--minutes", type=float, default=10.0,
                        help="training budget per training (TrainConfig's max_minutes; 0: none)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a TrainConfig field (JSON values), e.g. window_size=96")
    parser.add_argument("--no-train", action="store_true", help="only report the runs already done in --out")
    parser.add_argument("--run", help=argparse.SUPPRESS)  # a child process: SET:SEED:ARM:ROUND
    args = parser.parse_args()
    args.sets = quality.set_names(parser, args.sets, SETS)
    args.overrides = quality.train_overrides(parser, args.set)
    if min(args.rounds, args.seeds, args.squares, args.square_size) < 1:
        parser.error("--rounds, --seeds, --squares and --square-size take 1 or more")
    if args.initial is not None and not 0 < args.initial <= 1:
        parser.error("--initial takes a share above 0 and at most 1")
    if "seed" in args.overrides:
        parser.error("--set seed: the seeds are this benchmark's own (--seeds)")
    return args


def settings_of(args) -> dict:
    """What a finished run depends on besides its set, seed, arm and round."""
    return {"overrides": args.overrides, "minutes": args.minutes, "squares": args.squares,
            "square_size": args.square_size, "initial": args.initial, "scene": str(Path(args.scene).resolve()),
            "vessels": str(Path(args.vessels).resolve())}


def set_runs(args, name: str) -> list[dict]:
    """The set's runs in order, each trained in a fresh process unless ``--out`` holds it."""
    plan = [(seed, "initial", 0) for seed in range(args.seeds)]
    plan += [(seed, arm, r) for seed in range(args.seeds) for arm in ARMS for r in range(1, args.rounds + 1)]
    runs, failed = [], set()
    for seed, arm, r in plan:
        path = run_path(args, name, seed, arm, r)
        if not path.exists():
            if args.no_train:
                continue
            if (seed, arm if r > 1 else "initial") in failed or not trained(args, f"{name}:{seed}:{arm}:{r}", path):
                failed.add((seed, arm))
                continue
        runs.append(json.loads(path.read_text()))
        print(f"run: {run_line(runs[-1])}", flush=True)
    if failed:
        sys.exit(f"FAILED (see their output above; run the same command again to retry): {name} "
                 + "; ".join(f"seed {seed} {arm}" for seed, arm in sorted(failed)))
    return runs


def run_path(args, name: str, seed: int, arm: str, r: int) -> Path:
    return Path(args.out) / name / f"seed{seed}" / f"{'initial' if r == 0 else arm}-round{r}.json"


def trained(args, run: str, path: Path) -> bool:
    """Run ``run`` in a fresh process, which writes its figures to ``path``; False if it fails."""
    print(f"\n## {run.replace(':', ' ')}", flush=True)
    done = subprocess.run([sys.executable, __file__, *sys.argv[1:], "--run", run])
    if done.returncode or not path.exists():
        print(f"{run} FAILED (exit status {done.returncode})", flush=True)
        return False
    return True


def child(args) -> None:
    """One round of one arm: reveal its squares, train from scratch on them, score the test part."""
    name, seed, arm, r = args.run.split(":")
    seed, r = int(seed), int(r)
    bench_set = SETS[name](stability.set_args(args, name))
    print(bench_set.description, flush=True)
    pool = bench_set.train_config
    truth = read_labels(pool["label_raster"])
    path = run_path(args, name, seed, arm, r)
    folder = path.with_suffix("")
    folder.mkdir(parents=True, exist_ok=True)
    if r == 0:
        squares = initial_squares(args, name, truth, seed)
    else:
        before = json.loads(run_path(args, name, seed, arm, r - 1).read_text())
        earlier = [tuple(s) for s in before["squares"]]
        pick = suggested if arm == "suggested" else randomly
        squares = earlier + pick(args, truth, earlier, seed, r, before["model"], pool["image_raster"], folder)
    labels = folder / "labels.tif"
    pixels = write_revealed(truth, squares, args.square_size, pool["label_raster"], labels)
    model = folder / "model.keras"
    train_set = dataclasses.replace(bench_set, train_config={**pool, "label_raster": str(labels)})
    score = quality.geoseg(train_set, args, seed, model)[0]
    stability.write_json(path, {
        "set": name, "seed": seed, "arm": arm, "round": r, "squares": [list(s) for s in squares],
        "labelled_pixels": pixels, "mean_iou": score.metrics["mean_iou"],
        "pixel_accuracy": score.metrics["pixel_accuracy"], "iou": score.metrics["iou"], "minutes": score.minutes,
        "note": score.note, "model": str(model), "commit": stability.commit()})


def read_labels(path: str) -> np.ndarray:
    from training.data.raster import open_raster

    return open_raster(path, "label raster").ReadAsArray()


def pool_candidates(truth: np.ndarray, revealed: list[tuple[int, int]], size: int, uncertainty=None, classes=None):
    """suggest's candidate squares that lie wholly in the labelled pool and off the revealed squares."""
    from training.products.suggest import candidates

    known = truth != 255
    taken = np.zeros_like(known)
    for row, col in revealed:
        taken[row:row + size, col:col + size] = True
    values = np.where(known, 0.0 if uncertainty is None else uncertainty, np.nan)
    return candidates(values, truth if classes is None else classes, taken, size)


def random_pick(squares: list, count: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    if len(squares) < count:
        raise SystemExit(f"only {len(squares)} squares left to reveal, {count} asked for: give fewer or smaller "
                         "squares")
    return [(squares[i].row, squares[i].col) for i in sorted(rng.choice(len(squares), count, replace=False))]


def initial_squares(args, name: str, truth: np.ndarray, seed: int) -> list[tuple[int, int]]:
    """Random squares covering the initial share of the pool's labelled pixels (at least one)."""
    share = INITIAL[name] if args.initial is None else args.initial
    count = max(1, round(share * (truth != 255).sum() / args.square_size ** 2))
    return random_pick(pool_candidates(truth, [], args.square_size), count, np.random.default_rng(seed))


def randomly(args, truth, earlier, seed, r, *_) -> list[tuple[int, int]]:
    """``--squares`` squares drawn uniformly from the candidates, seeded by seed and round."""
    squares = pool_candidates(truth, earlier, args.square_size)
    return random_pick(squares, args.squares, np.random.default_rng([seed, r]))


def suggested(args, truth, earlier, seed, r, model: str, image: str, folder: Path) -> list[tuple[int, int]]:
    """The squares suggest picks from ``model``'s class and uncertainty rasters of the pool (the classify job)."""
    from training.config import SuggestConfig
    from training.jobs import run_job
    from training.products.suggest import read_uncertainty, select

    classes, uncertainty = folder / "pool-classes.tif", folder / "pool-uncertainty.tif"
    run_job("classify", {"input_raster": image, "model_path": model, "output_raster": str(classes),
                         "uncertainty_raster": str(uncertainty)})
    found = pool_candidates(truth, earlier, args.square_size, read_uncertainty(str(uncertainty)),
                            read_labels(str(classes)))
    chosen = select(found, args.squares, SuggestConfig("", "", "").min_distance)
    if len(chosen) < args.squares:
        raise SystemExit(f"suggest found only {len(chosen)} squares of the {args.squares} asked for")
    return [(s.row, s.col) for s in chosen]


def write_revealed(truth: np.ndarray, squares, size: int, like_path: str, path: Path) -> int:
    """A label raster on the pool's grid: ``truth`` inside the squares, unlabelled (255) elsewhere; returns its
    labelled pixels."""
    from training.data.raster import create_byte_raster, open_raster

    revealed = np.full_like(truth, 255)
    for row, col in squares:
        revealed[row:row + size, col:col + size] = truth[row:row + size, col:col + size]
    raster = create_byte_raster(str(path), open_raster(like_path), 1)
    raster.GetRasterBand(1).WriteArray(revealed)
    raster.FlushCache()
    return int((revealed != 255).sum())


def demo_set(args) -> quality.Set:
    """bench/quality.py's scene set: the left two thirds are the pool, the right third the test part."""
    return quality.scene_set(args)


def vessels_set(args) -> quality.Set:
    """The vessel ports: POOL_PORTS side by side as the pool raster, TEST_PORTS side by side as the test image."""
    pool = Path(args.out)
    image, labels = pool / "pool-image.tif", pool / "pool-labels.tif"
    if not labels.exists():
        write_mosaic(args.vessels, POOL_PORTS, image, labels)
    test_image, test_labels = mosaic(args.vessels, TEST_PORTS)
    empty = np.zeros((0, test_image.shape[-1]))
    return quality.Set("vessels", ["Background", "Vessel"], "all", (1, 4), empty, np.zeros(0, np.uint8),
                       test_image[None], test_labels[None],
                       {"image_raster": str(image), "label_raster": str(labels), "validation_split": 0.2,
                        "test_split": 0.0},
                       f"vessel ports, 5 bands; pool {', '.join(POOL_PORTS)}; test {', '.join(TEST_PORTS)} "
                       f"({(test_labels == 1).sum()} vessel pixels of {(test_labels != 255).sum()} labelled)")


def mosaic(folder: str, ports) -> tuple[np.ndarray, np.ndarray]:
    """The ports' images (H, W, 5) and labels (H, W) side by side, top-aligned, PORT_GAP px of zeros (unlabelled)
    between them and below the shorter ones."""
    from osgeo import gdal

    from training.data.raster import read_bands

    scenes = [(gdal.Open(str(Path(folder, p, "image.tif"))), gdal.Open(str(Path(folder, p, "labels.tif"))))
              for p in ports]
    height = max(s.RasterYSize for s, _ in scenes)
    width = sum(s.RasterXSize for s, _ in scenes) + PORT_GAP * (len(scenes) - 1)
    image = np.zeros((height, width, scenes[0][0].RasterCount), np.float32)
    labels = np.full((height, width), 255, np.uint8)
    col = 0
    for scene, label in scenes:
        w, h = scene.RasterXSize, scene.RasterYSize
        image[:h, col:col + w] = read_bands(scene, range(1, scene.RasterCount + 1))
        labels[:h, col:col + w] = label.ReadAsArray()
        col += w + PORT_GAP
    return image, labels


def write_mosaic(folder: str, ports, image_path: Path, labels_path: Path) -> None:
    """:func:`mosaic` as a UInt16 image and a Byte label raster (no CRS: the ports lie far apart)."""
    from osgeo import gdal

    image, labels = mosaic(folder, ports)
    image_path.parent.mkdir(parents=True, exist_ok=True)
    for path, values, kind in ((image_path, image, gdal.GDT_UInt16), (labels_path, labels[..., None], gdal.GDT_Byte)):
        raster = gdal.GetDriverByName("GTiff").Create(str(path), values.shape[1], values.shape[0], values.shape[2],
                                                      kind, ["TILED=YES", "COMPRESS=DEFLATE"])
        raster.SetGeoTransform((0, 10, 0, 0, 0, -10))
        for band in range(values.shape[2]):
            raster.GetRasterBand(band + 1).WriteArray(values[..., band])
        if kind == gdal.GDT_Byte:
            raster.GetRasterBand(1).SetNoDataValue(255)
        raster.FlushCache()


SETS = {"demo": demo_set, "vessels": vessels_set}


def run_line(run: dict) -> str:
    return (f"{run['set']} seed {run['seed']} {run['arm']} round {run['round']}: {run['labelled_pixels']} labelled px, "
            f"mean IoU {run['mean_iou']:.4f}, {run['minutes']:.1f} min ({run['note']})")


def by_round(args, runs: list[dict], arm: str) -> list[list[dict]]:
    """The arm's runs per round 0 … ``--rounds`` (round 0 is shared by both arms)."""
    return [[x for x in runs if x["round"] == r and x["arm"] == ("initial" if r == 0 else arm)]
            for r in range(args.rounds + 1)]


def report(args, name: str, runs: list[dict]) -> None:
    """Per round and arm: runs, labelled pixels and mean IoU, mean ± std over the seeds, as a Markdown table."""
    print(f"\n### {name}: TrainConfig defaults{' with ' + ', '.join(args.set) if args.set else ''}, at most "
          f"{args.minutes:g} min a training, trained from scratch each round; {args.squares} squares of "
          f"{args.square_size} px a round. Std: sample standard deviation (n − 1) over the seeds.\n")
    print("| Round | Arm | Runs | Labelled px, mean | Mean IoU, mean ± std |\n|--:|---|--:|--:|--:|")
    for r in range(args.rounds + 1):
        for arm in ARMS[:1] if r == 0 else ARMS:
            done = by_round(args, runs, arm)[r]
            if done:
                mean, std, _ = stability.spread([x["mean_iou"] for x in done])
                pixels = sum(x["labelled_pixels"] for x in done) / len(done)
                print(f"| {r} | {'both (initial)' if r == 0 else arm} | {len(done)} | {pixels:.0f} | "
                      f"{mean:.4f} ± {stability.number(std)} |")


def summary_line(args, name: str, runs: list[dict]) -> tuple[str, str]:
    final = {arm: stability.spread([x["mean_iou"] for x in by_round(args, runs, arm)[-1]])[0] for arm in ARMS}
    gain = final["suggested"] - final["random"]
    return name, (f"rounds={args.rounds} miou_suggested={final['suggested']:.4f} miou_random={final['random']:.4f} "
                  f"gain={stability.number(gain, True)}")


if __name__ == "__main__":
    main()
