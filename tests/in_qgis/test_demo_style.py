"""The demo scene as QGIS opens it: true colour, from the style the demo writes beside it."""
import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsRasterLayer

from demo.build_data import write_scene_style
from synthetic import write_scene


def test_the_demo_scene_opens_as_bands_4_3_2_stretched_between_2_and_98_percent(tmp_path):
    scene, _ = write_scene(tmp_path, 64, 64)
    unstyled = QgsRasterLayer(str(scene), "scene")  # kept: its renderer dies with it
    assert unstyled.renderer().redBand() == 1  # QGIS' own choice: coastal as red
    write_scene_style(scene)
    layer = QgsRasterLayer(str(scene), "scene")
    renderer = layer.renderer()
    assert renderer.type() == "multibandcolor"
    assert (renderer.redBand(), renderer.greenBand(), renderer.blueBand()) == (4, 3, 2)
    data = gdal.Open(str(scene)).ReadAsArray(band_list=[4, 3, 2]).reshape(3, -1)
    low, high = np.percentile(data, [2, 98], axis=1)
    enhancements = (renderer.redContrastEnhancement(), renderer.greenContrastEnhancement(),
                    renderer.blueContrastEnhancement())
    assert [e.minimumValue() for e in enhancements] == pytest.approx(low, rel=1e-6)
    assert [e.maximumValue() for e in enhancements] == pytest.approx(high, rel=1e-6)
