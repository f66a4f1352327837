import os
import sys

import pytest

from geoseg_qgis.provider import register_provider

# TensorFlow jobs run in this Python (the project's .venv), as a user's chosen Python would.
os.environ.setdefault("GEOSEG_PYTHON", sys.executable)


@pytest.fixture(scope="session")
def geoseg(qgis_processing):
    """QGIS Processing with the GeoSeg provider registered; yields ``processing``."""
    import processing
    from qgis.core import QgsApplication

    provider = register_provider()
    yield processing
    QgsApplication.processingRegistry().removeProvider(provider)
