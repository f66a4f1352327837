"""GeoSeg QGIS plugin: deep-learning segmentation of multispectral rasters as Processing algorithms.

Everything GeoSeg loads into QGIS' Python lives under this package (its ``training`` engine as
``geoseg_qgis.training``): the plugin adds no top-level modules and nothing to ``sys.path``.
"""


def classFactory(iface):  # noqa: N802 (QGIS API name)
    from .plugin import GeoSegPlugin

    return GeoSegPlugin(iface)
