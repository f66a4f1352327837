"""The STAC MLM item of an export (training.models.stac): the file, bands with their scaling, classes with colours,
tiles in the file's layout, and the held-out scores where the model has them."""
import json

from training.data.classes import class_scheme
from training.models.bundle import ModelInfo
from training.models.stac import Artifact, mlm_item

INFO = ModelInfo("unet_vgg16", [4, 3, 2], class_scheme(["Water", "Land"], [(0, 114, 178), (230, 159, 0)]),
                 {"method": "standard", "offset": [1000.0, 900.0, 800.0], "scale": [300.0, 200.0, 100.0]})


def test_the_item_describes_input_output_and_asset():
    item = json.loads(json.dumps(mlm_item(INFO, "scene-model", "scene-model.onnx", 448, 32,
                                     Artifact("ONNX", "ONNX", "opset 17", "onnx")), allow_nan=False))
    assert item["type"] == "Feature" and item["geometry"] is None and "bbox" not in item
    assert any("/mlm/" in url for url in item["stac_extensions"])
    properties = item["properties"]
    assert properties["mlm:name"] == "scene-model" and properties["mlm:tasks"] == ["semantic-segmentation"]
    assert properties["mlm:architecture"] == "U-Net with VGG16 encoder (ImageNet)"
    (source,), (target,) = properties["mlm:input"], properties["mlm:output"]
    assert source["bands"] == ["band 4", "band 3", "band 2"]
    assert source["input"] == {"shape": [-1, 3, 448, 448], "dim_order": ["batch", "channel", "height", "width"],
                               "data_type": "float32"}
    assert source["value_scaling"][2] == {"type": "z-score", "mean": 800.0, "stddev": 100.0}
    assert target["result"]["shape"] == [-1, 2, 448, 448]
    assert target["classification:classes"] == [{"value": 0, "name": "Water", "color_hint": "0072B2"},
                                                {"value": 1, "name": "Land", "color_hint": "E69F00"}]
    assert item["assets"]["model"]["href"] == "scene-model.onnx"
    assert item["assets"]["model"]["roles"] == ["mlm:model"] and item["assets"]["model"]["mlm:artifact_type"] == "onnx"
    assert item["assets"]["model"]["type"] == "application/octet-stream; framework=onnx; profile=onnx"
    assert (properties["mlm:framework"], properties["mlm:framework_version"]) == ("ONNX", "opset 17")
    assert "geoseg:held_out_scores" not in properties  # this model has none


def test_a_litert_item_takes_raw_channels_last_tiles_of_the_tile_size():
    artifact = Artifact("LiteRT", "TensorFlow Lite", "2.21.0", "tflite", channels_last=True,
                        raw_values=True)
    item = json.loads(json.dumps(mlm_item(INFO, "m", "m.tflite", 256, 32, artifact), allow_nan=False))
    properties, asset = item["properties"], item["assets"]["model"]
    assert (properties["mlm:framework"], properties["mlm:framework_version"]) == ("TensorFlow Lite", "2.21.0")
    (source,), (target,) = properties["mlm:input"], properties["mlm:output"]
    assert source["input"] == {"shape": [-1, 256, 256, 3], "dim_order": ["batch", "height", "width", "channel"],
                               "data_type": "float32"}
    assert source["value_scaling"] is None and "raw values" in source["description"]
    assert target["result"] == {"shape": [-1, 256, 256, 2], "dim_order": ["batch", "height", "width", "channel"],
                                "data_type": "float32"}
    assert (asset["href"], asset["mlm:artifact_type"]) == ("m.tflite", "tflite")
    assert "framework=tflite" in asset["type"] and "LiteRT" in asset["title"] + properties["description"]
