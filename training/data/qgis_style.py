"""QGIS layer styles for rasters, written without QGIS.

QGIS applies ``<name>.qml`` beside a raster file ``<name>.tif`` as the layer's default style whenever it
opens the file (Add Raster Layer, drag and drop, a project). A class raster's style is a paletted renderer
listing exactly the classes, so the legend shows them alone: a GeoTIFF colour table always has 256 entries.
Values not listed, nodata (255) included, stay transparent. A multispectral raster's style draws three of
its bands as red, green and blue, each stretched between two values. An uncertainty raster's style is a
continuous colour ramp (viridis) over its 0–100 %.
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from ..outputs import style_path
from .classes import ClassInfo

# The style format's QGIS version: QGIS upgrades styles older than itself on loading, and this paletted
# renderer reads the same from 3.22 on.
QGIS_VERSION = "3.22.0"
RGB_CUT = (2, 98)  # the percentiles an RGB style stretches between
# viridis (matplotlib's: perceptually uniform, readable in greyscale and by the colour-blind) at five stops
VIRIDIS = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")


def class_style(scheme: Sequence[ClassInfo]) -> str:
    """A QGIS style (.qml) drawing band 1 with one colour and label per class."""
    root, renderer = _style("paletted", band="1")
    palette = ET.SubElement(renderer, "colorPalette")
    for info in scheme:
        ET.SubElement(palette, "paletteEntry", value=str(info.value), label=info.name, alpha="255",
                      color="#{:02x}{:02x}{:02x}".format(*info.color))
    return _text(root)


def rgb_style(bands: Sequence[int], low: Sequence[float], high: Sequence[float]) -> str:
    """A QGIS style (.qml) drawing the 1-based ``bands`` as red, green and blue, each stretched from its
    ``low`` to its ``high`` value: its ``RGB_CUT`` percentiles, which the style records."""
    root, renderer = _style("multibandcolor", redBand=str(bands[0]), greenBand=str(bands[1]), blueBand=str(bands[2]))
    origin = ET.SubElement(renderer, "minMaxOrigin")
    lower, upper = (_number(percent / 100) for percent in RGB_CUT)
    for tag, text in (("limits", "CumulativeCut"), ("extent", "WholeRaster"), ("statAccuracy", "Exact"),
                      ("cumulativeCutLower", lower), ("cumulativeCutUpper", upper)):
        ET.SubElement(origin, tag).text = text
    for colour, minimum, maximum in zip(("red", "green", "blue"), low, high):
        enhancement = ET.SubElement(renderer, f"{colour}ContrastEnhancement")
        for tag, text in (("minValue", _number(minimum)), ("maxValue", _number(maximum)),
                          ("algorithm", "StretchToMinimumMaximum")):
            ET.SubElement(enhancement, tag).text = text
    return _text(root)


def uncertainty_style() -> str:
    """A QGIS style (.qml) drawing band 1's 0–100 % with a continuous viridis ramp, from sure (0, dark) to all
    classes equally likely (100, bright); fixed limits, so every raster reads alike."""
    root, renderer = _style("singlebandpseudocolor", band="1", classificationMin="0", classificationMax="100")
    ET.SubElement(ET.SubElement(renderer, "minMaxOrigin"), "limits").text = "None"  # the limits are the style's
    shader = ET.SubElement(ET.SubElement(renderer, "rastershader"), "colorrampshader", colorRampType="INTERPOLATED",
                           classificationMode="1", clip="0", minimumValue="0", maximumValue="100")
    last = len(VIRIDIS) - 1
    for stop, colour in enumerate(VIRIDIS):
        value = _number(100 * stop / last)
        label = {0: f"{value} (sure)", last: f"{value} (unsure)"}.get(stop, value)
        ET.SubElement(shader, "item", value=value, label=label, color=colour, alpha="255")
    return _text(root)


def _style(renderer_type: str, **attributes: str) -> tuple[ET.Element, ET.Element]:
    """A style's root element and its raster renderer of ``renderer_type``."""
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology")
    renderer = ET.SubElement(ET.SubElement(root, "pipe"), "rasterrenderer", type=renderer_type, **attributes,
                             opacity="1", alphaBand="-1")
    return root, renderer


def _text(root: ET.Element) -> str:
    ET.indent(root)
    return f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n{ET.tostring(root, encoding='unicode')}\n"


def _number(value: float) -> str:
    return f"{float(value):.10g}"


def write_class_style(raster: str | os.PathLike, scheme: Sequence[ClassInfo]) -> Path:
    """Write the class style beside ``raster`` as its QGIS default style; returns the style's path."""
    return write_style(raster, class_style(scheme))


def write_style(raster: str | os.PathLike, style: str) -> Path:
    """Write ``style`` (a .qml's text) beside ``raster`` as its QGIS default style; returns the style's path."""
    path = style_path(raster)
    path.write_text(style, encoding="utf-8")
    return path
