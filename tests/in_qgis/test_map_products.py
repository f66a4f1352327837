"""Before and after the model in QGIS: data inspection, and map products from a class raster."""
import json

import numpy as np
import pytest
from osgeo import gdal, ogr
from qgis.core import QgsRasterLayer

from synthetic import write_scene
from tools import qgis_process


@pytest.fixture
def class_map_and_reference(tmp_path):
    """The synthetic scene's label raster as the map, and a reference that disagrees on one block."""
    _, labels = write_scene(tmp_path, 64, 64)
    reference = gdal.Translate(str(tmp_path / "reference.tif"), str(labels))
    values = reference.GetRasterBand(1).ReadAsArray()
    values[:8, :8] = (values[:8, :8] + 1) % 3
    reference.GetRasterBand(1).WriteArray(values)
    reference = None
    return str(labels), str(tmp_path / "reference.tif")


def test_assess_accuracy_gives_a_table_a_report_and_numbers(geoseg, class_map_and_reference, tmp_path):
    class_map, reference = class_map_and_reference
    result = geoseg.run("geoseg:assessaccuracy", {
        "INPUT": class_map, "REFERENCE_RASTER": reference, "OUTPUT_TABLE": "memory:",
        "OUTPUT_HTML": str(tmp_path / "accuracy.html")})
    assert result["OVERALL_ACCURACY"] == pytest.approx(1 - 64 / 4096)
    assert result["OVERALL_ACCURACY_CI"] > 0
    rows = [feature.attributes() for feature in result["OUTPUT_TABLE"].getFeatures()]
    assert [row[1] for row in rows] == ["Water", "Forest", "Open land"]
    assert sum(row[3] for row in rows) == pytest.approx(sum(row[2] for row in rows))  # areas add up
    fields = result["OUTPUT_TABLE"].fields().names()
    assert {"f1_ci", "reference_2_pixels", "reference_2_proportion"} <= set(fields)
    proportions = [[row[fields.index(f"reference_{j}_proportion")] for j in range(3)] for row in rows]
    assert sum(map(sum, proportions)) == pytest.approx(1)
    assert "Error matrix in area proportions" in (tmp_path / "accuracy.html").read_text()


def test_qgis_process_runs_assess_accuracy(class_map_and_reference, tmp_path):
    class_map, reference = class_map_and_reference
    done = qgis_process.run(["run", "geoseg:assessaccuracy", "--json", f"--INPUT={class_map}",
                             f"--REFERENCE_RASTER={reference}", f"--OUTPUT_TABLE={tmp_path / 'accuracy.csv'}"],
                            tmp_path / "profile")
    results = json.loads(done.stdout[done.stdout.index("{"):])["results"]
    assert results["OVERALL_ACCURACY"] == pytest.approx(1 - 64 / 4096)
    assert (tmp_path / "accuracy.csv").read_text().splitlines()[0].startswith("value,class,mapped_area")
    assert np.isfinite(results["OVERALL_ACCURACY_CI"])


def test_postprocess_removes_speckle_and_keeps_the_legend(geoseg, class_map_and_reference, tmp_path):
    speckled = gdal.Translate(str(tmp_path / "speckled.tif"), class_map_and_reference[0])
    values = speckled.GetRasterBand(1).ReadAsArray()
    values[4::9, 4::9] = (values[4::9, 4::9] + 1) % 3  # single pixels of another class
    speckled.GetRasterBand(1).WriteArray(values)
    speckled = None
    class_map = str(tmp_path / "speckled.tif")
    output = tmp_path / "clean.tif"
    result = geoseg.run("geoseg:postprocess", {"INPUT": class_map, "MIN_AREA": 2000, "MAJORITY_WINDOW": 3,
                                               "OUTPUT": str(output)})
    assert result["APPLIED_MIN_PIXELS"] == 20  # 2000 m² of 10 m pixels
    layer = QgsRasterLayer(str(output), "clean")
    assert [c.label for c in layer.renderer().classes()] == ["Water", "Forest", "Open land"]
    clean = gdal.Open(str(output))
    assert clean.GetGeoTransform() == gdal.Open(class_map).GetGeoTransform()
    assert min(patch_sizes(clean)) >= 20 and min(patch_sizes(gdal.Open(class_map))) < 20
    assert set(np.unique(clean.ReadAsArray())) <= {0, 1, 2}


