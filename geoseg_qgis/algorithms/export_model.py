"""geoseg:export — write a GeoSeg model for other tools: ONNX with Deepness' metadata, or LiteRT (TensorFlow Lite),
each with a STAC MLM item beside it."""
from qgis.core import QgsProcessingOutputFile, QgsProcessingParameterFile, QgsProcessingParameterFileDestination

from ..runner import run
from ..training.config import EXPORT_FORMATS, ExportConfig
from .base import GeoSegAlgorithm, declared_help


class ExportAlgorithm(GeoSegAlgorithm):
    MODEL = "MODEL"
    FORMAT = "FORMAT"
    RESOLUTION = "RESOLUTION"
    TILE_SIZE = "TILE_SIZE"
    OVERLAP = "OVERLAP"
    OUTPUT = "OUTPUT"
    STAC_ITEM = "STAC_ITEM"

    NAME = "export"
    DISPLAY_NAME = "Export model (ONNX, LiteRT)"
    HELP = (
        "Writes a GeoSeg model as an <b>ONNX</b> file that other tools run: the Deepness plugin for QGIS, ONNX "
        "Runtime, and GeoSeg's own <i>Classify raster</i>, which then needs no TensorFlow.<br><br>"
        "The model takes tiles [N, bands, T, T] (T the tile size, an advanced parameter, fixed as Deepness needs "
        "it) and answers class probabilities [N, classes, T, T]. Its metadata follows Deepness' convention: model "
        "type Segmentor, the class names, the resolution (cm per pixel), the tile size and overlap (%), and "
        "GeoSeg's normalisation as Deepness' per-band standardisation after raw values are divided by 255; "
        "GeoSeg's own metadata (band numbers, colours, held-out scores) travels with it.<br><br>"
        "With <i>Format</i> = <b>LiteRT (TensorFlow Lite)</b> it writes a .tflite file instead, for LiteRT's "
        "interpreter (phones, edge devices): raw band values [N, tile, tile, bands] of the tile size in, GeoSeg's "
        "normalisation inside, class probabilities [N, tile, tile, classes] out.<br><br>"
        "Beside the model file (same name, .json) a <b>STAC Machine Learning Model</b> item describes the file, the "
        "bands and their scaling, the classes with their colours, the tiles, and the held-out scores of training."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self.addParameter(QgsProcessingParameterFile(self.MODEL, self.tr("GeoSeg model file"), extension="keras"))
        self.addParameter(self.setting_parameter(self.FORMAT, "Format", ExportConfig, "format"))
        self.addParameter(self.setting_parameter(self.RESOLUTION, "Pixel size the model was trained on (cm)",
                                                 ExportConfig, "resolution"))
        self.add_advanced((
            self.setting_parameter(self.TILE_SIZE, "Tile size of the model (pixels)", ExportConfig, "tile_size"),
            self.setting_parameter(self.OVERLAP, "Tile overlap for other tools (pixels)", ExportConfig, "overlap"),
        ))
        self.addParameter(self.with_help(QgsProcessingParameterFileDestination(
            self.OUTPUT, self.tr("Model file"), self.tr("ONNX models (*.onnx);;LiteRT models (*.tflite)")),
            declared_help(ExportConfig, "output_path")))
        self.addOutput(QgsProcessingOutputFile(self.STAC_ITEM, self.tr("STAC Machine Learning Model item")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        config = ExportConfig(
            model_path=self.parameterAsFile(parameters, self.MODEL, context),
            output_path=self.parameterAsFileOutput(parameters, self.OUTPUT, context),
            format=self.parameter_as_choice(parameters, self.FORMAT, context, EXPORT_FORMATS),
            resolution=self.parameterAsDouble(parameters, self.RESOLUTION, context),
            tile_size=self.parameterAsInt(parameters, self.TILE_SIZE, context),
            overlap=self.parameterAsInt(parameters, self.OVERLAP, context),
        )
        result = run("export", config, feedback)
        return {self.OUTPUT: result["output_path"], self.STAC_ITEM: result["stac_item"]}
