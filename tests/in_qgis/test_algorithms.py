"""Each GeoSeg algorithm run through QGIS Processing on rasters the tests make."""
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import (QgsApplication, QgsFeature, QgsGeometry, QgsProcessingContext,
                       QgsProcessingParameterDefinition,
                       QgsProcessingException, QgsProcessingFeedback, QgsProject, QgsRasterLayer,
                       QgsRectangle, QgsVectorFileWriter, QgsVectorLayer)

from synthetic import CLASS_NAMES, EPSG, GEOTRANSFORM, write_raster, write_scene
from tiny_model import write_tiny_model
from training.config import CLASSIFY_PRECISIONS
from training.models.bundle import read_info, read_pixels

ALGORITHMS = ["geoseg:inspect", "geoseg:createchips", "geoseg:train", "geoseg:evaluate", "geoseg:compare",
              "geoseg:classify", "geoseg:export",
              "geoseg:train_and_classify", "geoseg:postprocess", "geoseg:vectorize",
              "geoseg:assessaccuracy", "geoseg:suggestsamples", "geoseg:setupenvironment",
              "geoseg:checkenvironment"]


def chip_origin(path):
    gt = gdal.Open(str(path)).GetGeoTransform()
    return round((gt[0] - GEOTRANSFORM[0]) / GEOTRANSFORM[1]), round((gt[3] - GEOTRANSFORM[3]) / GEOTRANSFORM[5])


def test_provider_lists_every_algorithm_with_help(geoseg):
    registry = QgsApplication.processingRegistry()
    for algorithm_id in ALGORITHMS:
        algorithm = registry.algorithmById(algorithm_id)
        assert algorithm is not None, algorithm_id
        assert algorithm.shortHelpString(), algorithm_id
    assert {(registry.algorithmById(a).groupId(), registry.algorithmById(a).group()) for a in ALGORITHMS} == {
        ("deeplearning", "Deep learning"), ("environment", "Environment"),
        ("mapproducts", "Map products")}  # one id per Toolbox group


def test_shipped_model_is_valid_and_labels_its_outputs(geoseg, scene):
    model = QgsApplication.processingRegistry().algorithmById("geoseg:train_and_classify")
    assert model.childAlgorithms()
    for child_id in model.childAlgorithms():
        assert model.validateChildAlgorithm(child_id) == (True, []), child_id  # no red box in the modeler
    assert model.canExecute() == (True, "")
    image, labels = scene
    parameters = {"IMAGE": str(image), "LABELS": str(labels), "classify:Classified raster": "TEMPORARY_OUTPUT",
                  "postprocess:Clean classified raster": "TEMPORARY_OUTPUT",
                  "train:Model file": "TEMPORARY_OUTPUT"}  # as the dialog fills them in
    assert model.checkParameterValues(parameters, QgsProcessingContext()) == (True, "")
    assert [(p.name(), p.description()) for p in model.destinationParameterDefinitions()] == [
        ("classify:Classified raster", "Classified raster"),
        ("postprocess:Clean classified raster", "Clean classified raster"),
        ("suggest:Suggested squares", "Suggested squares"), ("train:Model file", "Model file"),
        ("vectorize:Class polygons", "Class polygons")]
    for optional in ("vectorize:Class polygons", "suggest:Suggested squares"):
        assert model.parameterDefinition(optional).flags() & QgsProcessingParameterDefinition.FlagOptional


