"""What a model file records about its int8 copy, and the copy travelling inside it (training.models.int8)."""
import zipfile

from training.data.classes import class_scheme
from training.models import build_model
from training.models.bundle import INT8_ENTRY, ModelInfo, load_bundle, read_int8, save_bundle
from training.models.int8 import RECORD, int8_carried, missing_copy, summary

PASSED = {"used": True, "reason": None, "mean_iou_float32": 0.81234, "mean_iou_int8": 0.80987, "loss": 0.00247,
          "agreement": 0.9957, "windows": 12, "calibration_windows": 8, "max_loss": 0.005}
FAILED = {**PASSED, "used": False, "reason": "it lost 0.0123 mean IoU, more than 0.005", "mean_iou_int8": 0.80004,
          "loss": 0.0123}
NOT_MADE = {"used": False, "reason": "the onnxruntime package is not installed", "mean_iou_float32": None,
            "mean_iou_int8": None, "max_loss": 0.005}


def test_the_copy_is_carried_only_where_the_recorded_check_passed():
    assert int8_carried({RECORD: PASSED})
    assert not any(int8_carried(metrics) for metrics in ({RECORD: FAILED}, {RECORD: NOT_MADE}, {}))


def test_the_summary_gives_the_decision_and_its_figures():
    said = summary({RECORD: PASSED})
    assert said.startswith("int8: kept in the model file (the automatic precision")
    assert all(figure in said for figure in ("12 validation windows", "0.8123 in float32", "0.8099 in int8",
                                             "loss +0.0025", "0.0050 allowed", "99.57% of the pixels"))
    assert summary({RECORD: FAILED}).startswith("int8: not kept (it lost 0.0123 mean IoU, more than 0.005); on 12")
    assert summary({RECORD: NOT_MADE}) == "int8: no int8 copy (the onnxruntime package is not installed)."
    assert "written before GeoSeg made one" in summary({})


def test_asking_for_a_copy_a_model_file_lacks_says_why_and_what_to_do():
    assert missing_copy("m.keras", {RECORD: FAILED}) == (
        "The model file m.keras carries no int8 copy (its training kept none: it lost 0.0123 mean IoU, more than "
        "0.005): set the precision to auto or float32.")
    assert "written before GeoSeg made them; training it again makes one" in missing_copy("m.keras", {})


def test_the_copy_travels_inside_the_model_file(tmp_path):
    model = build_model("unet", 2, 2, base_filters=4, depth=2)
    info = ModelInfo("unet", [1, 2], class_scheme(["a", "b"]), {"method": "standard", "offset": [0, 0],
                                                                 "scale": [1, 1]})
    save_bundle(model, info, str(tmp_path / "with.keras"), int8=b"an ONNX model")
    save_bundle(model, info, str(tmp_path / "without.keras"))
    assert read_int8(str(tmp_path / "with.keras")) == b"an ONNX model"
    assert INT8_ENTRY in zipfile.ZipFile(tmp_path / "with.keras").namelist()
    assert read_int8(str(tmp_path / "without.keras")) is None
    assert load_bundle(str(tmp_path / "with.keras"))[0].count_params() == model.count_params()  # Keras ignores it
