import csv
import html
import re
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from scipy import ndimage

from synthetic import CLASS_NAMES, cut_chips, scene, write_raster, write_scene
from training.learn import callbacks, decision, precision
from training.learn import train as train_module
from training.learn.baseline import recorded_decision
from training.learn.flips import MIN_GAIN
from training.models.flips import summary as flip_summary
from training.models.int8 import summary as int8_summary
from training.models.bundle import METADATA_ENTRY, ModelInfo, load_bundle, read_info, read_int8, read_pixels
from training.models.pixel_blend import PREFIX as BLEND_PREFIX
from training.models.pixel_blend import RECORD as BLEND_RECORD
from training.models.pixel_blend import summary as blend_summary
from training.config import BLEND_MIN_GAIN, BLEND_WEIGHTS, INT8_MAX_LOSS, TrainConfig
from training.data.windows import EVAL_TILE, Block, tile_arrays
from training.errors import GeoSegError
from training.progress import Progress
from training.learn.train import prepare, train

TINY = {"base_filters": 4, "depth": 2}


@pytest.fixture(scope="module")
def chips(tmp_path_factory):
    return cut_chips(tmp_path_factory.mktemp("chips"), 256)


def config(chips, tmp_path, **overrides):
    values = dict(chips_dir=str(chips), output_model=str(tmp_path / "model.keras"), bands="rgb", epochs=4,
                  batch_size=8, learning_rate=0.01, model_options=TINY, pixel_blend=False)  # its cost where not tested
    return TrainConfig(**{**values, **overrides})


def test_training_lowers_the_loss_and_saves_a_complete_bundle(chips, tmp_path):
    result = train(config(chips, tmp_path, pixel_blend=True))
    with open(result.history_path) as handle:
        history = list(csv.DictReader(handle))
    assert len(history) == result.epochs_run == 4
    assert float(history[-1]["loss"]) < float(history[0]["loss"])
    model, info = load_bundle(result.model_path)  # safe_mode=True
    assert info.bands == [4, 3, 2] and [c.name for c in info.classes] == CLASS_NAMES
    assert info.chip_size == 32 and info.training["chips"] == {"train": 52, "validation": 6, "test": 6}
    assert info.metrics["held_out"]["pixel_accuracy"] == result.test_metrics["pixel_accuracy"]
    assert model.predict(np.zeros((1, 32, 32, 3), np.float32), verbose=0).shape == (1, 32, 32, 3)
    assert METADATA_ENTRY in zipfile.ZipFile(result.model_path).namelist()
    flips = info.metrics["flip_average"]  # the validation chips scored without and with flip averaging
    assert flips["windows"] == 6 and flips["gain"] == flips["mean_iou_flipped"] - flips["mean_iou_plain"]
    assert flips["on"] == (flips["gain"] > max(MIN_GAIN, flips["noise"]))
    assert flip_summary(info.metrics) in Path(result.report_path).read_text()
    blend = info.metrics[BLEND_RECORD]  # a per-pixel network fitted on the kept pixels, weighed on validation
    assert blend["pixels"] == len(read_pixels(result.model_path)[1]) and blend["weight"] in BLEND_WEIGHTS
    best = max(blend["mean_iou_by_weight"], key=blend["mean_iou_by_weight"].get)
    assert blend["weight"] == (float(best) if blend["gain"] > BLEND_MIN_GAIN else 0.0)
    assert (BLEND_PREFIX in [layer.name for layer in model.layers]) == (blend["weight"] > 0)
    assert html.escape(blend_summary(info.metrics)) in Path(result.report_path).read_text()
    int8 = info.metrics["int8"]  # quantized, calibrated on training windows, checked on the validation chips
    assert int8["windows"] == 6 and int8["calibration_windows"] == 8
    assert int8["used"] == (int8["loss"] <= INT8_MAX_LOSS) and int8["agreement"] > 0.9
    assert (read_int8(result.model_path) is not None) == int8["used"]
    assert int8_summary(info.metrics) in Path(result.report_path).read_text()


def test_the_same_seed_gives_the_same_weights(chips, tmp_path):
    first, second, other = (load_bundle(train(config(chips, tmp_path / name, epochs=2, seed=seed)).model_path)[0]
                            for name, seed in (("a", 0), ("b", 0), ("c", 1)))
    for mine, again in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(mine, again)
    assert not all(np.array_equal(mine, theirs) for mine, theirs in zip(first.get_weights(), other.get_weights()))


