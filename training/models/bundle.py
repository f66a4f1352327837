"""The model bundle: one ``.keras`` file holding the network and everything needed to classify with it.

GeoSeg's metadata (bands, normalisation, classes, chip size, training summary, metrics) travels inside the
Keras zip as ``geoseg.json``, a sample of labelled training pixels (training.learn.baseline's) as
``geoseg-pixels.npz``, and where its training kept one the network's int8 copy (training.models.int8) as
``geoseg-int8.onnx``; Keras ignores the extra entries and the model loads with ``safe_mode=True``.
"""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..data.classes import ClassInfo, scheme_from_dicts, scheme_to_dicts
from ..errors import GeoSegError
from ..outputs import atomic_path

METADATA_ENTRY = "geoseg.json"
PIXELS_ENTRY = "geoseg-pixels.npz"  # training pixels: band values (N, B) float32, labels (N,) uint8
INT8_ENTRY = "geoseg-int8.onnx"  # the network quantized to int8: scaled NCHW tiles in, NCHW probabilities out
FORMAT = "geoseg-model/1"


@dataclass
class ModelInfo:
    architecture: str
    bands: list[int]
    classes: list[ClassInfo]
    normalization: dict
    chip_size: int = 64
    training: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["classes"] = scheme_to_dicts(self.classes)
        return {"format": FORMAT, **data}

    @classmethod
    def from_dict(cls, data: dict) -> "ModelInfo":
        data = {k: v for k, v in data.items() if k != "format"}
        data["classes"] = scheme_from_dicts(data["classes"])
        return cls(**data)


def save_bundle(model, info: ModelInfo, path: str, pixels: tuple[np.ndarray, np.ndarray] | None = None,
                int8: bytes | None = None) -> None:
    """Save atomically (a reader never sees a half-written model), in float32 whatever precision trained it;
    with ``pixels`` (band values, labels) of training pixels, normalised as the model reads them, and the
    network's ``int8`` copy (a serialised ONNX model)."""
    from .dtype import in_float32

    if Path(path).suffix != ".keras":
        raise GeoSegError(f"The model file {path} must end in .keras.")
    with atomic_path(path) as tmp:
        in_float32(model).save(tmp)
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(METADATA_ENTRY, json.dumps(info.to_dict(), indent=2))
            if pixels is not None:
                values, labels = pixels
                buffer = io.BytesIO()
                np.savez_compressed(buffer, values=np.asarray(values, np.float32), labels=np.asarray(labels, np.uint8))
                archive.writestr(PIXELS_ENTRY, buffer.getvalue())
            if int8 is not None:
                archive.writestr(INT8_ENTRY, int8)


def read_info(path: str) -> ModelInfo:
    """Read a bundle's metadata without loading TensorFlow."""
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read(METADATA_ENTRY)
    except FileNotFoundError:
        raise GeoSegError(f"The model file {path} does not exist: train one with GeoSeg first.") from None
    except (zipfile.BadZipFile, KeyError):
        raise GeoSegError(f"{path} is not a GeoSeg model: give a .keras file written by GeoSeg's training.") from None
    try:
        return ModelInfo.from_dict(json.loads(text))
    except (ValueError, KeyError, TypeError) as err:  # not JSON (ValueError), or not the fields GeoSeg writes
        raise GeoSegError(f"The model file {path} cannot be used: GeoSeg's metadata in it ({METADATA_ENTRY}) is "
                          f"damaged ({type(err).__name__}: {err}). Give the model file as GeoSeg's training wrote "
                          "it, or train the model again.") from None


def read_pixels(path: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The training pixels a bundle carries (band values, labels), or None where it has none (written before
    GeoSeg kept them, or not by training)."""
    read_info(path)  # a GeoSeg model, else the error says so
    with zipfile.ZipFile(path) as archive:
        if PIXELS_ENTRY not in archive.namelist():
            return None
        with np.load(io.BytesIO(archive.read(PIXELS_ENTRY))) as saved:
            return saved["values"], saved["labels"]


def read_int8(path: str) -> bytes | None:
    """The network's int8 copy a bundle carries (a serialised ONNX model), or None where it has none."""
    read_info(path)
    with zipfile.ZipFile(path) as archive:
        return archive.read(INT8_ENTRY) if INT8_ENTRY in archive.namelist() else None


def load_bundle(path: str):
    """Load ``(keras.Model, ModelInfo)``; no custom code runs (``safe_mode=True``)."""
    import keras

    info = read_info(path)
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except (ValueError, TypeError) as err:  # Keras': a layer holding Python code, an unknown layer, no weights
        reason = str(err).split(". ")[0].rstrip(".")
        raise GeoSegError(f"The model file {path} cannot be loaded ({reason}). GeoSeg loads networks made of Keras' "
                          "own layers, without Python code, with their weights: give a model file written by "
                          "GeoSeg's training, or train the model again.") from None
    return model, info
