import csv
import types
import zipfile

import numpy as np
import pytest

from synthetic import CLASS_NAMES, cut_chips, write_scene
from training.learn import callbacks, precision
from training.models.bundle import METADATA_ENTRY, ModelInfo, load_bundle, read_info
from training.config import TrainConfig
from training.progress import Progress
from training.learn.train import optimizer, train

TINY = {"base_filters": 4, "depth": 2}


@pytest.fixture(scope="module")
def chips(tmp_path_factory):
    return cut_chips(tmp_path_factory.mktemp("chips"), 256)


def config(chips, tmp_path, **overrides):
    values = dict(chips_dir=str(chips), output_model=str(tmp_path / "model.keras"), bands="rgb", epochs=4,
                  batch_size=8, learning_rate=0.01, model_options=TINY)
    return TrainConfig(**{**values, **overrides})


def test_training_lowers_the_loss_and_saves_a_complete_bundle(chips, tmp_path):
    result = train(config(chips, tmp_path))
    with open(result.history_path) as handle:
        history = list(csv.DictReader(handle))
    assert len(history) == result.epochs_run == 4
    assert float(history[-1]["loss"]) < float(history[0]["loss"])
    model, info = load_bundle(result.model_path)  # safe_mode=True
    assert info.bands == [4, 3, 2] and [c.name for c in info.classes] == CLASS_NAMES
    assert info.chip_size == 32 and info.training["chips"] == {"train": 45, "validation": 13, "test": 6}
    assert info.metrics["held_out"]["pixel_accuracy"] == result.test_metrics["pixel_accuracy"]
    assert model.predict(np.zeros((1, 32, 32, 3), np.float32), verbose=0).shape == (1, 32, 32, 3)
    assert METADATA_ENTRY in zipfile.ZipFile(result.model_path).namelist()


def test_training_is_reproducible_with_a_seed(chips, tmp_path):
    first = train(config(chips, tmp_path / "a", epochs=2))
    second = train(config(chips, tmp_path / "b", epochs=2))
    assert first.test_metrics["confusion_matrix"] == second.test_metrics["confusion_matrix"]


def test_cancel_keeps_the_best_model_so_far(chips, tmp_path):
    messages = []
    progress = Progress(lambda p, m: messages.append(m), lambda: any(m.startswith("Epoch 2/") for m in messages))
    result = train(config(chips, tmp_path, epochs=50), progress)
    assert result.cancelled and result.epochs_run <= 3
    assert read_info(result.model_path).metrics["best_epoch"] == result.best_epoch
    assert not list(tmp_path.glob(".*partial*"))


def test_the_job_says_what_it_does_before_the_first_epoch_ends(chips, tmp_path):
    reports = []
    train(config(chips, tmp_path, epochs=1), Progress(lambda percent, message: reports.append((percent, message))))
    assert reports[0] == (0.0, "Reading 64 chips…")
    messages = [message for _, message in reports if message]
    assert messages[1:3] == ["Building the U-Net (from scratch) for 3 bands and 3 classes…",
                             "Training on 45 chips (13 for validation, 6 held out): epoch 1 of at most 1…"]
    assert messages[3].startswith("Epoch 1/1:")


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
    assert resumed[1].endswith(f"epoch {done + 1} of at most 6…")
    assert [m.split(":")[0] for m in messages if m.startswith("Epoch")] == [f"Epoch {e}/6" for e in range(done + 1, 7)]
    assert second.epochs_run == 6 and not (tmp_path / "model.resume.npz").exists()
    with open(second.history_path) as handle:
        assert [int(row["epoch"]) for row in csv.DictReader(handle)] == list(range(6))


def test_balanced_weights_and_dice_train_too(chips, tmp_path):
    result = train(config(chips, tmp_path, epochs=2, class_weighting="balanced", dice_weight=1.0))
    assert 0.0 <= result.test_metrics["pixel_accuracy"] <= 1.0


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
    strips = info.training["strips"]
    assert strips["train"]["x1"] == strips["validation"]["x0"] and strips["validation"]["x1"] == strips["test"]["x0"]
    assert info.training["windows"]["size"] == 32 and info.training["windows"]["validation"] == 2
    assert [c.name for c in info.classes] == CLASS_NAMES and result.test_metrics["split"] == "test"
    assert result.epochs_run == 2 and 0 < result.test_metrics["mean_iou"] <= 1


def test_the_cosine_schedule_decays_to_zero_over_the_epochs():
    def rates(schedule):
        adamw = optimizer(TrainConfig("m.keras", epochs=10, learning_rate=0.01, schedule=schedule), 5)
        found = []
        for step in (0, 25, 50):
            adamw.iterations.assign(step)
            found.append(float(adamw.learning_rate))
        return found

    assert rates("cosine") == pytest.approx([0.01, 0.005, 0.0], abs=1e-7)
    assert rates("constant") == pytest.approx([0.01] * 3)


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