def test_cancel_keeps_the_best_model_so_far(chips, tmp_path):
    messages = []
    progress = Progress(lambda p, m: messages.append(m), lambda: any(m.startswith("Epoch 2/") for m in messages))
    result = train(config(chips, tmp_path, epochs=50, pixel_blend=True), progress)
    assert result.cancelled and result.epochs_run <= 3
    metrics = read_info(result.model_path).metrics
    assert metrics["best_epoch"] == result.best_epoch
    assert not list(tmp_path.glob(".*partial*"))
    assert not any(m.startswith(("Scoring the validation windows with and without", "Quantizing")) for m in messages)
    assert flip_summary(metrics).endswith("off for the automatic choice, not measured (training was cancelled).")
    assert blend_summary(metrics) == "Per-pixel blend: none, not measured (training was cancelled)."
    assert int8_summary(metrics) == "int8: no int8 copy (training was cancelled)."


def test_the_job_says_what_it_does_before_the_first_epoch_ends(chips, tmp_path):
    reports = []
    train(config(chips, tmp_path, epochs=1), Progress(lambda percent, message: reports.append((percent, message))))
    assert reports[0] == (0.0, "Reading 64 chips…")
    messages = [message for _, message in reports if message]
    assert messages[1:3] == ["Building the U-Net (from scratch) for 3 bands and 3 classes…",
                             "Training on 52 chips (6 for validation, 6 held out): epoch 1 of 1…"]
    assert messages[3].startswith("Epoch 1/1:")


def test_the_bar_moves_batch_by_batch_and_each_epoch_says_the_time_left(chips, tmp_path):
    reports = []
    train(config(chips, tmp_path, epochs=2), Progress(lambda percent, message: reports.append((percent, message))))
    start = next(i for i, (_, message) in enumerate(reports) if message.startswith("Training on"))
    end = next(i for i, (_, message) in enumerate(reports) if message.startswith("Epoch 1/2:"))
    within = [percent for percent, message in reports[start + 1:end] if not message]
    assert len(within) >= 4  # 6 batches in the first epoch
    assert within == sorted(within) and reports[start][0] < within[0] and within[-1] <= reports[end][0]
    assert reports[end][1].endswith(" left")  # the time left at the pace of the first epoch
    assert reports[end][0] == pytest.approx(50)  # training spans 5-95 % of the bar: half its steps are done


def test_an_unknown_model_is_an_error_before_any_chip_is_read(chips, tmp_path):
    reports = []
    with pytest.raises(ValueError, match="'unet3d' is unknown"):
        train(config(chips, tmp_path, architecture="unet3d"), Progress(lambda *report: reports.append(report)))
    assert reports == []


def test_more_label_values_than_class_names_is_an_error(chips, tmp_path):
    with pytest.raises(ValueError, match="name every class 0..2"):
        train(config(chips, tmp_path, class_names=["water", "land"]))


def test_an_interrupted_run_resumes_from_its_last_epoch(chips, tmp_path):
    messages = []
    progress = Progress(lambda p, m: messages.append(m), lambda: any(m.startswith("Epoch 2/") for m in messages))
    first = train(config(chips, tmp_path, epochs=6, patience=50), progress)
    assert first.cancelled and (tmp_path / "model.resume.npz").exists()
    done = first.epochs_run
    messages.clear()
    second = train(config(chips, tmp_path, epochs=6, patience=50, resume=True),
                   Progress(lambda p, m: messages.append(m)))
    resumed = [m for m in messages if m.startswith(("Resuming", "Training"))]
    assert resumed[0].startswith(f"Resuming after epoch {done} ")
    assert resumed[1].endswith(f"epoch {done + 1} of 6…")
    assert [m.split(":")[0] for m in messages if m.startswith("Epoch")] == [f"Epoch {e}/6" for e in range(done + 1, 7)]
    assert second.epochs_run == 6 and not (tmp_path / "model.resume.npz").exists()
    with open(second.history_path) as handle:
        assert [int(row["epoch"]) for row in csv.DictReader(handle)] == list(range(6))


def test_balanced_weights_and_dice_train_too_and_int8_can_be_left_out(chips, tmp_path):
    result = train(config(chips, tmp_path, epochs=2, class_weighting="balanced", dice_weight=1.0, int8=False))
    assert 0.0 <= result.test_metrics["pixel_accuracy"] <= 1.0
    assert read_info(result.model_path).metrics["int8"]["reason"] == "not asked for: training ran with int8 off"
    assert read_int8(result.model_path) is None


def test_starting_from_an_earlier_model_copies_its_weights(chips, tmp_path):
    first = train(config(chips, tmp_path / "a", epochs=1))
    second = train(config(chips, tmp_path / "b", epochs=1, init_model=first.model_path, learning_rate=1e-9))
    old, new = load_bundle(first.model_path)[0], load_bundle(second.model_path)[0]
    np.testing.assert_allclose(new.get_layer("down1_conv1").get_weights()[0],
                               old.get_layer("down1_conv1").get_weights()[0], atol=1e-6)


