"""Cut an image raster and its label raster into georeferenced training chips."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
from osgeo import gdal

from ..config import ChipsConfig, ChipsResult
from ..errors import GeoSegError
from ..outputs import partial_path
from ..progress import Progress
from .classes import CLASSES_FILE, NODATA_CLASS, class_scheme, scheme_to_dicts
from .labels import rasterize_labels, read_labels
from .raster import create_byte_raster, open_raster, read_valid


def create_chips(config: ChipsConfig, progress: Progress | None = None) -> ChipsResult:
    """Write ``images/`` and ``labels/`` chips of ``chip_size`` pixels, each with its own geotransform.

    Label values 255, the label's nodata and NaN, and labels of image pixels that are nodata, NaN or infinite in
    any band, are written as 255 (unlabelled; training's loss leaves them out); labels that are no class, or
    miss the image, are refused (:func:`read_labels`, naming the user's raster or polygons). Chips without a
    labelled pixel are skipped, and so are chips whose labelled share is below ``min_labelled`` (default 0:
    every chip with a labelled pixel is kept); the result message says how many labelled chips and pixels
    ``min_labelled`` dropped. The output folder is written whole or not at all.
    """
    progress = progress or Progress()
    if bool(config.label_raster) == bool(config.label_polygons):
        raise GeoSegError("Give either a label raster or label polygons with a class field (not both).")
    with tempfile.TemporaryDirectory(prefix="geoseg-labels-") as scratch:
        label_path = config.label_raster or rasterize_labels(
            config.label_polygons, config.class_field, config.image_raster, str(Path(scratch) / "labels.tif"))
        return _write_chips(config, label_path, progress)


def _write_chips(config: ChipsConfig, label_path: str, progress: Progress) -> ChipsResult:
    image_path, chip_size, min_labelled = config.image_raster, config.chip_size, config.min_labelled
    if chip_size < 8:
        raise GeoSegError(f"Chip size {chip_size} is too small: use at least 8 pixels (the study used 64).")
    if not 0.0 <= min_labelled <= 1.0:
        raise GeoSegError(f"Minimum labelled share {min_labelled} must lie between 0 and 1.")
    image = open_raster(image_path, "image raster")
    source = config.label_raster or config.label_polygons
    bands = range(1, image.RasterCount + 1)

    out = Path(config.output_dir)
    if out.exists() and any(out.iterdir()):
        raise GeoSegError(f"The chips folder {out} is not empty: choose a new or empty folder.")
    windows = [(x, y) for y in range(0, image.RasterYSize - chip_size + 1, chip_size)
               for x in range(0, image.RasterXSize - chip_size + 1, chip_size)]
    if not windows:
        raise GeoSegError(f"The image {image_path} ({image.RasterXSize}×{image.RasterYSize} px) is smaller "
                          f"than one {chip_size}×{chip_size} chip: use a smaller chip size.")
    labels, names = read_labels(image, label_path, "label raster" if config.label_raster else "label polygons",
                                source)
    tmp = partial_path(out)
    written = labelled_pixels = skipped_labelled = dropped_pixels = 0
    try:
        (tmp / "images").mkdir(parents=True)
        (tmp / "labels").mkdir()
        for done, (x, y) in enumerate(windows):
            progress.check()
            values = labels[y:y + chip_size, x:x + chip_size]
            unlabelled = (values == NODATA_CLASS) | read_valid(image, bands, (x, y, chip_size, chip_size))[1]
            labelled = int(unlabelled.size - unlabelled.sum())
            labelled_pixels += labelled
            if labelled and labelled / unlabelled.size < min_labelled:
                skipped_labelled += 1
                dropped_pixels += labelled
            elif labelled:
                name = f"chip_{y:06d}_{x:06d}.tif"
                gdal.Translate(str(tmp / "images" / name), image, srcWin=[x, y, chip_size, chip_size],
                               creationOptions=["COMPRESS=DEFLATE"])
                chip_label = np.where(unlabelled, NODATA_CLASS, values)
                _write_label_chip(str(tmp / "labels" / name), chip_label, image, x, y)
                written += 1
            progress.update((done + 1) / len(windows))
        if written == 0 and skipped_labelled:
            raise GeoSegError(f"No chip of {source} has a labelled share of {min_labelled:g} or more "
                              f"({skipped_labelled} chips hold labels): lower the minimum labelled share "
                              "(min_labelled; 0 keeps every chip with a labelled pixel).")
        if written == 0:
            raise GeoSegError(f"No chip of {source} holds a labelled pixel: check that the labels overlap "
                              "the image.")
        if names:
            (tmp / CLASSES_FILE).write_text(json.dumps(scheme_to_dicts(class_scheme(names)), indent=2))
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    skipped = len(windows) - written
    progress.update(1.0, f"Wrote {written} chips to {out} ({skipped - skipped_labelled} without labels skipped).")
    if skipped_labelled:
        progress.warn(f"{skipped_labelled} chips WITH labels were skipped too, their labelled share below the "
                      f"minimum labelled share {min_labelled:g}: {dropped_pixels} labelled pixels "
                      f"({dropped_pixels / labelled_pixels:.1%} of those in the chip grid) are not in the chips. "
                      "Set the minimum labelled share (min_labelled, --min-labelled, MIN_LABELLED) to 0 to keep "
                      "every chip with a labelled pixel; training leaves unlabelled pixels out.")
    return ChipsResult(str(out), written, skipped)


def _write_label_chip(path: str, values: np.ndarray, image: gdal.Dataset, x: int, y: int) -> None:
    ds = create_byte_raster(path, image, 1, ["COMPRESS=DEFLATE"], (x, y, values.shape[1], values.shape[0]))
    ds.GetRasterBand(1).WriteArray(values)
    ds = None
