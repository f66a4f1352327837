"""Benchmark GeoSeg's tiled classification against a naive whole-raster baseline.

    .venv/bin/python bench/classify.py --size 4096
    .venv/bin/python bench/classify.py --size 4096 --engine tensorflow --repeat 2
    .venv/bin/python bench/classify.py --size 4096 --precision float32
    .venv/bin/python bench/classify.py --size 4096 --flip-average on
    .venv/bin/python bench/classify.py --size 8192 --no-baseline
    .venv/bin/python bench/classify.py --input scene.tif --model model.keras
    .venv/bin/python bench/classify.py --size 2048 --engines

Without ``--input`` a synthetic 12-band UInt16 scene (tiled 512, DEFLATE, as GDAL tools export Sentinel-2
stacks) is written; without ``--model`` the study's default U-Net (``build_model("unet", 12, 3)``) is
trained for two epochs on synthetic chips, which is plenty for timing. Both are reused from
``--workdir`` on later runs.

Each phase runs in its own subprocess, so its peak RSS (``ru_maxrss``) is its own and TensorFlow starts
cold for both. With ``--repeat`` the phases alternate and the fastest run of each counts (with the
highest peak RSS of its runs), which damps the noise of a shared CPU. Times run from loading the model
to the written class raster. The naive baseline reads the entire raster, cuts 64×64 chips, runs
``model.predict`` in float32, stitches and writes. The tiled run uses GeoSeg's defaults unless told
otherwise: automatic engine and precision (bfloat16 on CPUs that compute it natively), and automatic flip averaging,
which is off for the briefly trained model (it records no decision; ``--flip-average on`` runs it).

The LiteRT engine converts the model once per tile shape and caches the conversion (here in a fresh
``litert-cache`` folder of the work folder): the first tiled run includes the conversion and is reported
on its own; the later runs, which classify as a user's second scene would, count for the summary. The last
line reads ``speedup=<ratio> mpx_per_s=<value> peak_rss_mib=<value>`` (speedup: naive time / tiled time;
``nan`` with ``--no-baseline``). With ``--engines`` the model is also exported to ONNX (``python -m training
export``) and the tiled run is timed on each engine in float32 — LiteRT, TensorFlow and ONNX Runtime (the
export) — and in int8 on ONNX Runtime (the model file's int8 copy; where it carries none, a copy of the model file
with one, calibrated on 8 windows of the raster and not checked against labels) on the same raster, a line each
before the last.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from training.config import CLASSIFY_PRECISIONS, ENGINES, FLIP_AVERAGES, ClassifyConfig  # noqa: E402
from training.host.devices import native_bfloat16  # noqa: E402
from training.inference.engines import CACHE_ENV  # noqa: E402

STRIP = 512  # rows written at a time when making the synthetic scene
CHIP = 64  # the naive baseline's chip size (the study's)


def main() -> None:
    args = parse_args()
    if args.phase:
        result = PHASES[args.phase](args)
        print(json.dumps({**(result or {}), "peak_rss_mib": peak_rss_mib()}))
        return
    work = Path(args.workdir or tempfile.mkdtemp(prefix="geoseg-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    args.input = args.input or str(work / f"scene_{args.size}.tif")
    args.model = args.model or str(work / "unet.keras")
    args.output = str(work / "classes.tif")
    cache = work / "litert-cache"
    shutil.rmtree(cache, ignore_errors=True)
    os.environ[CACHE_ENV] = str(cache)
    run_phase("prepare", args)
    phases = ["tiled"] if args.no_baseline else ["tiled", "naive"]
    runs = [{phase: run_phase(phase, args) for phase in phases} for _ in range(args.repeat)]
    tiled_runs = [run["tiled"] for run in runs]
    cached = [run for run in tiled_runs if not run["converted"]]
    if cached and len(cached) < len(tiled_runs):
        report("tiled, converting the model", fastest([run for run in tiled_runs if run["converted"]]))
    best = {"tiled": fastest(cached or tiled_runs)}
    if not args.no_baseline:
        best["naive"] = fastest([run["naive"] for run in runs])
    for phase, result in best.items():
        report(phase, result)
    if args.engines:
        compare_engines(args, work)
    tiled, naive = best["tiled"], best.get("naive")
    speedup = naive["seconds"] / tiled["seconds"] if naive else float("nan")
    print(f"speedup={speedup:.2f} mpx_per_s={tiled['mpx_per_s']:.3f} peak_rss_mib={tiled['peak_rss_mib']:.0f}")


def parse_args() -> argparse.Namespace:
    defaults = ClassifyConfig("", "", "")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=4096, help="side of the synthetic scene in pixels")
    parser.add_argument("--input", help="a 12-band raster to classify instead of a synthetic scene")
    parser.add_argument("--model", help="a GeoSeg .keras bundle instead of a briefly trained default U-Net")
    parser.add_argument("--workdir", help="folder for the scene, model and outputs (default: a new temp folder)")
    parser.add_argument("--compress", default="DEFLATE", help="compression of the synthetic scene (e.g. NONE)")
    parser.add_argument("--tile", type=int, default=defaults.tile_size)
    parser.add_argument("--overlap", type=int, default=defaults.overlap)
    parser.add_argument("--batch", type=int, default=defaults.batch_size)
    parser.add_argument("--engine", default=defaults.engine, choices=ENGINES, help="tiled run's engine")
    parser.add_argument("--precision", default=defaults.precision, choices=CLASSIFY_PRECISIONS,
                        help="tiled run's precision (the baseline computes in float32)")
    parser.add_argument("--flip-average", default=defaults.flip_average, choices=FLIP_AVERAGES,
                        help="tiled run's flip averaging (on: the network runs four times a tile)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per phase, alternating; the fastest counts")
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive baseline (large rasters)")
    parser.add_argument("--engines", action="store_true",
                        help="also time LiteRT, TensorFlow and ONNX Runtime (an ONNX export) in float32, and ONNX "
                             "Runtime in int8")
    parser.add_argument("--phase", choices=list(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    return parser.parse_args()


def run_phase(phase: str, args: argparse.Namespace) -> dict:
    """Run one phase in a fresh interpreter and return the JSON it prints last."""
    command = [sys.executable, __file__, "--phase", phase, "--size", str(args.size), "--input", args.input,
               "--model", args.model, "--output", args.output, "--compress", args.compress,
               "--tile", str(args.tile), "--overlap", str(args.overlap), "--batch", str(args.batch),
               "--engine", args.engine, "--precision", args.precision, "--flip-average", args.flip_average]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare_engines(args: argparse.Namespace, work: Path) -> None:
    """The tiled run in float32 on each engine, the ONNX one on the model's export, and in int8 on the model
    file's int8 copy (cached runs only: each engine's first run, which converts, is not counted)."""
    onnx = work / f"{Path(args.model).stem}.onnx"
    if not onnx.exists():
        subprocess.run([sys.executable, "-m", "training", "export", args.model, str(onnx)], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
    int8 = run_phase("int8", args)["model"]
    for engine, model, precision in (("litert", args.model, "float32"), ("tensorflow", args.model, "float32"),
                                     ("auto", str(onnx), "float32"), ("auto", int8, "int8")):
        runs = [run_phase("tiled", argparse.Namespace(**{**vars(args), "engine": engine, "precision": precision,
                                                          "model": model})) for _ in range(args.repeat + 1)]
        label = "ONNX Runtime" if model.endswith(".onnx") or precision == "int8" else engine
        report(f"tiled, {label}, {precision}", fastest([run for run in runs if not run["converted"]] or runs))


def fastest(results: list[dict]) -> dict:
    """The fastest run's figures, with the highest peak RSS of all runs (a shared CPU only slows runs down)."""
    return {**min(results, key=lambda r: r["seconds"]), "peak_rss_mib": max(r["peak_rss_mib"] for r in results),
            "runs": len(results)}


