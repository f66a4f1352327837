"""Shared fixtures. Qt runs headless; QGIS' profile and GeoSeg's conversion cache go to temporary folders."""
import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QGIS_CUSTOM_CONFIG_PATH", tempfile.mkdtemp(prefix="geoseg-qgis-profile-"))
os.environ.setdefault("GEOSEG_CACHE_DIR", tempfile.mkdtemp(prefix="geoseg-cache-"))

import pytest  # noqa: E402

from synthetic import write_scene  # noqa: E402


@pytest.fixture
def scene(tmp_path):
    """A 128×128 12-band scene in EPSG:32633 and its 3-class label raster."""
    return write_scene(tmp_path, 128, 128)
