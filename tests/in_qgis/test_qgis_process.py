"""The released zip, installed in a private QGIS profile, driven through the qgis_process command line."""
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from osgeo import gdal

from synthetic import GEOTRANSFORM
from tools import qgis_process
from tiny_model import write_tiny_model


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The plugin zip unpacked into a plugins folder, as Plugin Manager › Install from ZIP does."""
    root = tmp_path_factory.mktemp("install")
    plugins = qgis_process.install(root)
    return next((root / "dist").glob("*.zip")), plugins, root / "profile"


def test_zip_holds_plugin_metadata_license_and_training_module(installed):
    archive, _, _ = installed
    names = zipfile.ZipFile(archive).namelist()
    assert archive.name == "geoseg_qgis-0.1.0.zip"
    assert {n.split("/")[0] for n in names} == {"geoseg_qgis"}
    for expected in ("geoseg_qgis/__init__.py", "geoseg_qgis/metadata.txt", "geoseg_qgis/LICENSE",
                     "geoseg_qgis/provider.py", "geoseg_qgis/models/train_and_classify.model3",
                     "geoseg_qgis/training/__init__.py", "geoseg_qgis/training/learn/train.py",
                     "geoseg_qgis/training/models/unet.py"):
        assert expected in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    metadata = zipfile.ZipFile(archive).read("geoseg_qgis/metadata.txt").decode()
    assert "hasProcessingProvider=yes" in metadata and "qgisMinimumVersion=3.22" in metadata


def test_qgis_process_lists_algorithms_and_prints_help(installed):
    _, plugins, profile = installed
    listing = qgis_process.run(["list"], profile, plugins).stdout
    for algorithm in ("geoseg:createchips", "geoseg:train", "geoseg:classify", "geoseg:train_and_classify"):
        assert algorithm in listing
    help_text = qgis_process.run(["help", "geoseg:classify"], profile, plugins).stdout
    assert "Classifies every pixel" in help_text and "MODEL" in help_text and "OUTPUT" in help_text


def test_qgis_process_creates_chips_and_classifies(installed, scene, tmp_path):
    _, plugins, profile = installed
    image, labels = scene
    chips = qgis_process.run(["run", "geoseg:createchips", "--json", f"--INPUT={image}", f"--LABELS={labels}",
                              f"--OUTPUT={tmp_path / 'chips'}"], profile, plugins).stdout
    assert json.loads(chips[chips.index("{"):])["results"]["CHIP_COUNT"] == 4
    chip = gdal.Open(str(tmp_path / "chips" / "images" / "chip_000064_000000.tif"))
    assert chip.GetGeoTransform()[3] == GEOTRANSFORM[3] + 64 * GEOTRANSFORM[5]  # chip_<row>_<column>

    model = write_tiny_model(tmp_path / "m.keras")
    qgis_process.run(["run", "geoseg:classify", f"--INPUT={image}", f"--MODEL={model}",
                      f"--OUTPUT={tmp_path / 'classes.tif'}"], profile, plugins)
    classified = gdal.Open(str(tmp_path / "classes.tif"))
    assert classified.GetGeoTransform() == GEOTRANSFORM
    assert set(np.unique(classified.ReadAsArray())) <= {0, 1, 2}


def test_the_installed_plugin_adds_no_top_level_modules_to_qgis_python(installed, tmp_path):
    _, plugins, _ = installed
    code = f"""
import json, os, sys
sys.path.insert(0, {str(plugins)!r})
from qgis.core import QgsApplication
app = QgsApplication([], False)
app.initQgis()
import geoseg_qgis
plugin = geoseg_qgis.classFactory(None)
plugin.initProcessing()
sys.path.remove({str(plugins)!r})
print(json.dumps({{
    "loaded": QgsApplication.processingRegistry().algorithmById("geoseg:classify") is not None,
    "top_level": sorted(m for m in ("training", "plugin", "provider", "runner", "metadata") if m in sys.modules),
    "on_path": [p for p in sys.path if os.path.isfile(os.path.join(p, "provider.py"))
                or os.path.isdir(os.path.join(p, "training"))]}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env=qgis_process.environment(tmp_path / "profile"))
    assert json.loads(done.stdout.splitlines()[-1]) == {"loaded": True, "top_level": [], "on_path": []}, done.stderr