def test_shipped_model_traces_polygons_from_the_clean_raster_and_has_a_time_limit(geoseg):
    model = QgsApplication.processingRegistry().algorithmById("geoseg:train_and_classify")
    source = model.childAlgorithm("vectorize").parameterSources()["INPUT"][0]
    assert (source.outputChildId(), source.outputName()) == ("postprocess", "OUTPUT")
    assert model.childAlgorithm("postprocess").parameterSources()["INPUT"][0].outputChildId() == "classify"
    suggest = model.childAlgorithm("suggest").parameterSources()  # the trained model, avoiding the labels
    assert suggest["MODEL"][0].outputChildId() == "train" and suggest["LABELS"][0].parameterName() == "LABELS"
    assert model.parameterDefinition("MIN_PIXELS").defaultValue() > 0
    assert model.parameterDefinition("MAX_MINUTES").defaultValue() > 0  # minutes, not the 40 epochs' hour or more
    assert "foreground" in model.shortHelpString()  # QGIS 3.22 runs models on its main thread
    assert [p.name() for p in model.parameterDefinitions() if not p.isDestination()] == [
        "IMAGE", "LABELS", "EPOCHS", "MAX_MINUTES", "MIN_PIXELS"]  # the dialog's order: data first


def test_shipped_model_boxes_lie_on_the_canvas_apart(geoseg):
    """The modeler draws each box centred on its position: none may reach negative coordinates (off the
    canvas) and no two may touch."""
    from qgis.PyQt.QtCore import QPointF, QRectF

    model = QgsApplication.processingRegistry().algorithmById("geoseg:train_and_classify")
    steps = list(model.childAlgorithms().values())
    components = [*model.parameterComponents().values(), *steps,
                  *(output for step in steps for output in step.modelOutputs().values())]
    boxes = [QRectF(c.position() - QPointF(c.size().width(), c.size().height()) / 2, c.size()) for c in components]
    assert len(boxes) == 15
    assert min(box.left() for box in boxes) >= 0 and min(box.top() for box in boxes) >= 0
    for a, b in combinations(boxes, 2):
        assert not a.adjusted(-20, -20, 20, 20).intersects(b), (a, b)


def test_shipped_model_is_what_its_generator_builds_today(geoseg):
    """Its steps' parameters are the algorithms' current defaults: regenerate it when one changes."""
    from tools.build_demo_model import build

    def parameters(model):
        return {child_id: child["params"] for child_id, child in model.toVariant()["children"].items()}

    shipped = QgsApplication.processingRegistry().algorithmById("geoseg:train_and_classify")
    assert parameters(shipped) == parameters(build())


def test_loading_the_plugin_imports_no_tensorflow():
    # TensorFlow inside the QGIS process clashes with QGIS' SQLite and crashes it on exit (see runner.py).
    code = ("import sys; import geoseg_qgis.provider; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'ai_edge_litert') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).parents[2])
    assert done.stdout.strip() == "[]"


def test_create_chips_from_label_raster_keeps_georeferencing(geoseg, scene, tmp_path):
    image, labels = scene
    result = geoseg.run("geoseg:createchips", {"INPUT": str(image), "LABELS": str(labels), "CHIP_SIZE": 32,
                                               "OUTPUT": str(tmp_path / "chips")})
    assert result["CHIP_COUNT"] == 16
    chip = tmp_path / "chips" / "images" / "chip_000032_000064.tif"
    ds = gdal.Open(str(chip))
    assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (32, 32, 12)
    assert chip_origin(chip) == (64, 32)
    assert ds.GetSpatialRef().GetAuthorityCode(None) == str(EPSG)
    source = gdal.Open(str(image)).ReadAsArray(64, 32, 32, 32)
    np.testing.assert_array_equal(ds.ReadAsArray(), source)
    label = gdal.Open(str(tmp_path / "chips" / "labels" / chip.name)).ReadAsArray()
    np.testing.assert_array_equal(label, gdal.Open(str(labels)).ReadAsArray(64, 32, 32, 32))


def polygon_labels(path, crs="EPSG:32633"):
    """Two polygons: class 0 over the left half of the synthetic scene, class 2 over the top-right quarter."""
    layer = QgsVectorLayer(f"Polygon?crs={crs}&field=class_id:integer", "labels", "memory")  # any QGIS, no QVariant
    x0, y0 = GEOTRANSFORM[0], GEOTRANSFORM[3]
    for value, rect in ((0, QgsRectangle(x0, y0 - 1280, x0 + 640, y0)),
                        (2, QgsRectangle(x0 + 640, y0 - 640, x0 + 1280, y0))):
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromRect(rect))
        feature.setAttribute("class_id", value)
        layer.dataProvider().addFeature(feature)
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    QgsVectorFileWriter.writeAsVectorFormatV3(layer, str(path), QgsProject.instance().transformContext(), options)
    return str(path)