def patch_sizes(raster):
    """Pixels of each 4-connected patch of one class (GDAL's polygons of the raster, 10 m pixels)."""
    source = ogr.GetDriverByName("Memory").CreateDataSource("")  # kept: OGR layers die with their source
    layer = source.CreateLayer("patches")
    layer.CreateField(ogr.FieldDefn("value", ogr.OFTInteger))
    band = raster.GetRasterBand(1)
    gdal.Polygonize(band, band.GetMaskBand(), layer, 0)
    return [round(feature.GetGeometryRef().GetArea() / 100) for feature in layer]


def test_postprocess_output_loads_with_its_legend_expanded(geoseg, class_map_and_reference, tmp_path, desktop_legend):
    from qgis.core import QgsProject

    output = tmp_path / "clean.tif"
    geoseg.runAndLoadResults("geoseg:postprocess", {"INPUT": class_map_and_reference[0], "OUTPUT": str(output)})
    try:
        assert desktop_legend(output)
    finally:
        QgsProject.instance().removeAllMapLayers()


def test_qgis_process_runs_postprocess(class_map_and_reference, tmp_path):
    class_map, _ = class_map_and_reference
    qgis_process.run(["run", "geoseg:postprocess", f"--INPUT={class_map}", "--MIN_PIXELS=10",
                      f"--OUTPUT={tmp_path / 'clean.tif'}"], tmp_path / "profile")
    assert gdal.Open(str(tmp_path / "clean.tif")).RasterCount == 1 and (tmp_path / "clean.qml").exists()


def test_vectorize_loads_polygons_drawn_in_the_class_colours(geoseg, class_map_and_reference, tmp_path,
                                                              desktop_legend):
    from qgis.core import QgsProject

    class_map, _ = class_map_and_reference
    output = tmp_path / "classes.gpkg"
    result = geoseg.runAndLoadResults("geoseg:vectorize", {"INPUT": class_map, "DISSOLVE": True,
                                                           "OUTPUT": str(output)})
    try:
        layer = QgsProject.instance().mapLayer(result["OUTPUT"]) or next(
            loaded for loaded in QgsProject.instance().mapLayers().values() if loaded.source().startswith(str(output)))
        assert layer.featureCount() == result["POLYGONS"] == 3
        renderer = layer.renderer()
        assert renderer.type() == "categorizedSymbol"
        assert [c.label() for c in renderer.categories()] == ["Water", "Forest", "Open land"]
        labels = gdal.Open(class_map).ReadAsArray()
        areas = {f["class"]: f["area"] for f in layer.getFeatures()}
        assert areas["Forest"] == pytest.approx(100.0 * (labels == 1).sum())
        height, width = labels.shape  # a class' length: at most the raster's diagonal (10 m pixels)
        assert all(0 < f["length"] <= 10.0 * (height ** 2 + width ** 2) ** 0.5 for f in layer.getFeatures())
        assert desktop_legend(output)
    finally:
        QgsProject.instance().removeAllMapLayers()


def test_qgis_process_runs_vectorize(class_map_and_reference, tmp_path):
    class_map, _ = class_map_and_reference
    qgis_process.run(["run", "geoseg:vectorize", f"--INPUT={class_map}", "--MIN_AREA=1000",
                      f"--OUTPUT={tmp_path / 'classes.gpkg'}"], tmp_path / "profile")
    source = ogr.Open(str(tmp_path / "classes.gpkg"))
    assert min(f.GetField("area") for f in source.GetLayer(0)) >= 1000


def test_vectorize_with_its_output_skipped_does_nothing(geoseg, class_map_and_reference, tmp_path):
    class_map, _ = class_map_and_reference
    assert geoseg.run("geoseg:vectorize", {"INPUT": class_map, "OUTPUT": None}) == {"POLYGONS": 0}
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".gpkg") == []


def test_inspect_reports_labelled_share_and_warnings(geoseg, tmp_path):
    image, labels = write_scene(tmp_path, 64, 64)
    result = geoseg.run("geoseg:inspect", {"INPUT": str(image), "LABELS": str(labels),
                                           "OUTPUT_HTML": str(tmp_path / "inspection.html")})
    assert result["LABELLED_SHARE"] == 1.0 and result["WARNINGS"] == ""
    assert "Histograms" in (tmp_path / "inspection.html").read_text()
