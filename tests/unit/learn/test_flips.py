import keras
import numpy as np

from training.data.classes import class_scheme
from training.learn.flips import MIN_GAIN, flip_decision

CLASSES = class_scheme(["a", "b"])


def looking_sideways(right: float) -> keras.Model:
    """Class logits from one-hot class bands: the pixel's own weighs 1, its right neighbour's ``right``, its left
    neighbour's nothing. With ``right`` 2 the model is wrong left of every class boundary and its left-right
    mirror image right there; with ``right`` 0 it reads each pixel alone, so mirroring changes nothing."""
    images = keras.Input((None, None, 2))
    convolution = keras.layers.Conv2D(2, (1, 3), padding="same", use_bias=False, activation="softmax")
    model = keras.Model(images, convolution(images))
    kernel = np.zeros((1, 3, 2, 2), np.float32)
    kernel[0, 1] = np.eye(2)
    kernel[0, 2] = right * np.eye(2)
    convolution.set_weights([kernel])
    return model


def striped_windows(count: int, seed: int = 0):
    """Batches of 16×16 windows of vertical class stripes, at least 3 px wide, changing at random columns:
    (one-hot image, labels, mask)."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((count, 16, 16), np.uint8)
    for window in labels:
        for column in rng.choice(np.arange(2, 15, 3), size=rng.integers(1, 4), replace=False):
            window[:, column:] = 1 - window[:, column:]
    images = np.eye(2, dtype=np.float32)[labels]
    return [(images[i:i + 2], labels[i:i + 2], np.ones_like(labels[i:i + 2])) for i in range(0, count, 2)]


def test_flip_averaging_is_switched_on_where_it_mends_the_model_by_more_than_the_noise():
    record = flip_decision(looking_sideways(2.0), striped_windows(8), CLASSES)
    assert record["windows"] == 8 and record["min_gain"] == MIN_GAIN
    assert record["mean_iou_flipped"] == 1.0 and record["mean_iou_plain"] < 0.9  # mirrored views mend the stripes
    assert record["gain"] == record["mean_iou_flipped"] - record["mean_iou_plain"] > record["noise"] > 0
    assert record["on"]


def test_flip_averaging_stays_off_where_it_changes_nothing_or_the_noise_is_unknown():
    alone = flip_decision(looking_sideways(0.0), striped_windows(8), CLASSES)
    assert alone["gain"] == 0 and alone["noise"] == 0 and not alone["on"]
    one = flip_decision(looking_sideways(2.0), striped_windows(1), CLASSES)  # one window: no spread to judge by
    assert one["windows"] == 1 and one["gain"] > MIN_GAIN and one["noise"] is None and not one["on"]
