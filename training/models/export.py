"""Export a GeoSeg model for other tools, with a STAC MLM item beside it (:mod:`training.models.stac`): an ONNX file
with Deepness' metadata (:mod:`training.models.onnx_metadata`), or a LiteRT (TensorFlow Lite) flatbuffer.

The ONNX graph is the Keras network traced by TensorFlow and converted by tf2onnx: it takes tiles
``[N, bands, tile, tile]`` already scaled (GeoSeg's normalisation, which Deepness applies from the metadata), turns
them to channels-last inside the graph, and answers ``[N, classes, tile, tile]`` softmax probabilities. The sides
are fixed at the export's tile size, the batch free: Deepness' dock widget takes its tile size from the input's
last side and cannot load a model whose sides are free.

The LiteRT flatbuffer is classify's LiteRT tile model (:mod:`training.models.litert`) for any batch of tiles of the
export's tile size: raw band values ``[N, tile, tile, bands]`` in, normalised inside, ``[N, tile, tile, classes]``
softmax probabilities out.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..architectures import INPUT_MULTIPLE
from ..config import EXPORT_FORMATS, ExportConfig, ExportResult
from ..errors import GeoSegError
from ..outputs import atomic_path
from ..progress import Progress
from . import litert, onnx_metadata
from .bundle import ModelInfo, load_bundle, read_info
from .onnx_metadata import deepness_metadata
from .stac import Artifact, mlm_item

OPSET = 17  # ONNX Runtime 1.16 and later run it; tf2onnx 1.17 converts to it
SUFFIXES = {"onnx": onnx_metadata.SUFFIX, "tflite": litert.SUFFIX}  # of each of EXPORT_FORMATS


def stac_path(model_path: str) -> Path:
    return Path(model_path).with_suffix(".json")


def export_model(config: ExportConfig, progress: Progress | None = None) -> ExportResult:
    """Write ``config.model_path`` as ``config.output_path`` in ``config.format`` and its STAC item beside it."""
    progress = progress or Progress()
    _check_suffix(config)
    if config.tile_size % INPUT_MULTIPLE or not config.overlap < config.tile_size:
        raise GeoSegError(f"Tile size {config.tile_size} must be a multiple of {INPUT_MULTIPLE} and larger than "
                          f"the overlap ({config.overlap}).")
    info = read_info(config.model_path)
    write = _litert_file if config.format == "tflite" else _onnx_file
    content, artifact = write(config, info, progress)
    item = mlm_item(info, Path(config.output_path).stem, Path(config.output_path).name, config.tile_size,
                    config.overlap, artifact)
    with atomic_path(config.output_path) as tmp:
        Path(tmp).write_bytes(content)
        with atomic_path(stac_path(config.output_path)) as item_tmp:
            Path(item_tmp).write_text(json.dumps(item, indent=2, allow_nan=False))
    progress.update(1.0, f"Wrote {config.output_path} and its STAC item {stac_path(config.output_path)}.")
    return ExportResult(config.output_path, str(stac_path(config.output_path)))


def _check_suffix(config: ExportConfig) -> None:
    """The output's suffix is the format's, else an error naming the file and the fix."""
    suffix, given = SUFFIXES[config.format], Path(config.output_path).suffix.lower()
    if given == suffix:
        return
    other = next((name for name, known in SUFFIXES.items() if known == given), None)
    fix = f"name it {Path(config.output_path).with_suffix(suffix).name}" + (
        f", or set the format to {other}" if other else "")
    raise GeoSegError(f"The {EXPORT_FORMATS[config.format]} file {config.output_path} must end in {suffix}: {fix}.")


def _onnx_file(config: ExportConfig, info: ModelInfo, progress: Progress) -> tuple[bytes, Artifact]:
    """The ONNX model with Deepness' metadata, and what its STAC item says of it."""
    progress.update(0.0, f"Converting {config.model_path} to ONNX (opset {OPSET})…")
    graph = onnx_graph(config.model_path, config.tile_size)
    for key, value in deepness_metadata(info, config.tile_size, config.overlap, config.resolution).items():
        graph.metadata_props.add(key=key, value=value)
    graph.producer_name, graph.doc_string = "GeoSeg", f"Exported from {Path(config.model_path).name}."
    return graph.SerializeToString(), Artifact("ONNX", "ONNX", f"opset {OPSET}", "onnx")


def _litert_file(config: ExportConfig, info: ModelInfo, progress: Progress) -> tuple[bytes, Artifact]:
    """The LiteRT flatbuffer for raw tiles of the tile size, and what its STAC item says of it."""
    progress.update(0.0, f"Converting {config.model_path} to LiteRT (TensorFlow Lite) for {config.tile_size} px "
                         "tiles…")
    import tensorflow as tf

    shape = (None, config.tile_size, config.tile_size, len(info.bands))
    content = litert.flatbuffer(litert.raw_tile_model(config.model_path, shape))
    return content, Artifact("LiteRT", "TensorFlow Lite", tf.__version__, "tflite", channels_last=True,
                             raw_values=True)


def onnx_graph(model_path: str, tile_size: int):
    """The ``onnx.ModelProto`` of a bundle's network, from scaled NCHW tiles of ``tile_size`` to NCHW class
    probabilities."""
    model, info = load_bundle(model_path)
    return network_graph(model, len(info.bands), tile_size)


def network_graph(model, num_bands: int, tile_size: int | None = None):
    """The ``onnx.ModelProto`` of a Keras ``model`` reading ``num_bands`` bands, as :func:`onnx_graph`'s, for tiles
    of ``tile_size`` (None: any multiple of 32)."""
    import tensorflow as tf
    import tf2onnx

    signature = [tf.TensorSpec((None, num_bands, tile_size, tile_size), tf.float32, name="input")]

    @tf.function(input_signature=signature)
    def channels_first(tiles):
        probabilities = model(tf.transpose(tiles, [0, 2, 3, 1]), training=False)
        return {"output": tf.transpose(probabilities, [0, 3, 1, 2])}

    graph, _ = tf2onnx.convert.from_function(channels_first, input_signature=signature, opset=OPSET)
    return graph
