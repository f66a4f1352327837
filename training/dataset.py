"""Datasets: pair image and label chips, load the chosen bands, split, and feed tf.data (chips, or a scene's
windows)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal

from .classes import NODATA_CLASS
from .errors import GeoSegError
from .normalization import NormalizationFit, normalize_array
from .progress import Progress
from .raster import open_raster, read_bands, read_valid
from .windows import WindowSampler

RASTER_SUFFIXES = (".tif", ".tiff")


@dataclass
class Chips:
    images: np.ndarray  # (N, H, W, B) float32, the selected bands
    labels: np.ndarray  # (N, H, W) uint8, NODATA_CLASS = unlabelled
    names: list[str]


FEW = 5  # offending files a message lists


def listed(paths: list[str]) -> str:
    """The first :data:`FEW` of ``paths``, and how many more."""
    more = f" and {len(paths) - FEW} more" if len(paths) > FEW else ""
    return ", ".join(map(str, paths[:FEW])) + more


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
    bands for ``bands``, every label chip on its image's grid. The message lists the odd chips out."""
    kinds, mismatched = {}, []
    for image_path, label_path in pairs:
        image, label = open_raster(image_path, "image chip"), open_raster(label_path, "label chip")
        kinds[image_path] = (f"{image.RasterCount} bands, {image.RasterXSize}×{image.RasterYSize} px, "
                             f"{gdal.GetDataTypeName(image.GetRasterBand(1).DataType)}")
        if ((image.RasterXSize, image.RasterYSize) != (label.RasterXSize, label.RasterYSize)
                or image.GetGeoTransform() != label.GetGeoTransform()):
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
                          f"their image chips: {listed(mismatched)}. Each label must cover its image pixel for pixel.")
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
    """A chip's ``bands`` (H, W, B) float32 and labels (H, W) uint8. Pixels that are nodata, NaN or infinite in
    any band are NaN in every band and unlabelled (255)."""
    image, invalid = read_valid(open_raster(image_path, "image chip"), bands)
    label = read_bands(open_raster(label_path, "label chip"), (1,))[..., 0].astype(np.uint8)
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


@dataclass
class Survey:
    """What one pass over chip files finds, holding one chip at a time."""

    size: tuple[int, int]  # rows, columns
    label_counts: np.ndarray  # pixels per label value 0–255
    normalization: NormalizationFit | None


def survey_chips(pairs: list[tuple[Path, Path]], bands: tuple[int, ...], progress: Progress,
                 fit: NormalizationFit | None = None, size: tuple[int, int] | None = None) -> Survey:
    """Read every pair (checked by :func:`check_chips`), count its labels and, with ``fit``, fit the
    normalisation on its bands; every chip must be ``size`` (rows, columns) when given."""
    counts = np.zeros(NODATA_CLASS + 1, np.int64)
    for i, (image_path, label_path) in enumerate(pairs):
        progress.check()
        image, label = read_pair(image_path, label_path, bands)
        if size and label.shape != size:
            raise GeoSegError(f"{image_path} is {label.shape[1]}×{label.shape[0]} px but the training chips are "
                              f"{size[1]}×{size[0]}: all chips must share one size.")
        size = label.shape
        counts += np.bincount(label.ravel(), minlength=NODATA_CLASS + 1)
        if fit:
            fit.add(image)
        progress.update((i + 1) / len(pairs))
    return Survey(size, counts, fit)


@dataclass
class ChipFiles:
    """Chips read from their files as training consumes them, in parallel and a few batches ahead, so memory
    does not grow with their number; normalised with ``stats``."""

    pairs: list[tuple[Path, Path]]
    bands: tuple[int, ...]
    stats: dict
    size: tuple[int, int]

    def __len__(self) -> int:
        return len(self.pairs)

    def dataset(self, batch_size: int, augment: bool = False, seed: int = 0, jitter: float = 0.0,
                shard: tuple[int, int] = (1, 0)):
        """Batches of (image, label, labelled mask) as :func:`to_dataset` gives them; ``shard`` (count, index)
        keeps that share of the files."""
        import tensorflow as tf

        def read(image_path, label_path):
            image, label = read_pair(Path(image_path.decode()), Path(label_path.decode()), self.bands)
            return (normalize_array(image, self.stats), label.astype(np.int32),
                    (label != NODATA_CLASS).astype(np.float32))

        def read_example(image_path, label_path):
            image, label, mask = tf.numpy_function(read, [image_path, label_path], (tf.float32, tf.int32, tf.float32))
            rows, columns = self.size
            return (tf.ensure_shape(image, (rows, columns, len(self.bands))), tf.ensure_shape(label, self.size),
                    tf.ensure_shape(mask, self.size))

        paths = tf.data.Dataset.from_tensor_slices(([str(p[0]) for p in self.pairs], [str(p[1]) for p in self.pairs]))
        paths = paths.shard(*shard)
        if augment:
            paths = paths.shuffle(len(self.pairs), seed=seed, reshuffle_each_iteration=True)
        return _batched(paths.map(read_example, num_parallel_calls=tf.data.AUTOTUNE), batch_size, augment, seed,
                        jitter)


