"""Regenerate geoseg_qgis/models/train_and_classify.model3, the graphical model shipped with the plugin.

Run from the repository root: ``QT_QPA_PLATFORM=offscreen .venv/bin/python tools/build_demo_model.py``.
"""
import sys
from pathlib import Path

from qgis.core import (QgsApplication, QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                       QgsProcessingModelChildParameterSource, QgsProcessingModelOutput,
                       QgsProcessingModelParameter, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterLayer)
from qgis.PyQt.QtCore import QPointF

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "geoseg_qgis" / "models" / "train_and_classify.model3"


def model_input(model, parameter, x):
    model.addModelParameter(parameter, QgsProcessingModelParameter(parameter.name()))
    model.parameterComponent(parameter.name()).setPosition(QPointF(x, 60))


def child(algorithm_id, child_id, sources, position, outputs=None):
    step = QgsProcessingModelChildAlgorithm(algorithm_id)
    step.setChildId(child_id)
    step.setDescription(child_id.replace("_", " ").capitalize())
    step.setPosition(QPointF(*position))
    for name, source in sources.items():
        step.addParameterSources(name, [source])
    model_outputs = {}
    for name, description in (outputs or {}).items():
        output = QgsProcessingModelOutput(description)
        output.setChildId(child_id)
        output.setChildOutputName(name)
        model_outputs[description] = output
    step.setModelOutputs(model_outputs)
    return step


def build() -> QgsProcessingModelAlgorithm:
    model = QgsProcessingModelAlgorithm("Train and classify", "Deep learning", "geoseg")
    model.setHelpContent({"ALG_DESC": (
        "The whole GeoSeg chain in one step: cuts the multispectral raster and its label raster into 64×64 chips, "
        "trains a U-Net on all bands (early stopping, best model kept) and classifies the whole raster with it. "
        "Outputs the model file and the classified raster (styled, same CRS and geotransform as the input).")})
    model_input(model, QgsProcessingParameterRasterLayer("IMAGE", "Multispectral raster"), 60)
    model_input(model, QgsProcessingParameterRasterLayer("LABELS", "Label raster (0, 1, 2, …; 255 = unlabelled)"), 260)
    model_input(model, QgsProcessingParameterNumber(
        "EPOCHS", "Maximum epochs", QgsProcessingParameterNumber.Integer, 60, minValue=1), 460)
    param = QgsProcessingModelChildParameterSource.fromModelParameter
    chips = child("geoseg:createchips", "create_chips", {
        "INPUT": param("IMAGE"), "LABELS": param("LABELS"),
        "CHIP_SIZE": QgsProcessingModelChildParameterSource.fromStaticValue(64),
        "MIN_LABELLED": QgsProcessingModelChildParameterSource.fromStaticValue(0.3),
    }, (160, 180))
    train = child("geoseg:train", "train", {
        "INPUT": QgsProcessingModelChildParameterSource.fromChildOutput("create_chips", "OUTPUT"),
        "EPOCHS": param("EPOCHS"),
        "PATIENCE": QgsProcessingModelChildParameterSource.fromStaticValue(10),
        "BATCH_SIZE": QgsProcessingModelChildParameterSource.fromStaticValue(8),
    }, (360, 300), {"OUTPUT": "Model file"})
    classify = child("geoseg:classify", "classify", {
        "INPUT": param("IMAGE"),
        "MODEL": QgsProcessingModelChildParameterSource.fromChildOutput("train", "OUTPUT"),
    }, (560, 420), {"OUTPUT": "Classified raster"})
    for step in (chips, train, classify):
        model.addChildAlgorithm(step)
    return model


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    app = QgsApplication([], False)
    app.initQgis()
    from geoseg_qgis.provider import GeoSegProvider

    QgsApplication.processingRegistry().addProvider(GeoSegProvider())
    model = build()
    model.updateDestinationParameters()
    if not model.toFile(str(OUTPUT)):
        sys.exit(f"Could not write {OUTPUT}")
    print(f"Wrote {OUTPUT}")