def test_create_chips_from_polygons_burns_the_class_field(geoseg, scene, tmp_path):
    image, _ = scene
    result = geoseg.run("geoseg:createchips", {
        "INPUT": str(image), "LABEL_POLYGONS": polygon_labels(tmp_path / "labels.gpkg"), "CLASS_FIELD": "class_id",
        "CHIP_SIZE": 64, "MIN_LABELLED": 0.9, "OUTPUT": str(tmp_path / "chips")})
    assert result["CHIP_COUNT"] == 3  # the bottom-right chip has no polygon
    labels = {chip_origin(p): gdal.Open(str(p)).ReadAsArray() for p in (tmp_path / "chips" / "labels").iterdir()}
    assert set(labels) == {(0, 0), (64, 0), (0, 64)}
    assert (labels[(0, 0)] == 0).all() and (labels[(64, 0)] == 2).all() and (labels[(0, 64)] == 0).all()


def test_create_chips_needs_labels(geoseg, scene, tmp_path):
    image, _ = scene
    with pytest.raises(QgsProcessingException, match="label raster or label polygons"):
        geoseg.run("geoseg:createchips", {"INPUT": str(image), "OUTPUT": str(tmp_path / "chips")})


@pytest.fixture(scope="module")
def trained(geoseg, tmp_path_factory):
    """A U-Net trained for two epochs through geoseg:train on RGB chips of the synthetic scene."""
    folder = tmp_path_factory.mktemp("trained")
    image, labels = write_scene(folder, 192, 192)
    geoseg.run("geoseg:createchips", {"INPUT": str(image), "LABELS": str(labels), "OUTPUT": str(folder / "chips")})
    result = geoseg.run("geoseg:train", {
        "INPUT": str(folder / "chips"), "BANDS": 1, "EPOCHS": 2, "BATCH_SIZE": 4, "VALIDATION_SHARE": 2,
        "TEST_SHARE": 1, "OUTPUT": str(folder / "model.keras")})
    return image, result


def test_train_writes_a_model_bundle_and_held_out_figures(trained):
    _, result = trained
    info = read_info(result["OUTPUT"])
    assert info.architecture == "unet" and info.bands == [4, 3, 2]
    assert [c.name for c in info.classes] == CLASS_NAMES
    assert 0.0 <= result["HELD_OUT_ACCURACY"] <= 1.0 and 0.0 <= result["BASELINE_ACCURACY"] <= 1.0
    assert 0.0 <= result["PIXEL_BASELINE_MEAN_IOU"] <= 1.0 and read_pixels(result["OUTPUT"]) is not None
    history = Path(result["HISTORY"]).read_text().splitlines()
    assert history[0].startswith("epoch") and len(history) == 3
    assert result["REPORT"] == result["OUTPUT"][:-len(".keras")] + ".report.html"
    assert "GeoSeg training report" in Path(result["REPORT"]).read_text()


