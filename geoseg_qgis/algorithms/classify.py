"""geoseg:classify — classify a multispectral raster with a trained GeoSeg model, or an ONNX segmentation model."""
from qgis.core import (QgsProcessing, QgsProcessingParameterBand, QgsProcessingParameterExtent,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterRasterDestination,
                       QgsProcessingParameterRasterLayer)

from ..runner import run
from ..training.architectures import INPUT_MULTIPLE
from ..training.config import CLASSIFY_PRECISIONS, ENGINES, FLIP_AVERAGES, INT8_MAX_LOSS, ClassifyConfig
from ..training.models.onnx_metadata import is_onnx
from .base import GeoSegAlgorithm, declared_help, raster_file
from .styling import style_on_load


class ClassifyAlgorithm(GeoSegAlgorithm):
    INPUT = "INPUT"
    MODEL = "MODEL"
    EXTENT = "EXTENT"
    MASK_LAYER = "MASK_LAYER"
    INPUT_BANDS = "INPUT_BANDS"
    TILE_SIZE = "TILE_SIZE"
    OVERLAP = "OVERLAP"
    BATCH_SIZE = "BATCH_SIZE"
    ENGINE = "ENGINE"
    PRECISION = "PRECISION"
    COG = "COG"
    FLIP_AVERAGE = "FLIP_AVERAGE"
    PROBABILITIES = "PROBABILITIES"
    UNCERTAINTY = "UNCERTAINTY"
    OUTPUT = "OUTPUT"

    NAME = "classify"
    DISPLAY_NAME = "Classify raster"
    HELP = (
        "Classifies every pixel of a multispectral raster with a model trained by <i>Train segmentation "
        "model</i>. The model file knows which bands it reads (e.g. 4,3,2 or all 12), how to normalise them and "
        "the class names and colours.<br><br>"
        "The raster is processed in overlapping tiles whose predictions are blended smoothly, so rasters of any "
        "size (whole Sentinel-2 tiles) are classified without seams and with bounded memory. The tile size is "
        "an upper bound: tiles are fitted to the raster so that few pixels are computed twice.<br><br>"
        "The <i>Automatic</i> precision computes in bfloat16 on CPUs that do so natively (AVX512-BF16 or AMX, "
        "detected on Linux), about twice as fast as float32, and in float32 elsewhere; the class maps agree "
        "except where two classes are nearly tied. On other CPUs it computes in <b>int8</b> where the model file "
        "carries an int8 copy: training quantizes the network (ONNX Runtime, calibrated on a few training windows) "
        f"and keeps the copy only where it scores within {INT8_MAX_LOSS:g} mean IoU of float32 on the validation "
        "windows (<i>Evaluate model</i> shows the figures); it runs on ONNX Runtime, about twice as fast as "
        "float32 on CPUs with VNNI. Else float32. The <i>Automatic</i> engine runs bfloat16 and GPUs with "
        "TensorFlow, int8 with ONNX Runtime, and float32 on the CPU with LiteRT (XNNPACK). The first LiteRT run "
        "with a model and tile "
        "shape converts the model (a few seconds); the conversion is kept in ~/.cache/geoseg (or "
        "GEOSEG_CACHE_DIR) for later runs.<br><br>"
        "The output is a Byte GeoTIFF with the input's CRS, geotransform and size: class values 0, 1, 2, …, "
        "255 = nodata wherever the input is nodata (or NaN). Class colours and names are written into the file "
        "(colour table and category names, for any GIS software) and into a QGIS style beside it (same name, "
        ".qml), with which QGIS shows the model's classes alone in the legend.<br>"
        "Each tile's probabilities can be averaged over the tile and its three mirror images (test-time "
        "augmentation, <b>four times the computation</b>; under Advanced). <i>Automatic</i> follows the model "
        "file: its training scored the validation windows with and without it and switched it on only where it "
        "raised the mean IoU by more than chance (off for model files written before GeoSeg measured this; "
        "<i>Evaluate model</i> shows the figures). "
        "Optionally also writes per-class probabilities, and an <b>uncertainty raster</b>: per pixel the "
        "normalised entropy of the class probabilities the map is made from (mirror-averaged when that is on), "
        "as a Byte GeoTIFF in percent: 0 where the model is sure of one class, 100 where all classes are equally "
        "likely, 255 = nodata where the class raster has nodata. QGIS draws it as a continuous colour ramp "
        "(viridis, its style beside it); its bright areas are where new labels help the model most.<br><br>"
        "<b>Only this extent</b> (in any CRS; widened to whole pixels of the raster) classifies part of the "
        "raster, and the output covers just that part, still exactly georeferenced; outside <b>these "
        "polygons</b> the output is nodata. When the raster's bands are stacked differently from the one the "
        "model was trained on (a 13-band L1C, a 10-band L2A, a stack with extra indices), name under <b>input "
        "bands</b> the raster's band for each of the model's bands, in the model's order.<br><br>"
        "<b>ONNX models</b> (.onnx) run on ONNX Runtime, without TensorFlow: GeoSeg's exports (<i>Export "
        "model</i>) classify as their .keras model does, and segmentation models carrying Deepness' metadata "
        "(class_names, standardization_mean and _std) read bands 1, 2, 3, … of the raster unless <b>input "
        "bands</b> says otherwise, in the default colours."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Multispectral raster")))
        self.addParameter(self.model_parameter(self.MODEL, ClassifyConfig))
        self.addParameter(self.with_help(QgsProcessingParameterExtent(
            self.EXTENT, self.tr("Only this extent"), optional=True),
            "Classify only this part of the raster (in any CRS; widened to whole pixels). Default: the whole "
            "raster."))
        self.addParameter(self.with_help(QgsProcessingParameterFeatureSource(
            self.MASK_LAYER, self.tr("Only inside these polygons"), [QgsProcessing.TypeVectorPolygon], optional=True),
            declared_help(ClassifyConfig, "mask_polygons")))
        self.addParameter(self.with_help(QgsProcessingParameterBand(
            self.INPUT_BANDS, self.tr("Raster bands for the model's bands"),
            parentLayerParameterName=self.INPUT, optional=True, allowMultiple=True),
            "For a raster stacked differently from the one the model was trained on: the raster's band for each "
            "of the model's bands, in the model's order (default: the model's own band numbers)."))
        self.add_advanced((  # the most often changed first
            self.setting_parameter(self.FLIP_AVERAGE, "Average over mirrored tiles (4× the work)",
                                   ClassifyConfig, "flip_average"),
            QgsProcessingParameterRasterDestination(self.PROBABILITIES, self.tr("Class probabilities"),
                                                    optional=True, createByDefault=False),
            self.with_help(QgsProcessingParameterRasterDestination(
                self.UNCERTAINTY, self.tr("Uncertainty raster (0 = sure)"), optional=True, createByDefault=False),
                declared_help(ClassifyConfig, "uncertainty_raster")),
            self.setting_parameter(self.TILE_SIZE, f"Largest tile size (pixels, multiple of {INPUT_MULTIPLE})",
                                   ClassifyConfig, "tile_size"),
            self.setting_parameter(self.BATCH_SIZE, "Tiles per batch", ClassifyConfig, "batch_size"),
            self.setting_parameter(self.OVERLAP, "Tile overlap (pixels)", ClassifyConfig, "overlap"),
            self.setting_parameter(self.ENGINE, "Inference engine", ClassifyConfig, "engine"),
            self.setting_parameter(self.PRECISION, "Precision", ClassifyConfig, "precision"),
            self.setting_parameter(self.COG, "Write Cloud Optimized GeoTIFFs", ClassifyConfig, "cog"),
        ))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Classified raster")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        extent = self.parameterAsExtent(parameters, self.EXTENT, context, layer.crs()) if layer else None
        mask = self.vector_file(parameters, self.MASK_LAYER, context, feedback)
        config = ClassifyConfig(
            input_raster=raster_file(layer, self.INPUT),
            model_path=self.parameterAsFile(parameters, self.MODEL, context),
            extent=[extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()]
            if extent and not extent.isNull() else None,
            mask_polygons=mask,
            input_bands=self.parameterAsInts(parameters, self.INPUT_BANDS, context) or None,
            output_raster=self.parameterAsOutputLayer(parameters, self.OUTPUT, context),
            probabilities_raster=self.parameterAsOutputLayer(parameters, self.PROBABILITIES, context) or None,
            uncertainty_raster=self.parameterAsOutputLayer(parameters, self.UNCERTAINTY, context) or None,
            tile_size=self.parameterAsInt(parameters, self.TILE_SIZE, context),
            overlap=self.parameterAsInt(parameters, self.OVERLAP, context),
            batch_size=self.parameterAsInt(parameters, self.BATCH_SIZE, context),
            engine=self.parameter_as_choice(parameters, self.ENGINE, context, ENGINES),
            precision=self.parameter_as_choice(parameters, self.PRECISION, context, CLASSIFY_PRECISIONS),
            cog=self.parameterAsBool(parameters, self.COG, context),
            flip_average=self.parameter_as_choice(parameters, self.FLIP_AVERAGE, context, FLIP_AVERAGES),
        )
        result = run("classify", config, feedback, onnx_only=is_onnx(config.model_path))
        for name, pixels in result["class_pixels"].items():
            feedback.pushInfo(f"{name}: {pixels} px")
        style_on_load(context, result["output_raster"])
        outputs = {self.OUTPUT: result["output_raster"]}
        if result["probabilities_raster"]:
            outputs[self.PROBABILITIES] = result["probabilities_raster"]
        if result["uncertainty_raster"]:
            style_on_load(context, result["uncertainty_raster"])
            outputs[self.UNCERTAINTY] = result["uncertainty_raster"]
        return outputs