def report(name: str, result: dict) -> None:
    print(f"{name}: {result['megapixels']:.1f} Mpx in {result['seconds']:.1f} s = {result['mpx_per_s']:.3f} Mpx/s, "
          f"peak RSS {result['peak_rss_mib']:.0f} MiB, fastest of {result['runs']} ({result['settings']})", flush=True)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def prepare(args: argparse.Namespace) -> None:
    if not Path(args.input).exists():
        write_scene(Path(args.input), args.size, args.compress)
    if not Path(args.model).exists():
        train_unet(Path(args.model))


def write_scene(path: Path, size: int, compress: str) -> None:
    """A ``size``² 12-band UInt16 scene, written in strips so that memory stays small at any size."""
    from osgeo import gdal, osr

    from synthetic import EPSG, GEOTRANSFORM, scene

    options = ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", f"COMPRESS={compress}", "BIGTIFF=IF_SAFER",
               "NUM_THREADS=ALL_CPUS"]
    ds = gdal.GetDriverByName("GTiff").Create(str(path), size, size, 12, gdal.GDT_UInt16, options)
    ds.SetGeoTransform(GEOTRANSFORM)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    ds.SetProjection(srs.ExportToWkt())
    for y in range(0, size, STRIP):
        ds.WriteArray(scene(size, min(STRIP, size - y), seed=y)[0], 0, y)
    ds = None


def train_unet(path: Path) -> None:
    """The study's default U-Net, trained for two epochs on 64×64 chips of a synthetic scene."""
    import keras
    import numpy as np

    from synthetic import CLASS_NAMES, scene
    from training.models.bundle import ModelInfo, save_bundle
    from training.data.classes import class_scheme
    from training.models import build_model
    from training.data.normalization import fit_normalization, normalize

    keras.utils.set_random_seed(0)
    image, labels = scene(512, 512)
    chips = to_chips(np.moveaxis(image, 0, -1).astype(np.float32))
    stats = fit_normalization(chips)
    model = build_model("unet", 12, 3)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.SparseCategoricalCrossentropy())
    model.fit(normalize(chips, stats), to_chips(labels[..., np.newaxis])[..., 0], batch_size=16, epochs=2, verbose=0)
    save_bundle(model, ModelInfo("unet", list(range(1, 13)), class_scheme(CLASS_NAMES), stats, chip_size=CHIP),
                str(path))