def test_evaluate_reports_scores_on_chips(geoseg, trained, tmp_path):
    image, result = trained
    chips = str(Path(result["OUTPUT"]).parent / "chips")
    scores = geoseg.run("geoseg:evaluate", {"MODEL": result["OUTPUT"], "INPUT": chips, "PREVIEW_CHIPS": 2,
                                            "OUTPUT_HTML": str(tmp_path / "report.html"),
                                            "OUTPUT_CSV": str(tmp_path / "scores.csv"),
                                            "OUTPUT_TABLE": str(tmp_path / "scores.gpkg")})
    assert 0.0 <= scores["MEAN_IOU"] <= scores["MEAN_F1"] <= 1.0 and 0.0 <= scores["PIXEL_ACCURACY"] <= 1.0
    assert 0.0 <= scores["PIXEL_BASELINE_MEAN_IOU"] <= 1.0  # refitted on the training pixels the model file keeps
    rows = {f["class"]: f for f in QgsVectorLayer(scores["OUTPUT_TABLE"], "scores", "ogr").getFeatures()}
    table = {name: row["iou"] for name, row in rows.items()}
    assert list(table)[:3] == CLASS_NAMES and table["mean (macro, classes present)"] == pytest.approx(
        scores["MEAN_IOU"])
    assert 0.0 <= scores["MEAN_OBJECT_F1"] <= 1.0 and rows["mean (macro, classes present)"]["object_f1"] == (
        pytest.approx(scores["MEAN_OBJECT_F1"]))  # objects of every class but the most frequent one
    assert sum(rows[name]["objects_reference"] > 0 for name in CLASS_NAMES) == 2
    assert "GeoSeg evaluation" in (tmp_path / "report.html").read_text()
    assert (tmp_path / "scores.csv").read_text().startswith("class,iou,f1,pixels")
    flips = read_info(result["OUTPUT"]).metrics["flip_average"]  # the decision training recorded, as text
    assert scores["FLIP_AVERAGE"].startswith(f"Flip averaging: {'on' if flips['on'] else 'off'} for the automatic")
    assert f"mean IoU {flips['mean_iou_plain']:.4f} without" in scores["FLIP_AVERAGE"]

    import shutil

    for kind, suffix in (("images", "_img"), ("labels", "_label")):  # the same chips, named with suffixes
        (tmp_path / "named" / kind).mkdir(parents=True)
        for chip in (Path(chips) / kind).iterdir():
            shutil.copy(chip, tmp_path / "named" / kind / f"{chip.stem}{suffix}{chip.suffix}")
    named = geoseg.run("geoseg:evaluate", {"MODEL": result["OUTPUT"], "INPUT": str(tmp_path / "named"),
                                           "IMAGE_SUFFIX": "_img", "LABEL_SUFFIX": "_label", "PREVIEW_CHIPS": 0,
                                           "OUTPUT_HTML": str(tmp_path / "named.html")})
    assert named["MEAN_IOU"] == scores["MEAN_IOU"]


def test_compare_scores_model_files_as_evaluate_does_and_returns_a_table(geoseg, trained, tmp_path):
    _, result = trained
    chips = str(Path(result["OUTPUT"]).parent / "chips")
    scores = geoseg.run("geoseg:evaluate", {"MODEL": result["OUTPUT"], "INPUT": chips, "PREVIEW_CHIPS": 0,
                                            "OUTPUT_HTML": str(tmp_path / "evaluate.html")})
    compared = geoseg.run("geoseg:compare", {"MODELS": [result["OUTPUT"]], "TEST_CHIPS": chips, "PREVIEW_CHIPS": 2,
                                             "OUTPUT_HTML": str(tmp_path / "compare.html"),
                                             "OUTPUT_TABLE": str(tmp_path / "models.gpkg")})
    assert compared["BEST_MODEL"] == "model" and compared["BEST_MODEL_FILE"] == result["OUTPUT"]
    assert compared["BEST_MEAN_IOU"] == scores["MEAN_IOU"]
    row, pixel = QgsVectorLayer(compared["OUTPUT_TABLE"], "models", "ogr").getFeatures()
    assert row["model"] == "model" and row["mean_iou"] == pytest.approx(scores["MEAN_IOU"])
    assert pixel["model"] == "Pixel classifier (gradient boosting, per pixel)"  # the baseline, as evaluate has it
    assert pixel["mean_iou"] == pytest.approx(scores["PIXEL_BASELINE_MEAN_IOU"])
    assert row["pixel_accuracy"] == pytest.approx(scores["PIXEL_ACCURACY"]) and row["parameters"] > 0
    assert "GeoSeg model comparison" in (tmp_path / "compare.html").read_text()
    assert (tmp_path / "compare_files" / "metrics.csv").exists()


