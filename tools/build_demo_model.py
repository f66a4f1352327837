"""Regenerate geoseg_qgis/models/train_and_classify.model3, the graphical model shipped with the plugin.

Every parameter of every step has a source: the model's inputs, an earlier step's output, a value chosen
here, or else the algorithm's own default, so the modeler finds the model valid.

Run from the repository root: ``QT_QPA_PLATFORM=offscreen .venv/bin/python tools/build_demo_model.py``.
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["QT_HASH_SEED"] = "0"  # Qt writes XML attributes in hash order: a fixed seed, a reproducible file

from qgis.core import (QgsApplication, QgsProcessingModelAlgorithm,  # noqa: E402
                       QgsProcessingModelChildAlgorithm, QgsProcessingModelChildParameterSource,
                       QgsProcessingModelOutput, QgsProcessingModelParameter, QgsProcessingParameterDefinition,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterLayer)
from qgis.PyQt.QtCore import QPointF  # noqa: E402

from geoseg_qgis.algorithms.base import GROUP, GROUP_ID  # noqa: E402
from geoseg_qgis.provider import GeoSegProvider  # noqa: E402
from training.config import TrainConfig  # noqa: E402

OUTPUT = ROOT / "geoseg_qgis" / "models" / "train_and_classify.model3"


def model_input(model, parameter, x):
    model.addModelParameter(parameter, QgsProcessingModelParameter(parameter.name()))
    model.parameterComponent(parameter.name()).setPosition(QPointF(x, 60))


def child(algorithm_id, child_id, sources, position, outputs=None):
    """A step running ``algorithm_id`` with ``sources``, other parameters at their defaults; ``outputs`` maps
    its output names to the labels of the model outputs they become."""
    step = QgsProcessingModelChildAlgorithm(algorithm_id)
    step.setChildId(child_id)
    step.setDescription(child_id.replace("_", " ").capitalize())
    step.setPosition(QPointF(*position))
    for definition in step.algorithm().parameterDefinitions():
        if not definition.isDestination():
            default = QgsProcessingModelChildParameterSource.fromStaticValue(definition.defaultValue())
            step.addParameterSources(definition.name(), [sources.get(definition.name(), default)])
    model_outputs = {}
    for name, description in (outputs or {}).items():
        output = QgsProcessingModelOutput(description, description)
        output.setChildId(child_id)
        output.setChildOutputName(name)
        output.setMandatory(not step.algorithm().parameterDefinition(name).flags()
                            & QgsProcessingParameterDefinition.FlagOptional)
        model_outputs[description] = output
    step.setModelOutputs(model_outputs)
    return step


def build() -> QgsProcessingModelAlgorithm:
    model = QgsProcessingModelAlgorithm("Train and classify", GROUP, GROUP_ID)
    model.setHelpContent({"ALG_DESC": (
        "The whole GeoSeg chain in one step: trains a U-Net on all bands straight from the multispectral raster "
        "and its label raster (random windows every epoch, validation and test on separate blocks spread over "
        "the labelled area, a warm-up and cosine schedule, the weights of the last epochs averaged) and classifies "
        "the whole raster with it. Outputs the model file and the classified raster (styled, same CRS and "
        "geotransform as the input) and, unless skipped, its class polygons.")})
    model_input(model, QgsProcessingParameterRasterLayer("IMAGE", "Multispectral raster"), 60)
    model_input(model, QgsProcessingParameterRasterLayer("LABELS", "Label raster (0, 1, 2, …; 255 = unlabelled)"), 260)
    model_input(model, QgsProcessingParameterNumber(
        "EPOCHS", "Epochs (the training's length)", QgsProcessingParameterNumber.Integer, TrainConfig("").epochs,
        minValue=1), 460)
    param = QgsProcessingModelChildParameterSource.fromModelParameter
    train = child("geoseg:train", "train", {"IMAGE": param("IMAGE"), "LABELS": param("LABELS"),
                                             "EPOCHS": param("EPOCHS")}, (260, 220), {"OUTPUT": "Model file"})
    classify = child("geoseg:classify", "classify", {
        "INPUT": param("IMAGE"),
        "MODEL": QgsProcessingModelChildParameterSource.fromChildOutput("train", "OUTPUT"),
    }, (460, 360), {"OUTPUT": "Classified raster"})
    polygons = child("geoseg:vectorize", "vectorize", {
        "INPUT": QgsProcessingModelChildParameterSource.fromChildOutput("classify", "OUTPUT"),
    }, (660, 480), {"OUTPUT": "Class polygons"})
    for step in (train, classify, polygons):
        model.addChildAlgorithm(step)
    return model


if __name__ == "__main__":
    app = QgsApplication([], False)
    app.initQgis()
    provider = GeoSegProvider()  # kept: the registry holds no reference to the Python object
    QgsApplication.processingRegistry().addProvider(provider)
    model = build()
    model.updateDestinationParameters()
    if not model.toFile(str(OUTPUT)):
        sys.exit(f"Could not write {OUTPUT}")
    print(f"Wrote {OUTPUT}")
