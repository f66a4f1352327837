"""Draw docs/demo-polygons.jpg: the demo's classification cleaned to a 0.5 ha minimum mapping unit,
as class polygons over the Sentinel-2 scene (RGB = bands 4,3,2). Run after ``make demo``:

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/demo_polygons.py
"""
import sys
from pathlib import Path

from qgis.core import (QgsApplication, QgsCategorizedSymbolRenderer, QgsContrastEnhancement, QgsMapRendererParallelJob,
                       QgsMapSettings, QgsMultiBandColorRenderer, QgsRasterLayer, QgsRendererCategory, QgsSymbol,
                       QgsVectorLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from training.jobs import run_job  # noqa: E402

DEMO = ROOT / "demo-output"


def rgb(path: Path) -> QgsRasterLayer:
    layer = QgsRasterLayer(str(path), "scene")
    renderer = QgsMultiBandColorRenderer(layer.dataProvider(), 4, 3, 2)
    for band, setter in ((4, renderer.setRedContrastEnhancement), (3, renderer.setGreenContrastEnhancement),
                         (2, renderer.setBlueContrastEnhancement)):
        stretch = QgsContrastEnhancement(layer.dataProvider().dataType(band))
        stretch.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
        stats = layer.dataProvider().bandStatistics(band)
        stretch.setMinimumValue(stats.mean - 2 * stats.stdDev)
        stretch.setMaximumValue(stats.mean + 2.5 * stats.stdDev)
        setter(stretch)
    layer.setRenderer(renderer)
    return layer


def polygons(path: Path) -> QgsVectorLayer:
    """Class polygons: outlines in the class colour over a light fill of it."""
    layer = QgsVectorLayer(f"{path}|layername=classes", "classes", "ogr")
    categories = {}
    for feature in layer.getFeatures():
        if feature["value"] not in categories:
            symbol = QgsSymbol.defaultSymbol(layer.geometryType())
            fill = QColor(feature["color"])
            fill.setAlpha(70)
            symbol.setColor(fill)
            symbol.symbolLayer(0).setStrokeColor(QColor(feature["color"]))
            symbol.symbolLayer(0).setStrokeWidth(0.4)
            categories[feature["value"]] = QgsRendererCategory(feature["value"], symbol, feature["class"])
    layer.setRenderer(QgsCategorizedSymbolRenderer("value", [categories[v] for v in sorted(categories)]))
    return layer


def main() -> None:
    clean, vectors = DEMO / "classified-clean.tif", DEMO / "classified.gpkg"
    run_job("postprocess", {"class_raster": str(DEMO / "classified.tif"), "output_raster": str(clean),
                            "min_area": 5000.0})
    print(run_job("vectorize", {"class_raster": str(clean), "output_vector": str(vectors), "simplify": 10.0}))
    app = QgsApplication([], False)
    app.initQgis()
    scene, classes = rgb(DEMO / "data" / "scene.tif"), polygons(vectors)
    settings = QgsMapSettings()
    settings.setLayers([classes, scene])
    settings.setDestinationCrs(scene.crs())
    settings.setExtent(scene.extent())
    settings.setOutputSize(QSize(1536, 768))
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    target = ROOT / "docs" / "demo-polygons.jpg"
    job.renderedImage().save(str(target), quality=85)
    print(f"Wrote {target}")


if __name__ == "__main__":
    main()
