"""ONNX segmentation models and their metadata in Deepness' convention (PUTvision/qgis-plugin-deepness,
docs/source/creators/creators_add_metadata_to_model.rst): what GeoSeg's export writes, and what lets GeoSeg
classify any ONNX segmentation model that carries it.

The convention: one input ``[N, bands, H, W]`` float32, one output ``[N, classes, H, W]`` of class
probabilities; ``metadata_props`` whose values are JSON — ``model_type`` "Segmentor", ``class_names`` (index →
name), ``resolution`` (cm/px), ``tiles_size`` (px), ``tiles_overlap`` (% of the tile), ``seg_thresh``,
``seg_small_segment`` and, per band, ``standardization_mean`` and ``standardization_std``, applied after the raw
values are divided by 255. GeoSeg's exports also carry their GeoSeg metadata under ``geoseg`` (band
numbers, colours, scores), without the training record, whose paths name the trainer's files. Reading and running
(:func:`onnx_probabilities`: classify's ONNX Runtime engine, evaluate's and compare's scoring) need ONNX Runtime
only: no TensorFlow.
"""
from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..data.classes import class_scheme
from ..errors import GeoSegError
from .bundle import ModelInfo, read_info

SUFFIX = ".onnx"
MODEL_TYPE = "Segmentor"
RAW_SCALE = 255.0  # Deepness divides raw values by this before standardising them
TILE_SIZE_KEYS = ("tiles_size", "tile_size")  # the documented key, and the one Deepness' code (model_base.py) reads
GEOSEG_KEY = "geoseg"  # GeoSeg's own metadata (training.models.bundle.ModelInfo.to_dict), in GeoSeg's exports
SEG_THRESH = 0.0  # Deepness' class confidence threshold: 0 keeps every pixel's most likely class, as GeoSeg does
SEG_SMALL_SEGMENT = 0  # Deepness removes patches smaller than this (px); GeoSeg's postprocess job does that instead
READ = ("model_type", "class_names", "standardization_mean", "standardization_std")  # what classifying needs
PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")  # the first that ONNX Runtime offers runs the model


def is_onnx(path: str) -> bool:
    return Path(path).suffix.lower() == SUFFIX


def deepness_metadata(info: ModelInfo, tile_size: int, overlap: int, resolution: float) -> dict[str, str]:
    """The ``metadata_props`` (key → JSON text) of a GeoSeg model's export: tiles of ``tile_size`` px overlapping
    by ``overlap`` px, pixels of ``resolution`` cm. GeoSeg's normalisation ``(raw - offset) / scale`` becomes
    Deepness' ``(raw / 255 - mean) / std``."""
    offset = np.asarray(info.normalization["offset"], np.float64)
    scale = np.asarray(info.normalization["scale"], np.float64)
    values = {"model_type": MODEL_TYPE, "class_names": {str(c.value): c.name for c in info.classes},
              "resolution": resolution, **dict.fromkeys(TILE_SIZE_KEYS, tile_size),
              "tiles_overlap": round(100 * overlap / tile_size),
              "standardization_mean": (offset / RAW_SCALE).tolist(),
              "standardization_std": (scale / RAW_SCALE).tolist(),
              "seg_thresh": SEG_THRESH, "seg_small_segment": SEG_SMALL_SEGMENT,
              GEOSEG_KEY: {**info.to_dict(), "training": {}}}  # not the training record: it names the user's files
    return {key: json.dumps(value) for key, value in values.items()}