def split_indices(count: int, validation: float, test: float, seed: int,
                  need_validation: bool = True) -> tuple[np.ndarray, ...]:
    """Deterministic train/validation/test indices; shares below 1 are fractions, 1 or more are counts."""
    def size(share: float) -> int:
        return int(share) if share >= 1 else int(round(share * count))

    n_val, n_test = size(validation), size(test)
    if n_val < 1 and need_validation:
        raise GeoSegError(f"A validation share of {validation} leaves no validation chip out of {count}: raise it.")
    if count - n_val - n_test < 1:
        raise GeoSegError(f"{count} chips cannot give {n_val} validation and {n_test} test chips and still train: "
                          "make more chips or lower the shares.")
    order = np.random.default_rng(seed).permutation(count)
    return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]


def to_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int, augment: bool = False, seed: int = 0,
               jitter: float = 0.0, shard: tuple[int, int] = (1, 0)):
    """A batched tf.data pipeline of (image, label, labelled mask), shuffled and augmented when ``augment``.

    Labels keep 255 for unlabelled pixels (the loss masks them); the mask weights the metrics.
    """
    import tensorflow as tf

    mask = (labels != NODATA_CLASS).astype(np.float32)
    data = tf.data.Dataset.from_tensor_slices((images, labels.astype(np.int32), mask)).shard(*shard).cache()
    if augment:
        data = data.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    return _batched(data, batch_size, augment, seed, jitter)


def window_dataset(image: np.ndarray, labels: np.ndarray, sampler: WindowSampler, batch_size: int, seed: int = 0,
                   jitter: float = 0.0, shard: tuple[int, int] = (1, 0)):
    """Like :func:`to_dataset`, augmented, over windows of a normalised scene: new windows every epoch."""
    import tensorflow as tf

    size, bands = sampler.size, image.shape[-1]

    def windows():
        for y, x in sampler.windows():
            label = labels[y:y + size, x:x + size]
            yield image[y:y + size, x:x + size], label.astype(np.int32), (label != NODATA_CLASS).astype(np.float32)

    data = tf.data.Dataset.from_generator(windows, output_signature=(
        tf.TensorSpec((size, size, bands), tf.float32), tf.TensorSpec((size, size), tf.int32),
        tf.TensorSpec((size, size), tf.float32))).apply(tf.data.experimental.assert_cardinality(sampler.count))
    return _batched(data.shard(*shard), batch_size, True, seed, jitter)


@dataclass
class ChipArrays:
    """Normalised chips or tiles held in memory (a scene's validation and test tiles)."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.images)

    @property
    def size(self) -> tuple[int, int]:
        """Rows and columns of each chip or tile."""
        return self.images.shape[1:3]

    def dataset(self, batch_size: int, augment: bool = False, seed: int = 0, jitter: float = 0.0,
                shard: tuple[int, int] = (1, 0)):
        return to_dataset(self.images, self.labels, batch_size, augment, seed, jitter, shard)


@dataclass
class SceneWindows:
    """Random windows of a normalised scene, new ones every epoch (always augmented)."""

    image: np.ndarray
    labels: np.ndarray
    sampler: WindowSampler

    def __len__(self) -> int:
        return self.sampler.count

    def dataset(self, batch_size: int, augment: bool = True, seed: int = 0, jitter: float = 0.0,
                shard: tuple[int, int] = (1, 0)):
        return window_dataset(self.image, self.labels, self.sampler, batch_size, seed, jitter, shard)


def _batched(data, batch_size: int, augment: bool, seed: int, jitter: float):
    """Augment (stateless random ops keyed by a seeded random stream: the same seed gives the same run), batch.

    tf.data's autotuning is off: dropping a spent iterator waited for its tuning thread, which stalled
    training for 7–10 s at the start of about every other epoch (TensorFlow 2.21, 2 cores). Without it, the
    parallel reads and augmentation take one thread per core."""
    import tensorflow as tf

    if augment:
        keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        data = tf.data.Dataset.zip((data, keys)).map(lambda example, key: _augment(example, key, jitter),
                                                     num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.autotune.enabled = False
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE).with_options(options)


def _augment(example, key, jitter: float):
    """Turn by a random multiple of 90° and maybe mirror (the 8 symmetries of a square), then scale and shift
    each normalised band by normal draws of standard deviation ``jitter`` (radiometric jitter)."""
    import tensorflow as tf

    image, label, weight = example
    seed = tf.stack([key, key // 7 + 1])
    stacked = tf.concat([image, tf.cast(label[..., None], image.dtype), weight[..., None]], axis=-1)
    stacked = tf.image.rot90(stacked, k=tf.random.stateless_uniform((), seed, 0, 4, dtype=tf.int32))
    stacked = tf.image.stateless_random_flip_left_right(stacked, seed + 1)
    image = stacked[..., :-2]
    if jitter:
        bands = tf.shape(image)[-1:]
        gain = 1.0 + tf.random.stateless_normal(bands, seed + 2, stddev=jitter)
        image = image * gain + tf.random.stateless_normal(bands, seed + 3, stddev=jitter)
    return image, tf.cast(stacked[..., -2], tf.int32), stacked[..., -1]