def test_cancel_stops_training_in_the_worker_and_keeps_the_best_model(geoseg, trained, tmp_path):
    from qgis.core import QgsProcessingFeedback

    class CancelAfterFirstEpoch(QgsProcessingFeedback):
        def pushInfo(self, info):  # noqa: N802 (QGIS API name)
            super().pushInfo(info)
            if info.startswith("Epoch 1/"):
                self.cancel()

    chips = str(Path(trained[1]["OUTPUT"]).parent / "chips")
    result = geoseg.run("geoseg:train", {"INPUT": chips, "BANDS": 1, "EPOCHS": 200, "BATCH_SIZE": 4,
                                         "OUTPUT": str(tmp_path / "model.keras")}, feedback=CancelAfterFirstEpoch())
    assert Path(result["OUTPUT"]).exists() and (tmp_path / "model.resume.npz").exists()
    assert len(Path(result["HISTORY"]).read_text().splitlines()) <= 4


def test_train_takes_more_rasters_with_their_labels(geoseg, tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first, second = write_scene(tmp_path / "a", 256, 96), write_scene(tmp_path / "b", 96, 256, seed=3)
    result = geoseg.run("geoseg:train", {
        "IMAGE": str(first[0]), "LABELS": str(first[1]), "MORE_IMAGES": [str(second[0])],
        "MORE_LABELS": [str(second[1])], "BANDS": 1, "EPOCHS": 1, "WINDOW_SIZE": 32, "WINDOWS_PER_EPOCH": 16,
        "BATCH_SIZE": 8, "OUTPUT": str(tmp_path / "model.keras")})
    training = read_info(result["OUTPUT"]).training
    assert training["more_images"] == [str(second[0])] and training["more_labels"] == [str(second[1])]


def test_train_rejects_a_missing_custom_band_list(geoseg, trained, tmp_path):
    with pytest.raises(QgsProcessingException, match="Custom list"):
        geoseg.run("geoseg:train", {"INPUT": str(tmp_path), "BANDS": 2, "OUTPUT": str(tmp_path / "m.keras")})


def test_classify_keeps_grid_and_writes_a_styled_class_raster(geoseg, trained, tmp_path):
    image, result = trained
    output = str(tmp_path / "classes.tif")
    geoseg.run("geoseg:classify", {"INPUT": str(image), "MODEL": result["OUTPUT"], "OUTPUT": output})
    source, classified = gdal.Open(str(image)), gdal.Open(output)
    assert classified.GetGeoTransform() == source.GetGeoTransform()
    assert classified.GetSpatialRef().IsSame(source.GetSpatialRef())
    assert (classified.RasterXSize, classified.RasterYSize) == (source.RasterXSize, source.RasterYSize)
    band = classified.GetRasterBand(1)
    assert set(np.unique(band.ReadAsArray())) <= {0, 1, 2}
    assert band.GetCategoryNames()[:3] == CLASS_NAMES
    assert legend(QgsRasterLayer(output, "classes")) == CLASS_NAMES  # as Add Raster Layer or a drop opens it


def test_classify_flip_averaging_is_the_drop_down_choice(geoseg, trained, tmp_path):
    image, result = trained
    flips = read_info(result["OUTPUT"]).metrics["flip_average"]["on"]
    percent = {}
    for choice, index in (("auto", 0), ("on", 1), ("off", 2)):
        geoseg.run("geoseg:classify", {"INPUT": str(image), "MODEL": result["OUTPUT"], "FLIP_AVERAGE": index,
                                       "PROBABILITIES": str(tmp_path / f"{choice}-p.tif"),
                                       "OUTPUT": str(tmp_path / f"{choice}.tif")})
        percent[choice] = gdal.Open(str(tmp_path / f"{choice}-p.tif")).ReadAsArray()
    assert (percent["on"] != percent["off"]).any()
    assert (percent["auto"] == percent["on" if flips else "off"]).all()


def test_classify_in_batch_mode_writes_each_row_on_its_grid(geoseg, trained, tmp_path):
    """Processing's batch mode runs the algorithm once per row with one context: two rows, two outputs."""
    image, result = trained
    part = tmp_path / "part.tif"
    gdal.Translate(str(part), str(image), srcWin=[32, 0, 96, 64])
    context = QgsProcessingContext()
    rows = [(image, tmp_path / "whole_classes.tif"), (part, tmp_path / "part_classes.tif")]
    for source, output in rows:
        geoseg.run("geoseg:classify", {"INPUT": str(source), "MODEL": result["OUTPUT"], "OUTPUT": str(output)},
                   context=context)
    for source, output in rows:
        source, classified = gdal.Open(str(source)), gdal.Open(str(output))
        assert classified.GetGeoTransform() == source.GetGeoTransform()
        assert (classified.RasterXSize, classified.RasterYSize) == (source.RasterXSize, source.RasterYSize)
        assert set(np.unique(classified.ReadAsArray())) <= {0, 1, 2}


def legend(layer):
    """The class labels of a layer drawn by a paletted renderer, in value order."""
    assert layer.isValid() and layer.renderer().type() == "paletted"
    classes = layer.renderer().classes()
    assert [c.value for c in classes] == list(range(len(classes)))
    return [c.label for c in classes]


def loaded_layer(path):
    """The layer Processing loaded into the project from ``path``."""
    layers = [layer for layer in QgsProject.instance().mapLayers().values() if layer.source() == str(path)]
    assert len(layers) == 1, [layer.source() for layer in QgsProject.instance().mapLayers().values()]
    return layers[0]


def test_classify_output_loaded_by_processing_shows_only_the_classes(geoseg, trained, tmp_path, layer_tree):
    image, result = trained
    output = tmp_path / "classes.tif"
    geoseg.runAndLoadResults("geoseg:classify", {"INPUT": str(image), "MODEL": result["OUTPUT"],
                                                 "OUTPUT": str(output)})
    try:
        assert legend(loaded_layer(output)) == CLASS_NAMES
    finally:
        QgsProject.instance().removeAllMapLayers()


def test_classify_uncertainty_loads_as_a_continuous_map(geoseg, trained, tmp_path):
    image, result = trained
    output, uncertainty = tmp_path / "classes.tif", tmp_path / "uncertainty.tif"
    outputs = geoseg.runAndLoadResults("geoseg:classify", {"INPUT": str(image), "MODEL": result["OUTPUT"],
                                                           "OUTPUT": str(output), "UNCERTAINTY": str(uncertainty)})
    try:
        assert outputs["UNCERTAINTY"] == str(uncertainty)
        for layer in (loaded_layer(uncertainty), QgsRasterLayer(str(uncertainty), "uncertainty")):
            assert layer.isValid() and layer.renderer().type() == "singlebandpseudocolor"
            shader = layer.renderer().shader().rasterShaderFunction()
            assert (shader.minimumValue(), shader.maximumValue()) == (0, 100)
        values = gdal.Open(str(uncertainty)).ReadAsArray()
        assert values.shape == gdal.Open(str(output)).ReadAsArray().shape and values.max() <= 100
    finally:
        QgsProject.instance().removeAllMapLayers()


class RecordingFeedback(QgsProcessingFeedback):
    def __init__(self):
        super().__init__()
        self.messages = []

    def pushInfo(self, info):  # noqa: N802 (QGIS API name)
        self.messages.append(info)


@pytest.mark.parametrize("engine, precision, label", [
    (1, 0, "with LiteRT (XNNPACK) in float32"), (2, 1, "with TensorFlow in float32"),
    (0, 2, "with TensorFlow in bfloat16")])
def test_classify_runs_on_the_chosen_engine_and_precision(geoseg, trained, tmp_path, engine, precision, label):
    image, result = trained
    feedback = RecordingFeedback()
    geoseg.run("geoseg:classify", {"INPUT": str(image), "MODEL": result["OUTPUT"], "ENGINE": engine,
                                   "PRECISION": precision, "OUTPUT": str(tmp_path / "classes.tif")},
               feedback=feedback)
    assert any(label in message for message in feedback.messages), feedback.messages
    assert gdal.Open(str(tmp_path / "classes.tif")).RasterCount == 1


def test_classify_offers_int8_and_says_why_a_model_file_without_a_copy_cannot_run_it(geoseg, scene, tmp_path):
    image, _ = scene
    precision = QgsApplication.processingRegistry().algorithmById("geoseg:classify").parameterDefinition("PRECISION")
    assert precision.options() == list(CLASSIFY_PRECISIONS.values())
    with pytest.raises(QgsProcessingException, match="carries no int8 copy .*: set the precision to auto or float32"):
        geoseg.run("geoseg:classify", {"INPUT": str(image), "MODEL": str(write_tiny_model(tmp_path / "m.keras")),
                                       "PRECISION": list(CLASSIFY_PRECISIONS).index("int8"),
                                       "OUTPUT": str(tmp_path / "out.tif")})
    assert not (tmp_path / "out.tif").exists()


def test_classify_names_a_missing_model_file(geoseg, scene, tmp_path):
    image, _ = scene
    missing = tmp_path / "nowhere.keras"
    with pytest.raises(QgsProcessingException, match="nowhere.keras"):
        geoseg.run("geoseg:classify", {"INPUT": str(image), "MODEL": str(missing),
                                       "OUTPUT": str(tmp_path / "out.tif")})
    assert not (tmp_path / "out.tif").exists()


def test_bad_input_classify_refuses_to_write_over_its_input_raster(geoseg, trained):
    image, result = trained
    before = image.read_bytes()
    with pytest.raises(QgsProcessingException, match="never overwrites its inputs"):
        geoseg.run("geoseg:classify", {"INPUT": str(image), "MODEL": result["OUTPUT"], "OUTPUT": str(image)})
    assert image.read_bytes() == before and gdal.Open(str(image)).RasterCount == 12


def test_tensorflow_jobs_run_in_the_python_named_by_geoseg_python(geoseg, trained, tmp_path, monkeypatch):
    _, result = trained
    marker = tmp_path / "worker-started"
    wrapper = tmp_path / "python-with-tensorflow"
    wrapper.write_text(f'#!/bin/sh\ntouch "{marker}"\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("GEOSEG_PYTHON", str(wrapper))
    scores = geoseg.run("geoseg:evaluate", {"MODEL": result["OUTPUT"],
                                            "INPUT": str(Path(result["OUTPUT"]).parent / "chips"),
                                            "OUTPUT_HTML": str(tmp_path / "report.html")})
    assert marker.exists() and 0.0 <= scores["PIXEL_ACCURACY"] <= 1.0
    monkeypatch.setenv("GEOSEG_PYTHON", str(tmp_path / "no-such-python"))
    with pytest.raises(QgsProcessingException, match="Cannot start the GeoSeg worker Python"):
        geoseg.run("geoseg:evaluate", {"MODEL": result["OUTPUT"], "INPUT": str(tmp_path),
                                       "OUTPUT_HTML": str(tmp_path / "report.html")})


def test_shipped_model_output_loaded_by_processing_shows_only_the_classes(geoseg, tmp_path, desktop_legend):
    image, labels = write_scene(tmp_path, 256, 256)  # room for blocks of two 64-px windows, the model's default
    classes = gdal.Open(str(labels)).ReadAsArray()
    classes[:, 192:] = 255  # the right quarter unlabelled: where the squares to label next may go
    write_raster(labels, classes, category_names=CLASS_NAMES)
    output = tmp_path / "classes.tif"
    clean = tmp_path / "clean.tif"
    squares = tmp_path / "suggested.gpkg"
    geoseg.runAndLoadResults("geoseg:train_and_classify", {
        "IMAGE": str(image), "LABELS": str(labels), "EPOCHS": 1, "MIN_PIXELS": 20,
        "train:Model file": str(tmp_path / "model.keras"), "classify:Classified raster": str(output),
        "postprocess:Clean classified raster": str(clean), "vectorize:Class polygons": str(tmp_path / "classes.gpkg"),
        "suggest:Suggested squares": str(squares)})
    try:
        assert legend(loaded_layer(output)) == legend(loaded_layer(clean)) == CLASS_NAMES
        assert desktop_legend(output) and desktop_legend(clean)
        polygons = QgsVectorLayer(f"{tmp_path / 'classes.gpkg'}|layername=classes", "polygons", "ogr")
        assert {f["class"] for f in polygons.getFeatures()} <= set(CLASS_NAMES) and polygons.featureCount() > 0
        assert min(f["area"] for f in polygons.getFeatures()) >= 20 * 10 * 10  # 20 pixels of 10 m at least
        suggested = loaded_layer(squares)
        unlabelled_left = GEOTRANSFORM[0] + 192 * GEOTRANSFORM[1]
        assert suggested.featureCount() > 0 and suggested.renderer().classAttribute() == "predicted"
        assert min(f.geometry().boundingBox().xMinimum() for f in suggested.getFeatures()) >= unlabelled_left
    finally:
        QgsProject.instance().removeAllMapLayers()


def test_classify_extent_in_another_crs_and_input_bands(geoseg, trained, tmp_path):
    from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsProject

    image, result = trained
    x0, dx, _, y0, _, dy = GEOTRANSFORM
    utm, web = QgsCoordinateReferenceSystem(f"EPSG:{EPSG}"), QgsCoordinateReferenceSystem("EPSG:3857")
    part = QgsRectangle(x0 + 30.5 * dx, y0 + 150.2 * dy, x0 + 120.7 * dx, y0 + 40.4 * dy)
    box = QgsCoordinateTransform(utm, web, QgsProject.instance()).transformBoundingBox(part)
    extent = f"{box.xMinimum()},{box.xMaximum()},{box.yMinimum()},{box.yMaximum()} [EPSG:3857]"
    back = QgsCoordinateTransform(web, utm, QgsProject.instance()).transformBoundingBox(box)
    left, top = int((back.xMinimum() - x0) // dx), int((back.yMaximum() - y0) // dy)
    right, bottom = -int(-(back.xMaximum() - x0) // dx), -int(-(back.yMinimum() - y0) // dy)
    output = tmp_path / "part.tif"
    geoseg.run("geoseg:classify", {"INPUT": str(image), "MODEL": result["OUTPUT"], "EXTENT": extent,
                                   "INPUT_BANDS": [4, 3, 2], "OUTPUT": str(output)})
    classified = gdal.Open(str(output))
    assert classified.GetGeoTransform() == (x0 + left * dx, dx, 0.0, y0 + top * dy, 0.0, dy)
    assert (classified.RasterXSize, classified.RasterYSize) == (right - left, bottom - top)
    with pytest.raises(QgsProcessingException, match="reads 3 bands.*2 input bands"):
        geoseg.run("geoseg:classify", {"INPUT": str(image), "MODEL": result["OUTPUT"], "INPUT_BANDS": [4, 3],
                                       "OUTPUT": str(tmp_path / "other.tif")})
