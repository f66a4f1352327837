"""The QGIS class style written beside class rasters, read back with the standard library only."""
import xml.etree.ElementTree as ET

from training.data.classes import class_scheme
from training.data.qgis_style import rgb_style, write_class_style
from training.outputs import style_path

SCHEME = class_scheme(["Water", "Forest & scrub", 'Open <land> "x"'], [(0, 114, 178), (0, 158, 115), (230, 159, 0)])


def test_style_path_replaces_the_last_suffix_as_qgis_does(tmp_path):
    assert style_path(tmp_path / "classes.tif") == tmp_path / "classes.qml"
    assert style_path(tmp_path / "scene.2024.tif") == tmp_path / "scene.2024.qml"
    assert style_path(tmp_path / ".classes.partial.tif") == tmp_path / ".classes.partial.qml"


def test_class_style_is_a_paletted_renderer_listing_exactly_the_classes(tmp_path):
    path = write_class_style(tmp_path / "classes.tif", SCHEME)
    assert path == tmp_path / "classes.qml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE qgis")
    root = ET.fromstring(text)
    assert root.tag == "qgis" and root.get("version") == "3.22.0"
    renderer = root.find("pipe/rasterrenderer")
    assert (renderer.get("type"), renderer.get("band")) == ("paletted", "1")
    entries = [entry.attrib for entry in renderer.findall("colorPalette/paletteEntry")]
    assert entries == [
        {"value": "0", "label": "Water", "alpha": "255", "color": "#0072b2"},
        {"value": "1", "label": "Forest & scrub", "alpha": "255", "color": "#009e73"},
        {"value": "2", "label": 'Open <land> "x"', "alpha": "255", "color": "#e69f00"},
    ]


def test_rgb_style_draws_three_bands_each_stretched_between_its_limits():
    root = ET.fromstring(rgb_style((4, 3, 2), [10, 20.5, 30], [100, 200, 300.25]))
    assert root.tag == "qgis" and root.get("version") == "3.22.0"
    renderer = root.find("pipe/rasterrenderer")
    assert (renderer.get("type"), renderer.get("redBand"), renderer.get("greenBand"), renderer.get("blueBand")) == (
        "multibandcolor", "4", "3", "2")
    limits = [(renderer.find(f"{colour}ContrastEnhancement/minValue").text,
               renderer.find(f"{colour}ContrastEnhancement/maxValue").text,
               renderer.find(f"{colour}ContrastEnhancement/algorithm").text) for colour in ("red", "green", "blue")]
    assert limits == [("10", "100", "StretchToMinimumMaximum"), ("20.5", "200", "StretchToMinimumMaximum"),
                      ("30", "300.25", "StretchToMinimumMaximum")]
    assert renderer.find("minMaxOrigin/limits").text == "CumulativeCut"
