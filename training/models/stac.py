"""A STAC Item with the Machine Learning Model extension (``mlm``) describing an exported model: its bands and
their scaling, its classes with colours (``classification``), its tiles, and the held-out scores of its training.
"""
from __future__ import annotations

import datetime

from ..architectures import LABELS
from .bundle import ModelInfo

STAC_VERSION = "1.1.0"
EXTENSIONS = ("https://stac-extensions.github.io/mlm/v1.4.0/schema.json",
              "https://stac-extensions.github.io/classification/v2.0.0/schema.json")
DIMENSIONS = ["batch", "channel", "height", "width"]
HELD_OUT = ("split", "pixels", "pixel_accuracy", "mean_iou", "mean_f1", "iou", "f1")  # of the training's scores


def mlm_item(info: ModelInfo, name: str, model_href: str, tile_size: int, overlap: int, opset: int) -> dict:
    """The item of the ONNX model ``model_href`` (relative to the item) named ``name``, exported from a GeoSeg
    model described by ``info``: input ``[N, bands, H, W]`` scaled by the z-score of each band (GeoSeg's
    normalisation of the raw values), output ``[N, classes, H, W]`` class probabilities."""
    offset, scale = info.normalization["offset"], info.normalization["scale"]
    classes = [{"value": c.value, "name": c.name, "color_hint": "{:02X}{:02X}{:02X}".format(*c.color)}
               for c in info.classes]
    held_out = info.metrics.get("held_out") or {}
    properties = {
        "datetime": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "description": f"{LABELS.get(info.architecture, info.architecture)} trained with GeoSeg, exported to ONNX.",
        "mlm:name": name,
        "mlm:architecture": LABELS.get(info.architecture, info.architecture),
        "mlm:tasks": ["semantic-segmentation"],
        "mlm:framework": "ONNX",
        "mlm:framework_version": f"opset {opset}",
        "mlm:input": [{
            "name": "image",
            "bands": [f"band {number}" for number in info.bands],
            "input": {"shape": [-1, len(info.bands), tile_size, tile_size], "dim_order": DIMENSIONS,
                      "data_type": "float32"},
            "value_scaling": [{"type": "z-score", "mean": mean, "stddev": stddev}
                              for mean, stddev in zip(offset, scale)],
            "description": f"Tiles of the raster's bands {', '.join(map(str, info.bands))} (1-based), "
                           f"{tile_size} px a side, overlapping by {overlap} px; GeoSeg feeds nodata pixels as 0 "
                           "after scaling.",
        }],
        "mlm:output": [{
            "name": "classes",
            "tasks": ["semantic-segmentation"],
            "result": {"shape": [-1, info.num_classes, tile_size, tile_size], "dim_order": DIMENSIONS,
                       "data_type": "float32"},
            "classification:classes": classes,
            "post_processing_function": None,
            "description": "Class probabilities (softmax); the class of a pixel is the most probable.",
        }],
        **({"geoseg:held_out_scores": {key: held_out[key] for key in HELD_OUT if key in held_out}} if held_out else {}),
    }
    return {
        "type": "Feature", "stac_version": STAC_VERSION, "stac_extensions": list(EXTENSIONS),
        "id": name, "geometry": None, "properties": properties, "links": [],
        "assets": {"model": {"href": model_href, "title": f"{name} (ONNX)", "type": "application/octet-stream; "
                             "framework=onnx; profile=onnx", "roles": ["mlm:model"], "mlm:artifact_type": "onnx"}},
    }
