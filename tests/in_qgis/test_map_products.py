"""From a class raster to map products in QGIS: accuracy and area estimates."""
import json

import numpy as np
import pytest
from osgeo import gdal

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
    assert "Error matrix" in (tmp_path / "accuracy.html").read_text()


def test_qgis_process_runs_assess_accuracy(class_map_and_reference, tmp_path):
    class_map, reference = class_map_and_reference
    done = qgis_process.run(["run", "geoseg:assessaccuracy", "--json", f"--INPUT={class_map}",
                             f"--REFERENCE_RASTER={reference}", f"--OUTPUT_TABLE={tmp_path / 'accuracy.csv'}"],
                            tmp_path / "profile")
    results = json.loads(done.stdout[done.stdout.index("{"):])["results"]
    assert results["OVERALL_ACCURACY"] == pytest.approx(1 - 64 / 4096)
    assert (tmp_path / "accuracy.csv").read_text().splitlines()[0].startswith("value,class,mapped_area")
    assert np.isfinite(results["OVERALL_ACCURACY_CI"])