def to_chips(image):
    """(H, W, B) with sides multiple of CHIP → (N, CHIP, CHIP, B), row-major."""
    rows, columns, bands = image.shape[0] // CHIP, image.shape[1] // CHIP, image.shape[2]
    return image.reshape(rows, CHIP, columns, CHIP, bands).swapaxes(1, 2).reshape(-1, CHIP, CHIP, bands)


def from_chips(chips, rows: int, columns: int):
    """The inverse of :func:`to_chips` for (N, CHIP, CHIP) arrays."""
    return chips.reshape(rows, columns, CHIP, CHIP).swapaxes(1, 2).reshape(rows * CHIP, columns * CHIP)


def tiled(args: argparse.Namespace) -> dict:
    from training.inference.classify import classify_raster
    from training.progress import Progress

    config = ClassifyConfig(args.input, args.model, args.output, tile_size=args.tile, overlap=args.overlap,
                            batch_size=args.batch, engine=args.engine, precision=args.precision,
                            flip_average=args.flip_average)
    messages = []
    start = time.perf_counter()
    classify_raster(config, Progress(lambda percent, message: messages.append(message)))
    settings = (f"{messages[0]} Tiles of at most {args.tile} px, overlap ≥ {args.overlap}, batch {args.batch}; "
                f"{os.cpu_count()} CPUs{' with native bfloat16' if native_bfloat16() else ''}")
    converted = any(message.startswith("Converting") for message in messages)
    return {**timing(args, time.perf_counter() - start, settings), "converted": converted}


def naive(args: argparse.Namespace) -> dict:
    import numpy as np
    from osgeo import gdal

    from training.models.bundle import load_bundle
    from training.data.normalization import normalize
    from training.data.raster import open_raster, read_bands

    start = time.perf_counter()
    model, info = load_bundle(args.model)
    source = open_raster(args.input)
    image = normalize(read_bands(source, info.bands), info.normalization)
    height, width = image.shape[:2]
    image = np.pad(image, ((0, -height % CHIP), (0, -width % CHIP), (0, 0)))
    probabilities = model.predict(to_chips(image), batch_size=32, verbose=0)
    classes = from_chips(probabilities.argmax(-1).astype(np.uint8), image.shape[0] // CHIP, image.shape[1] // CHIP)
    out = gdal.GetDriverByName("GTiff").Create(args.output, width, height, 1, gdal.GDT_Byte,
                                               ["TILED=YES", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"])
    out.SetGeoTransform(source.GetGeoTransform())
    out.SetProjection(source.GetProjection())
    out.GetRasterBand(1).WriteArray(classes[:height, :width])
    out = None
    return timing(args, time.perf_counter() - start, f"{CHIP}×{CHIP} chips, model.predict batch 32, float32")


def int8(args: argparse.Namespace) -> dict:
    """The model file if it carries an int8 copy, else a copy of it beside the output that does (calibrated on 8
    seeded windows of the raster, as training calibrates on 8 training windows)."""
    import numpy as np

    from training.data.normalization import normalize
    from training.data.raster import open_raster, read_bands
    from training.learn.int8 import CALIBRATION_WINDOWS
    from training.models.bundle import load_bundle, save_bundle
    from training.models.export import network_graph
    from training.models.int8 import RECORD, int8_carried, quantize

    model, info = load_bundle(args.model)
    if int8_carried(info.metrics):
        return {"model": args.model}
    path = str(Path(args.output).with_name(f"{Path(args.model).stem}-int8.keras"))
    image = normalize(read_bands(open_raster(args.input), info.bands), info.normalization)
    rng, side = np.random.default_rng(0), min(256, *image.shape[:2])
    corners = zip(rng.integers(0, image.shape[0] - side + 1, CALIBRATION_WINDOWS),
                  rng.integers(0, image.shape[1] - side + 1, CALIBRATION_WINDOWS))
    tiles = np.stack([image[y:y + side, x:x + side] for y, x in corners]).transpose(0, 3, 1, 2)
    info.metrics = {**info.metrics, RECORD: {"used": True, "reason": "bench/classify.py: not checked"}}
    save_bundle(model, info, path, int8=quantize(network_graph(model, len(info.bands)).SerializeToString(), tiles))
    return {"model": path}


def timing(args: argparse.Namespace, seconds: float, settings: str) -> dict:
    from osgeo import gdal

    source = gdal.Open(args.input)
    megapixels = source.RasterXSize * source.RasterYSize / 1e6
    return {"seconds": seconds, "megapixels": megapixels, "mpx_per_s": megapixels / seconds, "settings": settings}


PHASES = {"prepare": prepare, "tiled": tiled, "naive": naive, "int8": int8}

if __name__ == "__main__":
    main()