def test_training_straight_from_a_raster_keeps_validation_apart(tmp_path):
    image, labels = write_scene(tmp_path, 320, 96)
    result = train(TrainConfig(output_model=str(tmp_path / "model.keras"), image_raster=str(image),
                               label_raster=str(labels), bands="rgb", window_size=32, windows_per_epoch=24, epochs=2,
                               batch_size=8, model_options=TINY))
    info = read_info(result.model_path)
    blocks = info.training["blocks"]
    assert len(blocks["validation"]) >= 1 and len(blocks["test"]) >= 1 and info.training["buffer"] == 16
    assert info.training["windows"]["size"] == 32 and info.training["windows"]["validation"] >= 2
    assert [c.name for c in info.classes] == CLASS_NAMES and result.test_metrics["split"] == "test"
    assert result.epochs_run == 2 and 0 < result.test_metrics["mean_iou"] <= 1
    truth = gdal.Open(str(labels)).ReadAsArray()  # the held-out tiles, each scored whole for its objects
    _, tiles = tile_arrays(np.zeros((*truth.shape, 1)), truth, tuple(Block(**b) for b in blocks["test"]), EVAL_TILE)
    for name, objects in result.test_metrics["objects"].items():
        value = CLASS_NAMES.index(name)
        assert objects["reference"] == sum(ndimage.label(tile == value, np.ones((3, 3)))[1] for tile in tiles)
    assert len(result.test_metrics["objects"]) == 2  # every class but the most frequent one


