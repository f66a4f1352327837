"""QGIS layer styles for class rasters, written without QGIS.

QGIS applies ``<name>.qml`` beside a raster file ``<name>.tif`` as the layer's default style whenever it
opens the file (Add Raster Layer, drag and drop, a project). The style is a paletted renderer listing
exactly the classes, so the legend shows them alone: a GeoTIFF colour table always has 256 entries.
Values not listed, nodata (255) included, stay transparent.
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


def class_style(scheme: Sequence[ClassInfo]) -> str:
    """A QGIS style (.qml) drawing band 1 with one colour and label per class."""
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology")
    renderer = ET.SubElement(ET.SubElement(root, "pipe"), "rasterrenderer",
                             type="paletted", band="1", opacity="1", alphaBand="-1")
    palette = ET.SubElement(renderer, "colorPalette")
    for info in scheme:
        ET.SubElement(palette, "paletteEntry", value=str(info.value), label=info.name, alpha="255",
                      color="#{:02x}{:02x}{:02x}".format(*info.color))
    ET.indent(root)
    return f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n{ET.tostring(root, encoding='unicode')}\n"


def write_class_style(raster: str | os.PathLike, scheme: Sequence[ClassInfo]) -> Path:
    """Write the class style beside ``raster`` as its QGIS default style; returns the style's path."""
    path = style_path(raster)
    path.write_text(class_style(scheme), encoding="utf-8")
    return path
