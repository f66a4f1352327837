"""Export to ONNX (training.models.export): every registered architecture converts, ONNX Runtime answers Keras'
probabilities from raw values scaled as Deepness scales them, and the metadata is what Deepness reads. Export to
LiteRT: the interpreter answers Keras' probabilities from raw values, and the STAC item says how to feed it."""
import json

import keras
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from ai_edge_litert.interpreter import Interpreter

from training.architectures import ARCHITECTURES
from training.config import ExportConfig
from training.data.classes import class_scheme
from training.data.normalization import normalize
from training.errors import GeoSegError
from training.jobs import run_job
from training.models import build_model
from training.models.bundle import ModelInfo, save_bundle
from training.models.export import export_model

BANDS = [2, 3, 4, 8, 11]
SMALL = {"unet": {"base_filters": 4, "depth": 2}, "unet_vgg16": {"decoder_filters": (8, 8, 8, 8)},  # else defaults
         "unet_vgg19": {"decoder_filters": (8, 8, 8, 8)}, "deeplabv3_resnet50": {"filters": 16}}
STATS = {"method": "standard", "offset": [900.0, 1000.0, 1100.0, 2000.0, 1500.0], "scale": [300.0, 350.0, 400.0,
                                                                                           800.0, 600.0]}
TILE = 64  # the exported graph's fixed sides
HELD_OUT = {"split": "test", "pixels": 4096, "pixel_accuracy": 0.91, "mean_iou": 0.8, "mean_f1": 0.88,
            "iou": {"Water": 0.9, "Forest": 0.7, "Open land": 0.8}, "f1": {"Water": 0.95, "Forest": 0.8,
                                                                          "Open land": 0.89},
            "confusion_matrix": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}


@pytest.fixture(scope="module", params=list(ARCHITECTURES))
def exported(request, tmp_path_factory):
    """Each registered architecture, tiny, saved with held-out scores and exported: (network, ONNX path)."""
    keras.utils.set_random_seed(0)
    network = build_model(request.param, len(BANDS), 3, **SMALL.get(request.param, {}))
    folder = tmp_path_factory.mktemp(request.param)
    info = ModelInfo(request.param, BANDS, class_scheme(["Water", "Forest", "Open land"]), STATS,
                     metrics={"held_out": HELD_OUT})
    save_bundle(network, info, str(folder / "model.keras"))
    result = run_job("export", {"model_path": str(folder / "model.keras"), "output_path": str(folder / "model.onnx"),
                                "tile_size": TILE, "overlap": 16})
    assert result == {"output_path": str(folder / "model.onnx"), "stac_item": str(folder / "model.json")}
    return network, folder / "model.onnx"


def deepness_input(raw: np.ndarray, metadata: dict) -> np.ndarray:
    """Raw (N, H, W, B) values as Deepness feeds them: divided by 255, standardised, channels first."""
    mean, std = (np.asarray(json.loads(metadata[key]), np.float32) for key in ("standardization_mean",
                                                                                  "standardization_std"))
    return ((raw / 255 - mean) / std).transpose(0, 3, 1, 2).astype(np.float32)


def test_onnx_runtime_answers_the_networks_probabilities(exported):
    network, path = exported
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    raw = np.random.default_rng(0).uniform(0, 4000, (2, TILE, TILE, len(BANDS))).astype(np.float32)
    (got,) = session.run(None, {"input": deepness_input(raw, session.get_modelmeta().custom_metadata_map)})
    expected = network.predict(normalize(raw, STATS), verbose=0)
    assert got.shape == (2, 3, TILE, TILE)
    np.testing.assert_allclose(got.transpose(0, 2, 3, 1), expected, rtol=0, atol=1e-4)
    np.testing.assert_allclose(got.sum(axis=1), 1, atol=1e-5)  # softmax probabilities


def test_the_metadata_is_deepness_convention(exported):
    _, path = exported
    model = onnx.load(str(path))
    metadata = {prop.key: json.loads(prop.value) for prop in model.metadata_props}
    assert metadata["model_type"] == "Segmentor"
    assert metadata["class_names"] == {"0": "Water", "1": "Forest", "2": "Open land"}
    assert (metadata["resolution"], metadata["tiles_size"], metadata["tile_size"]) == (1000.0, TILE, TILE)
    assert (metadata["tiles_overlap"], metadata["seg_thresh"], metadata["seg_small_segment"]) == (25, 0.0, 0)
    np.testing.assert_allclose(np.multiply(metadata["standardization_mean"], 255), STATS["offset"])
    np.testing.assert_allclose(np.multiply(metadata["standardization_std"], 255), STATS["scale"])
    (source,), (target,) = model.graph.input, model.graph.output
    dims = [[d.dim_value or d.dim_param for d in t.type.tensor_type.shape.dim] for t in (source, target)]
    # Deepness' dock widget takes its tile size from the input's last side: the sides are fixed, the batch free
    assert isinstance(dims[0][0], str) and dims[0][1:] == [len(BANDS), TILE, TILE] and dims[1][1:] == [3, TILE, TILE]
    assert source.type.tensor_type.elem_type == target.type.tensor_type.elem_type == onnx.TensorProto.FLOAT