def onnx_session(path: str):
    """An ONNX Runtime session of the model at ``path``, on the first of :data:`PROVIDERS` available."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise GeoSegError(f"Classifying the ONNX model {path} needs the onnxruntime package: install it (pip install "
                          "onnxruntime), or in QGIS run GeoSeg › Set up TensorFlow environment again.") from None
    if not Path(path).is_file():
        raise GeoSegError(f"The model file {path} does not exist: give a .keras or .onnx model file.")
    available = ort.get_available_providers()
    try:
        return ort.InferenceSession(path, providers=[p for p in PROVIDERS if p in available])
    except Exception as err:  # noqa: BLE001 (ONNX Runtime raises its own exception types, not exported stably)
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise GeoSegError(f"{path} is not an ONNX model ONNX Runtime can load ({reason}): give an ONNX file such as "
                          "GeoSeg's export writes.") from None


def read_onnx_info(path: str, session=None) -> ModelInfo:
    """The :class:`ModelInfo` of an ONNX segmentation model: GeoSeg's own (its exports), else from Deepness'
    metadata — bands 1…N of the raster (``input_bands`` maps others), classes named by ``class_names`` in the
    default palette's colours, and Deepness' scaling as a normalisation."""
    session = session or onnx_session(path)
    metadata = session.get_modelmeta().custom_metadata_map
    inputs, outputs = session.get_inputs(), session.get_outputs()
    fix = ("Give a segmentation model with one input [N, bands, H, W] and one output [N, classes, H, W], its "
           "metadata as Deepness documents it (model_type, class_names, standardization_mean and _std).")
    if len(inputs) != 1 or len(outputs) != 1 or len(inputs[0].shape) != 4 or len(outputs[0].shape) != 4:
        raise GeoSegError(f"The ONNX model {path} has {len(inputs)} inputs and {len(outputs)} outputs, not one "
                          f"[N, C, H, W] each. {fix}")
    try:
        if GEOSEG_KEY in metadata:
            return ModelInfo.from_dict(json.loads(metadata[GEOSEG_KEY]))
        values = {key: _value(metadata[key]) for key in READ if key in metadata}
        kind = str(values.get("model_type", MODEL_TYPE)).capitalize()
        names = [str(name) for _, name in sorted(values.get("class_names", {}).items(), key=lambda i: int(i[0]))]
        bands = inputs[0].shape[1] if isinstance(inputs[0].shape[1], int) else len(values["standardization_mean"])
        mean = np.broadcast_to(np.asarray(values.get("standardization_mean", 0.0), np.float64), bands)
        std = np.broadcast_to(np.asarray(values.get("standardization_std", 1.0), np.float64), bands)
    except (ValueError, KeyError, TypeError, AttributeError, SyntaxError) as err:
        raise GeoSegError(f"The ONNX model {path} has metadata GeoSeg cannot use ({type(err).__name__}: {err}). "
                          f"{fix}") from None
    if kind != MODEL_TYPE:
        raise GeoSegError(f"The ONNX model {path} is a {kind}, not a Segmentor: GeoSeg classifies with segmentation "
                          f"models. {fix}")
    classes = outputs[0].shape[1]
    if not names or isinstance(classes, int) and classes != len(names):
        raise GeoSegError(f"The ONNX model {path} answers {classes} classes but its metadata names {len(names)} "
                          f"(class_names). {fix}")
    return ModelInfo("onnx", list(range(1, bands + 1)), class_scheme(names),
                     {"method": "deepness", "offset": (mean * RAW_SCALE).tolist(), "scale": (std * RAW_SCALE).tolist()})


def read_model_info(path: str) -> ModelInfo:
    """The metadata of a GeoSeg model file (.keras) or of an ONNX model (.onnx)."""
    return read_onnx_info(path) if is_onnx(path) else read_info(path)


def onnx_probabilities(path: str, session, shape: tuple[int, ...]) -> Callable[[np.ndarray], np.ndarray]:
    """The class probabilities (N, H, W, classes) that the ``session`` of the ONNX model at ``path`` answers for
    normalised tiles of ``shape`` (N, H, W, bands), N at most ``shape[0]``: channels first, run one at a time where
    the model's batch is fixed at one, and padded (reflected) to its tile size where that is fixed."""
    (source,) = session.get_inputs()
    batch, _, height, width = (side if isinstance(side, int) else None for side in source.shape)
    height, width = height or shape[1], width or shape[2]
    if height < shape[1] or width < shape[2]:
        raise GeoSegError(f"The ONNX model {path} takes tiles of {width}×{height} px, smaller than these "
                          f"{shape[2]}×{shape[1]} px tiles: set the tile size to {min(width, height)} or less.")
    if batch not in (None, 1, shape[0]):
        raise GeoSegError(f"The ONNX model {path} takes batches of {batch} tiles: set the tiles per batch to {batch}.")
    padding = ((0, 0), (0, 0), (0, height - shape[1]), (0, width - shape[2]))

    def run(images: np.ndarray) -> np.ndarray:
        tiles = np.pad(np.asarray(images).transpose(0, 3, 1, 2), padding, mode="reflect")
        parts = [tiles[i:i + (batch or len(tiles))] for i in range(0, len(tiles), batch or len(tiles))]
        probabilities = np.concatenate([session.run(None, {source.name: part})[0] for part in parts], dtype=np.float32)
        return probabilities[:, :, :shape[1], :shape[2]].transpose(0, 2, 3, 1)

    return run


def _value(text: str):
    """A metadata value: JSON, or (as Deepness also reads ``class_names``) a Python literal such as {0: 'water'}."""
    try:
        return json.loads(text)
    except ValueError:
        return ast.literal_eval(text)