def test_the_cosine_schedule_warms_up_then_decays_to_zero_over_the_steps_or_the_time_limit(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(callbacks.time, "monotonic", lambda: clock[0])
    model = types.SimpleNamespace(optimizer=types.SimpleNamespace(iterations=np.int64(0)), stop_training=False)
    schedule = callbacks.Schedule(0.01, "cosine", steps=1000)
    schedule.set_model(model)

    def rate_at(step):
        model.optimizer.iterations = np.int64(step)
        schedule.on_train_batch_begin(0)
        return model.optimizer.learning_rate

    assert [rate_at(s) for s in (0, 25, 50, 525, 1000)] == pytest.approx([0.0002, 0.0052, 0.01, 0.005, 0.0], abs=1e-9)
    assert callbacks.Schedule(0.01, "constant", 1000).learning_rate(0.6) == 0.01
    timed = callbacks.Schedule(0.01, "cosine", steps=1000, seconds_limit=60.0)
    timed.set_model(model)
    timed.on_train_begin()
    model.optimizer.iterations = np.int64(0)
    clock[0] += 20.0  # the first step, building the graph, does not count
    timed.on_train_batch_end(0)
    assert timed.position() == 0.0
    model.optimizer.iterations = np.int64(10)
    clock[0] += 30.0  # half the time, 1 % of the steps: half-way
    assert timed.position() == pytest.approx(0.5) and not model.stop_training
    clock[0] += 30.0
    timed.on_train_batch_end(0)
    assert model.stop_training
    logs = {}
    timed.on_epoch_end(0, logs)
    assert logs["seconds"] == pytest.approx(60.0)


def test_recomputed_batch_norm_statistics_are_the_mean_over_the_batches():
    import keras

    inputs = keras.Input((4, 4, 2))
    model = keras.Model(inputs, keras.layers.BatchNormalization(momentum=0.9)(inputs))
    batches = [np.random.default_rng(i).normal(i, 1 + i, (3, 4, 4, 2)).astype(np.float32) for i in range(4)]
    callbacks.recompute_batch_norm(model, batches)
    norm = model.layers[-1]
    expected_mean = np.mean([b.mean(axis=(0, 1, 2)) for b in batches], axis=0)
    expected_variance = np.mean([b.var(axis=(0, 1, 2)) for b in batches], axis=0)
    np.testing.assert_allclose(norm.moving_mean.numpy(), expected_mean, rtol=1e-5)
    np.testing.assert_allclose(norm.moving_variance.numpy(), expected_variance, rtol=1e-4)
    assert norm.momentum == 0.9


def test_the_saved_model_is_the_average_of_the_last_quarter_of_the_epochs(chips, tmp_path, monkeypatch):
    snapshots = []
    entered = callbacks.WeightAverage.on_epoch_end

    def record(self, epoch, logs=None):
        count = self.count
        entered(self, epoch, logs)
        if self.count > count:
            snapshots.append(self.model.get_layer("down1_conv1").get_weights()[0])

    monkeypatch.setattr(callbacks.WeightAverage, "on_epoch_end", record)
    result = train(config(chips, tmp_path, epochs=8))
    model, info = load_bundle(result.model_path)
    assert info.metrics["averaged_epochs"] == [6, 8] and len(snapshots) == 3
    np.testing.assert_allclose(model.get_layer("down1_conv1").get_weights()[0], np.mean(snapshots, axis=0),
                               rtol=1e-5, atol=1e-6)


def test_a_time_limit_ends_training_as_its_length_would(chips, tmp_path):
    result = train(config(chips, tmp_path, epochs=500, max_minutes=0.1))
    info = read_info(result.model_path)
    assert not result.cancelled and result.epochs_run < 500 and result.report_path
    assert info.metrics["averaged_epochs"][1] == result.epochs_run and info.metrics["held_out"]["mean_iou"] >= 0
    assert not (tmp_path / "model.resume.npz").exists()


def test_early_stopping_follows_the_validation_mean_iou_not_the_loss(monkeypatch, tmp_path):
    saved = []
    monkeypatch.setattr(callbacks, "save_bundle", lambda model, info, path: saved.append(info.metrics["best_epoch"]))
    checkpoint = callbacks.Checkpoint(ModelInfo("unet", [1], [], {}), str(tmp_path / "m.keras"), patience=2)
    checkpoint.write_resume_point = lambda: None
    checkpoint.set_model(types.SimpleNamespace(stop_training=False))
    history = [(0.9, 0.50), (0.8, 0.60), (0.7, 0.55), (0.6, 0.58), (0.5, 0.59)]  # loss falls, IoU peaks at 2
    for epoch, (loss, iou) in enumerate(history):
        checkpoint.on_epoch_end(epoch, {"val_loss": loss, "val_mean_iou": iou})
        if checkpoint.model.stop_training:
            break
    assert saved == [1, 2] and checkpoint.best_epoch == 2 and checkpoint.state["best_score"] == 0.6 and epoch == 3
    with open(tmp_path / "m.history.csv") as handle:
        assert [row["val_mean_iou"] for row in csv.DictReader(handle)] == ["0.5", "0.6", "0.55", "0.58"]


@pytest.mark.parametrize(("gpu", "native", "policy"), [(True, True, "mixed_float16"), (False, True, "mixed_bfloat16"),
                                                       (False, False, "float32")])
def test_auto_precision_follows_the_hardware(monkeypatch, gpu, native, policy):
    monkeypatch.setattr(precision, "gpu_visible", lambda: gpu)
    monkeypatch.setattr(precision, "native_bfloat16", lambda: native)
    assert precision.training_policy("auto") == policy
    assert precision.training_policy("float32") == "float32"
    assert precision.training_policy("bfloat16") == "mixed_bfloat16"


@pytest.mark.parametrize(("gpu", "policy"), [(False, "mixed_bfloat16"), (True, "mixed_float16")])
def test_mixed_precision_trains_and_saves_a_float32_model(chips, tmp_path, monkeypatch, gpu, policy):
    monkeypatch.setattr(precision, "gpu_visible", lambda: gpu)  # float16 with loss scaling: a GPU's choice
    monkeypatch.setattr(precision, "native_bfloat16", lambda: True)
    result = train(config(chips, tmp_path, epochs=2))
    model, info = load_bundle(result.model_path)
    assert info.training["dtype_policy"] == policy
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
    assert 0 <= result.test_metrics["mean_iou"] <= 1


def test_a_class_training_cannot_spare_is_named_in_a_warning(tmp_path):
    image, labels = scene(512, 256)
    labels[labels == 2] = 1
    labels[:16, :16] = 2  # one block holds the only "class 2" pixels: training keeps it
    paths = (write_raster(tmp_path / "image.tif", image),
             write_raster(tmp_path / "labels.tif", labels, category_names=CLASS_NAMES))
    messages = []
    prepare(TrainConfig("m.keras", image_raster=str(paths[0]), label_raster=str(paths[1]), window_size=32),
            Progress(lambda percent, message: messages.append(message)))
    warnings = [m for m in messages if m.startswith("WARNING: ")]
    assert [m.split(":")[1] for m in warnings] == [f" No {part} block holds {CLASS_NAMES[2]}" for part in
                                                   ("validation", "test")]


def test_several_rasters_train_as_one_mosaic_with_held_out_blocks_in_each(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first, second = write_scene(tmp_path / "a", 320, 96, seed=0), write_scene(tmp_path / "b", 96, 320, seed=5)
    result = train(TrainConfig(output_model=str(tmp_path / "model.keras"), image_raster=str(first[0]),
                               label_raster=str(first[1]), more_images=[str(second[0])],
                               more_labels=[str(second[1])], bands="rgb", window_size=32, windows_per_epoch=24,
                               epochs=1, batch_size=8, model_options=TINY))
    training = read_info(result.model_path).training
    assert training["more_images"] == [str(second[0])] and len(training["mosaic_corners"]) == 2
    (y0, x0), (y1, x1) = training["mosaic_corners"]
    spans = [(y0, x0, 96, 320), (y1, x1, 320, 96)]  # each scene's rows and columns in the mosaic
    held = training["blocks"]["validation"] + training["blocks"]["test"]
    inside = {i for b in held for i, (y, x, h, w) in enumerate(spans)
              if b["y0"] < y + h and b["y1"] > y and b["x0"] < x + w and b["x1"] > x}
    assert inside == {0, 1}  # both scenes hold out pixels
    assert 0 < result.test_metrics["mean_iou"] <= 1


def test_a_rare_class_gets_its_share_of_windows_and_the_log_says_so(tmp_path):
    image, labels = scene(256, 256)
    labels[labels == 2] = 1
    labels[::40, ::40] = 2  # 49 px: a rare class, spread so that every part holds some
    paths = (write_raster(tmp_path / "image.tif", image),
             write_raster(tmp_path / "labels.tif", labels, category_names=CLASS_NAMES))
    messages = []
    data = prepare(TrainConfig("m.keras", image_raster=str(paths[0]), label_raster=str(paths[1]), window_size=32,
                               windows_per_epoch=100), Progress(lambda percent, message: messages.append(message)))
    assert data.record["windows"]["rare_classes"] == [CLASS_NAMES[2]]
    assert data.record["windows"]["rare_per_epoch"] == 50  # the declared default share, 0.5
    assert any(m.startswith(f"Rare classes ({CLASS_NAMES[2]} 0.") for m in messages)
    off = prepare(TrainConfig("m.keras", image_raster=str(paths[0]), label_raster=str(paths[1]), window_size=32,
                              windows_per_epoch=100, rare_windows=0), Progress())
    assert off.record["windows"]["rare_per_epoch"] == 0


def test_training_with_a_rare_class_tunes_its_decision_and_saves_the_rule(tmp_path, monkeypatch):
    image, labels = scene(256, 256)
    labels[labels == 2] = 1
    labels[::40, ::40] = 2
    paths = (write_raster(tmp_path / "image.tif", image),
             write_raster(tmp_path / "labels.tif", labels, category_names=CLASS_NAMES))
    folded = []
    monkeypatch.setattr(decision, "MIN_GAIN", -1.0)  # keep the best factor whatever its gain: the rule is saved
    monkeypatch.setattr(train_module, "fold_factors", lambda model, factors: folded.append(factors) or
                        decision.fold_factors(model, factors))
    result = train(TrainConfig(str(tmp_path / "m.keras"), image_raster=str(paths[0]), label_raster=str(paths[1]),
                               window_size=32, windows_per_epoch=16, epochs=1, batch_size=8, model_options=TINY))
    metrics = read_info(result.model_path).metrics
    rule = metrics["rare_decision"]
    assert list(rule) == [CLASS_NAMES[2]] and rule[CLASS_NAMES[2]]["factor"] == folded[0][2]
    assert folded[0][:2].tolist() == [1.0, 1.0]
    own = metrics["pixel_baseline"]["rare_decision"]  # the per-pixel baseline's own, tuned alike
    assert list(own) == [CLASS_NAMES[2]] and own[CLASS_NAMES[2]]["factor"] in decision.FACTORS
    assert recorded_decision(metrics) == own


@pytest.mark.parametrize("extra, message", [
    ({"more_images": ["b.tif"]}, "needs a label raster for each: 2 raster(s) and 1 label raster(s)"),
    ({"more_images": ["BANDS"], "more_labels": ["LABELS"]}, "has 3 bands"),
])
def test_more_rasters_without_their_labels_or_with_other_bands_are_refused(tmp_path, extra, message):
    image, labels = write_scene(tmp_path, 128, 128)
    three = write_raster(tmp_path / "three.tif", scene(128, 128)[0][:3])
    extra = {k: [str(three) if v == "BANDS" else str(labels) if v == "LABELS" else v for v in vs]
             for k, vs in extra.items()}
    with pytest.raises(GeoSegError, match=re.escape(message)):
        prepare(TrainConfig("m.keras", image_raster=str(image), label_raster=str(labels), **extra), Progress())
