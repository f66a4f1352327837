"""A third-party ONNX segmentation model made by the tests with onnx.helper: a 1×1 convolution and a softmax over
the channel axis, NCHW, with Deepness' metadata; and what it should classify a raster as."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Two classes from three bands: "bright" where band 1 exceeds band 2 (after Deepness' scaling), else "dark".
WEIGHTS = np.array([[-4, 4, 0], [4, -4, 0]], np.float32).reshape(2, 3, 1, 1)
MEAN, STD = [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]  # after /255
NAMES = {0: "dark", 1: "bright"}


def metadata(texts: dict[str, str] | None = None, **changes) -> dict[str, str]:
    """Deepness' metadata of the model as JSON texts: ``changes`` replace values or, as None, remove keys;
    ``texts`` replace the texts themselves."""
    values = {"model_type": "Segmentor", "class_names": NAMES, "resolution": 1000, "tiles_size": 64,
              "tiles_overlap": 10, "standardization_mean": MEAN, "standardization_std": STD, **changes}
    return {**{key: json.dumps(value) for key, value in values.items() if value is not None}, **(texts or {})}


def write_segmentor(path: Path, side: int | None = None, texts: dict[str, str] | None = None, **changes) -> Path:
    """Write the model to ``path``: tiles of ``side`` px and one at a time, or of any size and number; its
    metadata is :func:`metadata`'s."""
    batch, height, width = (1, side, side) if side else ("N", "H", "W")
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, 3, height, width])
    scores = helper.make_tensor_value_info("scores", TensorProto.FLOAT, [batch, 2, height, width])
    graph = helper.make_graph(
        [helper.make_node("Conv", ["image", "weights"], ["logits"]),
         helper.make_node("Softmax", ["logits"], ["scores"], axis=1)],
        "third_party_segmentor", [image], [scores], [numpy_helper.from_array(WEIGHTS, "weights")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    for key, value in metadata(texts, **changes).items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))
    return path


def expected_classes(image: np.ndarray) -> np.ndarray:
    """The model's class of each pixel of a (3, H, W) raw image, as Deepness would scale it."""
    scaled = (image.astype(np.float64) / 255 - np.reshape(MEAN, (3, 1, 1))) / np.reshape(STD, (3, 1, 1))
    logits = np.einsum("kc,chw->khw", WEIGHTS[:, :, 0, 0], scaled)
    return logits.argmax(axis=0).astype(np.uint8)