def test_the_stac_item_beside_it_carries_the_held_out_scores(exported):
    _, path = exported
    item = json.loads(path.with_suffix(".json").read_text())
    assert item["assets"]["model"]["href"] == path.name
    assert item["properties"]["geoseg:held_out_scores"]["mean_iou"] == HELD_OUT["mean_iou"]
    assert "confusion_matrix" not in item["properties"]["geoseg:held_out_scores"]


def test_export_settings_reach_the_metadata(tmp_path):
    keras.utils.set_random_seed(0)
    info = ModelInfo("unet", [1], class_scheme(["a", "b"]), {"method": "standard", "offset": [0.0], "scale": [1.0]})
    save_bundle(build_model("unet", 1, 2, **SMALL["unet"]), info, str(tmp_path / "m.keras"))
    export_model(ExportConfig(str(tmp_path / "m.keras"), str(tmp_path / "m.onnx"), resolution=50, tile_size=256,
                              overlap=64))
    metadata = {p.key: json.loads(p.value) for p in onnx.load(str(tmp_path / "m.onnx")).metadata_props}
    assert (metadata["resolution"], metadata["tiles_size"], metadata["tiles_overlap"]) == (50, 256, 25)


def test_bad_exports_are_refused_with_the_fix(tmp_path):
    (tmp_path / "not-a-model.keras").write_text("text")
    with pytest.raises(GeoSegError, match="not a GeoSeg model"):
        export_model(ExportConfig(str(tmp_path / "not-a-model.keras"), str(tmp_path / "m.onnx")))
    with pytest.raises(GeoSegError, match=r"m\.tflite must end in \.onnx: name it m\.onnx, or set the format to "
                                          "tflite"):
        export_model(ExportConfig(str(tmp_path / "not-a-model.keras"), str(tmp_path / "m.tflite")))
    with pytest.raises(GeoSegError, match=r"LiteRT .* file \S*m\.onnx must end in \.tflite: name it m\.tflite, or set "
                                          "the format to onnx"):
        export_model(ExportConfig(str(tmp_path / "not-a-model.keras"), str(tmp_path / "m.onnx"), format="tflite"))
    with pytest.raises(GeoSegError, match=r"must end in \.tflite: name it m\.tflite\.$"):
        export_model(ExportConfig(str(tmp_path / "not-a-model.keras"), str(tmp_path / "m.lite"), format="tflite"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-model.keras"]


@pytest.fixture(scope="module")
def litert_export(tmp_path_factory):
    """A tiny U-Net saved and exported to LiteRT for 64 px tiles: (network, .tflite path)."""
    keras.utils.set_random_seed(0)
    network = build_model("unet", len(BANDS), 3, **SMALL["unet"])
    folder = tmp_path_factory.mktemp("litert")
    save_bundle(network, ModelInfo("unet", BANDS, class_scheme(["Water", "Forest", "Open land"]), STATS),
                str(folder / "model.keras"))
    result = run_job("export", {"model_path": str(folder / "model.keras"), "output_path": str(folder / "m.tflite"),
                                "format": "tflite", "tile_size": 64, "overlap": 16})
    assert result == {"output_path": str(folder / "m.tflite"), "stac_item": str(folder / "m.json")}
    return network, folder / "m.tflite"


def test_litert_answers_the_networks_probabilities_from_raw_values(litert_export):
    network, path = litert_export
    interpreter = Interpreter(model_path=str(path))
    (source,), (target,) = interpreter.get_input_details(), interpreter.get_output_details()
    assert list(source["shape_signature"]) == [-1, 64, 64, len(BANDS)] and source["dtype"] == np.float32
    assert list(target["shape_signature"]) == [-1, 64, 64, 3]
    interpreter.resize_tensor_input(source["index"], [2, 64, 64, len(BANDS)])  # the batch is free
    interpreter.allocate_tensors()
    raw = np.random.default_rng(0).uniform(0, 4000, (2, 64, 64, len(BANDS))).astype(np.float32)
    interpreter.set_tensor(source["index"], raw)
    interpreter.invoke()
    got = interpreter.get_tensor(target["index"])
    np.testing.assert_allclose(got, network.predict(normalize(raw, STATS), verbose=0), rtol=0, atol=1e-4)
    np.testing.assert_allclose(got.sum(axis=-1), 1, atol=1e-5)  # softmax probabilities


def test_the_litert_stac_item_says_how_to_feed_it(litert_export):
    _, path = litert_export
    item = json.loads(path.with_suffix(".json").read_text())
    properties, asset = item["properties"], item["assets"]["model"]
    assert properties["mlm:framework"] == "TensorFlow Lite" and (asset["href"], asset["mlm:artifact_type"]) == (
        "m.tflite", "tflite")
    (source,), (target,) = properties["mlm:input"], properties["mlm:output"]
    assert source["input"]["shape"] == [-1, 64, 64, len(BANDS)] and source["value_scaling"] is None
    assert target["result"]["shape"] == [-1, 64, 64, 3] and target["result"]["dim_order"][-1] == "channel"
    assert [c["name"] for c in target["classification:classes"]] == ["Water", "Forest", "Open land"]
