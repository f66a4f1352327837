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
from qgis.PyQt.QtCore import QPointF, QSizeF  # noqa: E402

from geoseg_qgis.algorithms.base import GROUP, GROUP_ID  # noqa: E402
from geoseg_qgis.algorithms.classify import ClassifyAlgorithm  # noqa: E402
from geoseg_qgis.algorithms.postprocess import PostprocessAlgorithm  # noqa: E402
from geoseg_qgis.algorithms.suggest_samples import SuggestSamplesAlgorithm  # noqa: E402
from geoseg_qgis.algorithms.train import TrainAlgorithm  # noqa: E402
from geoseg_qgis.algorithms.vectorize import VectorizeAlgorithm  # noqa: E402
from geoseg_qgis.provider import SHIPPED_MODEL as OUTPUT  # noqa: E402
from geoseg_qgis.provider import GeoSegProvider  # noqa: E402
from training.config import TrainConfig  # noqa: E402

MINUTES = 10  # the model's time limit: it ends in minutes on a laptop CPU, where 40 epochs can take an hour
MIN_PIXELS = 25  # the model's minimum mapping unit: 0.25 ha of 10-m pixels
MAJORITY_WINDOW = 3  # its majority filter, smoothing class edges before the polygons are traced
# The layout: the modeler draws each box centred on its position, two lines of text high; inputs on the left,
# the steps down the middle, each step's output to its right.
BOX = QSizeF(220, 44)
INPUTS_X, STEPS_X, OUTPUTS_X = 130, 470, 810

FOREGROUND = (
    "<b>QGIS 3.22 and 3.24 run a graphical model in the foreground</b>: QGIS does not respond until the model "
    "ends (from 3.26 on it runs in the background). The <b>time limit</b> ({minutes} minutes unless changed) "
    "bounds the training; 0 trains all its epochs, which can take an hour on a laptop CPU. To keep working "
    "meanwhile, run <i>{steps}</i> one after another from the Toolbox instead: each runs in the background.")


def help_content() -> dict:
    steps = "</i>, <i>".join(a.DISPLAY_NAME for a in (TrainAlgorithm, ClassifyAlgorithm, PostprocessAlgorithm,
                                                       VectorizeAlgorithm, SuggestSamplesAlgorithm))
    return {
        "ALG_DESC": (
            FOREGROUND.format(minutes=MINUTES, steps=steps) + "<br><br>"
            "The whole GeoSeg chain in one run: trains a U-Net on all bands straight from the multispectral raster "
            "and its label raster (random windows every epoch, validation and test on separate blocks spread over "
            "the labelled area, a warm-up and cosine schedule, the weights of the last epochs averaged), classifies "
            "the whole raster with it, cleans the classified raster to a minimum mapping unit and traces the clean "
            "raster's class patches as polygons. Outputs the model file, the classified and the clean classified "
            "raster (styled, same CRS and geotransform as the input) and, unless skipped, the class polygons and "
            "the suggested squares: where the model is least sure outside the labelled area, the places to label "
            "next (fill their <b>class</b> field, make chips from them and train again from this model)."),
        "MAX_MINUTES": "Training ends after this many minutes, its schedule and weight averaging fitted to the time, "
                       "or after its epochs if they come first. 0: no time limit.",
        "MIN_PIXELS": f"Patches of the classified raster smaller than this merge into their largest neighbouring "
                      f"class (after a {MAJORITY_WINDOW} x {MAJORITY_WINDOW} majority filter) before the polygons "
                      "are traced. 0: none.",
    }


def model_input(model, parameter, y):
    component = QgsProcessingModelParameter(parameter.name())
    component.setPosition(QPointF(INPUTS_X, y))
    component.setSize(BOX)
    model.addModelParameter(parameter, component)


def child(algorithm_id, child_id, description, sources, y, output=None):
    """A step running ``algorithm_id`` with ``sources``, other parameters at their defaults; ``output`` is the
    label of the model output its OUTPUT becomes."""
    step = QgsProcessingModelChildAlgorithm(algorithm_id)
    step.setChildId(child_id)
    step.setDescription(description)
    step.setPosition(QPointF(STEPS_X, y))
    step.setSize(BOX)
    for definition in step.algorithm().parameterDefinitions():
        if not definition.isDestination():
            default = QgsProcessingModelChildParameterSource.fromStaticValue(definition.defaultValue())
            step.addParameterSources(definition.name(), [sources.get(definition.name(), default)])
    if output:
        model_output = QgsProcessingModelOutput(output, output)
        model_output.setChildId(child_id)
        model_output.setChildOutputName("OUTPUT")
        model_output.setMandatory(not step.algorithm().parameterDefinition("OUTPUT").flags()
                                  & QgsProcessingParameterDefinition.FlagOptional)
        model_output.setPosition(QPointF(OUTPUTS_X, y))
        model_output.setSize(BOX)
        step.setModelOutputs({output: model_output})
    return step


def build() -> QgsProcessingModelAlgorithm:
    model = QgsProcessingModelAlgorithm("Train and classify", GROUP, GROUP_ID)
    model.setHelpContent(help_content())
    integer = QgsProcessingParameterNumber.Integer
    minutes = QgsProcessingParameterNumber("MAX_MINUTES", "Time limit (minutes; 0 = none)",
                                           QgsProcessingParameterNumber.Double, MINUTES, minValue=0)
    minutes.setMetadata({"widget_wrapper": {"decimals": 1}})
    for parameter, y in (
            (QgsProcessingParameterRasterLayer("IMAGE", "Multispectral raster"), 40),
            (QgsProcessingParameterRasterLayer("LABELS", "Label raster (0, 1, 2, …; 255 = unlabelled)"), 110),
            (QgsProcessingParameterNumber("EPOCHS", "Epochs (the training's length)", integer,
                                          TrainConfig("").epochs, minValue=1), 180),
            (minutes, 250),
            (QgsProcessingParameterNumber("MIN_PIXELS", "Minimum mapping unit (pixels; 0 = none)", integer,
                                          MIN_PIXELS, minValue=0), 515)):
        model_input(model, parameter, y)
    model.setParameterOrder(["IMAGE", "LABELS", "EPOCHS", "MAX_MINUTES", "MIN_PIXELS"])  # the dialog's order
    param = QgsProcessingModelChildParameterSource.fromModelParameter
    result = QgsProcessingModelChildParameterSource.fromChildOutput
    for step in (
        child("geoseg:train", "train", "Train", {"IMAGE": param("IMAGE"), "LABELS": param("LABELS"),
                                                 "EPOCHS": param("EPOCHS"), "MAX_MINUTES": param("MAX_MINUTES")},
              215, "Model file"),
        child("geoseg:classify", "classify", "Classify", {"INPUT": param("IMAGE"), "MODEL": result("train", "OUTPUT")},
              365, "Classified raster"),
        child("geoseg:postprocess", "postprocess", "Clean (minimum mapping unit)", {
            "INPUT": result("classify", "OUTPUT"), "MIN_PIXELS": param("MIN_PIXELS"),
            "MAJORITY_WINDOW": QgsProcessingModelChildParameterSource.fromStaticValue(MAJORITY_WINDOW)},
              515, "Clean classified raster"),
        child("geoseg:vectorize", "vectorize", "Polygons", {"INPUT": result("postprocess", "OUTPUT")},
              665, "Class polygons"),
        child("geoseg:suggestsamples", "suggest", "Suggest samples to label", {
            "INPUT": param("IMAGE"), "MODEL": result("train", "OUTPUT"), "LABELS": param("LABELS")},
              815, "Suggested squares"),
    ):
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
