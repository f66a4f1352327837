"""A STAC Item with the Machine Learning Model extension (``mlm``) describing an exported model: its file (framework,
artifact type), its bands and their scaling, its tensors' layout, its classes with colours (``classification``), its
tiles, and the held-out scores of its training.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from ..architectures import LABELS
from .bundle import ModelInfo

STAC_VERSION = "1.1.0"
EXTENSIONS = ("https://stac-extensions.github.io/mlm/v1.4.0/schema.json",
              "https://stac-extensions.github.io/classification/v2.0.0/schema.json")
CHANNELS_FIRST = ["batch", "channel", "height", "width"]
CHANNELS_LAST = ["batch", "height", "width", "channel"]
HELD_OUT = ("split", "pixels", "pixel_accuracy", "mean_iou", "mean_f1", "iou", "f1")  # of the training's scores


@dataclass(frozen=True)
class Artifact:
    """What an exported model file is and how it takes tiles: ``label`` (for people), ``framework`` at
    ``framework_version`` and ``artifact_type`` (MLM's names; the type is also the media type's framework and profile);
    ``channels_last`` (NHWC, else NCHW); ``raw_values`` (GeoSeg's normalisation inside, else scaled tiles in). Its
    tiles' sides are the export's tile size, its batch free."""

    label: str
    framework: str
    framework_version: str
    artifact_type: str
    channels_last: bool = False
    raw_values: bool = False


def mlm_item(info: ModelInfo, name: str, model_href: str, tile_size: int, overlap: int, artifact: Artifact) -> dict:
    """The item of the exported model ``model_href`` (relative to the item) named ``name``, an ``artifact``
    exported from a GeoSeg model described by ``info``: input tiles of the model's bands (raw values, or scaled by the
    z-score of each band, GeoSeg's normalisation), output class probabilities, in the artifact's layout."""
    offset, scale = info.normalization["offset"], info.normalization["scale"]
    classes = [{"value": c.value, "name": c.name, "color_hint": "{:02X}{:02X}{:02X}".format(*c.color)}
               for c in info.classes]
    held_out = info.metrics.get("held_out") or {}
    def shape(channels: int) -> list[int]:
        return [-1, tile_size, tile_size, channels] if artifact.channels_last else [-1, channels, tile_size, tile_size]

    dimensions = CHANNELS_LAST if artifact.channels_last else CHANNELS_FIRST
    if artifact.raw_values:
        tiles = (f"{tile_size} px a side, overlapping by {overlap} px, of raw values: the model normalises them "
                 "(GeoSeg's z-score per band); GeoSeg feeds nodata pixels as the band's offset, 0 once normalised.")
    else:
        tiles = f"{tile_size} px a side, overlapping by {overlap} px; GeoSeg feeds nodata pixels as 0 after scaling."
    properties = {
        "datetime": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "description": f"{LABELS.get(info.architecture, info.architecture)} trained with GeoSeg, exported to "
                       f"{artifact.label}.",
        "mlm:name": name,
        "mlm:architecture": LABELS.get(info.architecture, info.architecture),
        "mlm:tasks": ["semantic-segmentation"],
        "mlm:framework": artifact.framework,
        "mlm:framework_version": artifact.framework_version,
        "mlm:input": [{
            "name": "image",
            "bands": [f"band {number}" for number in info.bands],
            "input": {"shape": shape(len(info.bands)), "dim_order": dimensions, "data_type": "float32"},
            "value_scaling": None if artifact.raw_values else [
                {"type": "z-score", "mean": mean, "stddev": stddev} for mean, stddev in zip(offset, scale)],
            "description": f"Tiles of the raster's bands {', '.join(map(str, info.bands))} (1-based), {tiles}",
        }],
        "mlm:output": [{
            "name": "classes",
            "tasks": ["semantic-segmentation"],
            "result": {"shape": shape(info.num_classes), "dim_order": dimensions, "data_type": "float32"},
            "classification:classes": classes,
            "post_processing_function": None,
            "description": "Class probabilities (softmax); the class of a pixel is the most probable.",
        }],
        **({"geoseg:held_out_scores": {key: held_out[key] for key in HELD_OUT if key in held_out}} if held_out else {}),
    }
    kind = artifact.artifact_type
    return {
        "type": "Feature", "stac_version": STAC_VERSION, "stac_extensions": list(EXTENSIONS),
        "id": name, "geometry": None, "properties": properties, "links": [],
        "assets": {"model": {"href": model_href, "title": f"{name} ({artifact.label})",
                             "type": f"application/octet-stream; framework={kind}; profile={kind}",
                             "roles": ["mlm:model"], "mlm:artifact_type": kind}},
    }
