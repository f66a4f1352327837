"""GeoSeg QGIS plugin: deep-learning segmentation of multispectral rasters as Processing algorithms.

Everything GeoSeg loads into QGIS' Python lives under this package, its engine as ``geoseg_qgis.training``: the
plugin adds no top-level modules and nothing to ``sys.path``. The release zip holds the engine as the folder
``geoseg_qgis/training``; in a source checkout it is the folder ``training`` beside this package, loaded here
under the same name.
"""
import importlib.util
import sys
from pathlib import Path

_ENGINE = Path(__file__).resolve().parent.parent / "training"
if not Path(__file__).with_name("training").is_dir() and (_ENGINE / "__init__.py").is_file():
    _spec = importlib.util.spec_from_file_location(f"{__name__}.training", _ENGINE / "__init__.py",
                                                   submodule_search_locations=[str(_ENGINE)])
    sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules[_spec.name])


def classFactory(iface):  # noqa: N802 (QGIS API name)
    from .plugin import GeoSegPlugin

    return GeoSegPlugin(iface)
