"""geoseg:suggestsamples in QGIS: its squares load styled, and classify → suggest → (label) → train runs."""
from pathlib import Path

from qgis.core import QgsProject, QgsVectorLayer

from synthetic import write_scene
from tiny_model import write_tiny_model


def test_classify_suggest_label_and_train(geoseg, tmp_path):
    image, labels = write_scene(tmp_path, 64, 64)
    model = str(write_tiny_model(tmp_path / "model.keras"))
    classified = geoseg.run("geoseg:classify", {"INPUT": str(image), "MODEL": model,
                                                "OUTPUT": str(tmp_path / "classes.tif")})
    output = str(tmp_path / "suggested.gpkg")
    result = geoseg.runAndLoadResults("geoseg:suggestsamples", {
        "INPUT": str(image), "MODEL": model, "COUNT": 6, "MIN_DISTANCE": 16, "OUTPUT": output})
    try:
        layer = next(loaded for loaded in QgsProject.instance().mapLayers().values()
                     if loaded.source().startswith(output))
        assert layer.featureCount() == result["SQUARES"] == 6
        renderer = layer.renderer()
        assert renderer.type() == "categorizedSymbol" and renderer.classAttribute() == "predicted"
        names = {f["predicted"]: f["predicted_name"] for f in layer.getFeatures()}
        assert {c.value(): c.label() for c in renderer.categories()} == names
        assert all(c.symbol().symbolLayer(0).brushStyle() == 0 for c in renderer.categories())  # outlines only
    finally:
        QgsProject.instance().removeAllMapLayers()
    assert Path(classified["OUTPUT"]).exists()
    edited = QgsVectorLayer(output, "suggested", "ogr")  # the user's labelling, done by code
    class_field = edited.fields().indexOf("class")
    edited.startEditing()
    for feature in edited.getFeatures():
        edited.changeAttributeValue(feature.id(), class_field, feature["predicted"])
    assert edited.commitChanges()
    chips = geoseg.run("geoseg:createchips", {"INPUT": str(image), "LABEL_POLYGONS": output, "CLASS_FIELD": "class",
                                              "CHIP_SIZE": 16, "OUTPUT": str(tmp_path / "chips")})
    assert chips["CHIP_COUNT"] >= 6
    trained = geoseg.run("geoseg:train", {"INPUT": chips["OUTPUT"], "BANDS": 1, "EPOCHS": 1, "BATCH_SIZE": 2,
                                          "VALIDATION_SHARE": 1, "TEST_SHARE": 1, "INIT_MODEL": model,
                                          "OUTPUT": str(tmp_path / "retrained.keras")})
    assert Path(trained["OUTPUT"]).exists()
