"""Chips folders: image chips paired with their label chips by name, the folder checked as a whole, and pairs read
(the chosen bands, with unusable pixels unlabelled)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal

from ..errors import GeoSegError, listed
from ..progress import Progress
from .classes import NODATA_CLASS
from .labels import read_classes
from .raster import open_raster, read_valid, same_crs

RASTER_SUFFIXES = (".tif", ".tiff")


@dataclass
class Chips:
    images: np.ndarray  # (N, H, W, B) float32, the selected bands
    labels: np.ndarray  # (N, H, W) uint8, NODATA_CLASS = unlabelled
    names: list[str]


def find_pairs(chips_dir: str, image_suffix: str = "", label_suffix: str = "") -> list[tuple[Path, Path]]:
    """Pair ``images/<stem><image_suffix>.tif`` with ``labels/<stem><label_suffix>.tif`` by stem; every image
    chip must have its label chip."""
    root = Path(chips_dir)
    folders = root / "images", root / "labels"
    for folder in folders:
        if not folder.is_dir():
            raise GeoSegError(f"{folder} is missing: a chips folder holds images/ and labels/ sub-folders "
                              "(make one with GeoSeg's Create chips).")

    def by_stem(folder: Path, suffix: str) -> dict[str, Path]:
        found = {}
        for path in folder.iterdir():
            if path.suffix.lower() in RASTER_SUFFIXES and path.stem.endswith(suffix):
                found[path.stem[: len(path.stem) - len(suffix)]] = path
        return found

    images, labels = by_stem(folders[0], image_suffix), by_stem(folders[1], label_suffix)
    stems = sorted(images.keys() & labels.keys())
    if not stems:
        raise GeoSegError(f"No image chip in {folders[0]} has a label chip of the same name in {folders[1]}: "
                          "check the folders, or set the image/label name suffixes.")
    unpaired = sorted(images.keys() - labels.keys())
    if unpaired:
        raise GeoSegError(f"{len(unpaired)} image chips in {folders[0]} have no label chip of the same name in "
                          f"{folders[1]}: {listed([images[s].name for s in unpaired])}. Add their labels, or "
                          "remove those images.")
    return [(images[s], labels[s]) for s in stems]


def check_chips(pairs: list[tuple[Path, Path]], bands: tuple[int, ...]) -> None:
    """Check a chips folder as a whole: every image chip with the same band count, size and data type, enough
    bands for ``bands``, every label chip on its image's grid, in its CRS. The message lists the odd chips out."""
    kinds, mismatched = {}, []
    for image_path, label_path in pairs:
        image, label = open_raster(image_path, "image chip"), open_raster(label_path, "label chip")
        kinds[image_path] = (f"{image.RasterCount} bands, {image.RasterXSize}×{image.RasterYSize} px, "
                             f"{gdal.GetDataTypeName(image.GetRasterBand(1).DataType)}")
        if ((image.RasterXSize, image.RasterYSize) != (label.RasterXSize, label.RasterYSize)
                or image.GetGeoTransform() != label.GetGeoTransform() or not same_crs(image, label)):
            mismatched.append(label_path.name)
    common, _ = Counter(kinds.values()).most_common(1)[0]
    odd = [f"{path.name} ({kind})" for path, kind in kinds.items() if kind != common]
    folder = pairs[0][0].parent
    if odd:
        raise GeoSegError(f"The image chips in {folder} differ: most have {common}, but {len(odd)} do not: "
                          f"{listed(odd)}. Cut every chip from one raster (GeoSeg's Create chips), or remove the odd "
                          "ones.")
    if mismatched:
        raise GeoSegError(f"{len(mismatched)} label chips in {pairs[0][1].parent} differ in size or pixel grid from "
                          f"their image chips: {listed(mismatched)}. Each label must cover its image pixel for pixel, "
                          "in its CRS.")
    count = open_raster(pairs[0][0], "image chip").RasterCount
    if max(bands) > count:
        raise GeoSegError(f"The image chips in {folder} have {count} bands; band {max(bands)} was asked for.")


def check_labelled(label_counts: np.ndarray, folder: Path) -> None:
    """Refuse chips without a labelled pixel (``label_counts``: pixels per label value 0–255)."""
    if not label_counts[:NODATA_CLASS].any():
        raise GeoSegError(f"No pixel of the label chips in {folder} is labelled: all are 255 (unlabelled) or lie on "
                          "nodata image pixels. Label chips hold class values 0, 1, 2, …; check the labels, or make "
                          "the chips again with GeoSeg's Create chips.")


def read_pair(image_path: Path, label_path: Path, bands: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """A chip's ``bands`` (H, W, B) float32 and labels (H, W) uint8 (:func:`read_classes`). Pixels that are
    nodata, NaN or infinite in any band are NaN in every band and unlabelled (255)."""
    image, invalid = read_valid(open_raster(image_path, "image chip"), bands)
    label = read_classes(open_raster(label_path, "label chip"), f"The label chip {label_path}", "label chip")
    label[invalid] = NODATA_CLASS
    return image, label


def load_chips(pairs: list[tuple[Path, Path]], bands: tuple[int, ...], progress: Progress | None = None) -> Chips:
    """Read every pair into memory (:func:`read_pair`), once :func:`check_chips` accepts the folder; some
    pixels must be labelled."""
    progress = progress or Progress()
    progress.update(0.0, f"Reading {len(pairs)} chips…")
    check_chips(pairs, bands)
    images, labels = [], []
    for i, (image_path, label_path) in enumerate(pairs):
        progress.check()
        image, label = read_pair(image_path, label_path, bands)
        images.append(image)
        labels.append(label)
        progress.update((i + 1) / len(pairs))
    labels = np.stack(labels)
    check_labelled(np.bincount(labels.ravel(), minlength=NODATA_CLASS + 1), pairs[0][1].parent)
    return Chips(np.stack(images), labels, [p[0].stem for p in pairs])
