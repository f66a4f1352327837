"""tf.data pipelines of (image, label, labelled mask) batches: chips streamed from their files, chips or tiles held
in memory, and a scene's random windows; augmented (the square's 8 symmetries, optionally radiometric jitter)
where training asks for it; and seeded samples of labelled training pixels (the per-pixel baseline's)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .classes import NODATA_CLASS
from .normalization import normalize_array
from .pairs import read_pair
from .windows import WindowSampler

SAMPLE_ROWS = 256  # rows of a scene looked at together when drawing training pixels (SceneWindows.pixels)


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

    def pixels(self, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``count`` labelled pixels drawn at random from every chip (:func:`sample_pixels`), read once more
        and normalised as training reads them."""
        def chips():
            for image_path, label_path in self.pairs:
                image, label = read_pair(image_path, label_path, self.bands)
                yield normalize_array(image, self.stats), label

        return sample_pixels(chips(), len(self.bands), count, seed)


def sample_pixels(chunks, bands: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded sample of up to ``count`` labelled pixels, drawn uniformly without replacement from ``chunks``
    of (normalised image (..., ``bands``), labels (...)): band values (N, bands) float32 and labels (N,) uint8.

    Every labelled pixel draws a random key and the ``count`` smallest keys win, so memory holds at most about
    twice ``count`` pixels however large the data; the same chunks and seed give the same sample."""
    rng = np.random.default_rng(seed)
    parts, held, threshold = [], 0, 1.0
    for image, label in chunks:
        labelled = label != NODATA_CLASS
        keys = rng.random(int(labelled.sum()))
        drawn = keys < threshold
        parts.append((keys[drawn], image[labelled][drawn], label[labelled][drawn]))
        held += int(drawn.sum())
        if held >= 2 * count:
            parts = [_smallest_keys(parts, count)]
            held, threshold = count, parts[0][0][-1] if count else 0.0
    if not parts:
        return np.zeros((0, bands), np.float32), np.zeros(0, np.uint8)
    _, values, labels = _smallest_keys(parts, count)
    return values.astype(np.float32), labels.astype(np.uint8)


def _smallest_keys(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], count: int):
    """The ``count`` pixels of ``parts`` (keys, values, labels) with the smallest keys, in the keys' order."""
    keys, values, labels = (np.concatenate(column) for column in zip(*parts))
    order = np.argsort(keys, kind="stable")[:count]
    return keys[order], values[order], labels[order]


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


def window_dataset(image: np.ndarray, labels: np.ndarray, sampler: WindowSampler, batch_size: int,
                   augment: bool = False, seed: int = 0, jitter: float = 0.0, shard: tuple[int, int] = (1, 0)):
    """Like :func:`to_dataset`, over windows of a normalised scene: new windows every epoch."""
    import tensorflow as tf

    size, bands = sampler.size, image.shape[-1]

    def windows():
        for y, x in sampler.windows():
            label = labels[y:y + size, x:x + size]
            yield image[y:y + size, x:x + size], label.astype(np.int32), (label != NODATA_CLASS).astype(np.float32)

    data = tf.data.Dataset.from_generator(windows, output_signature=(
        tf.TensorSpec((size, size, bands), tf.float32), tf.TensorSpec((size, size), tf.int32),
        tf.TensorSpec((size, size), tf.float32))).apply(tf.data.experimental.assert_cardinality(sampler.count))
    return _batched(data.shard(*shard), batch_size, augment, seed, jitter)


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
    """Random windows of a normalised scene, new ones every epoch."""

    image: np.ndarray
    labels: np.ndarray
    sampler: WindowSampler

    def __len__(self) -> int:
        return self.sampler.count

    def dataset(self, batch_size: int, augment: bool = False, seed: int = 0, jitter: float = 0.0,
                shard: tuple[int, int] = (1, 0)):
        return window_dataset(self.image, self.labels, self.sampler, batch_size, augment, seed, jitter, shard)

    def pixels(self, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``count`` labelled pixels drawn at random from the training area (``labels`` is 255 elsewhere;
        :func:`sample_pixels`), a block of rows at a time."""
        rows = SAMPLE_ROWS
        blocks = ((self.image[y:y + rows], self.labels[y:y + rows]) for y in range(0, len(self.labels), rows))
        return sample_pixels(blocks, self.image.shape[-1], count, seed)


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
