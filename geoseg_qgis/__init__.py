"""GeoSeg QGIS plugin: deep-learning segmentation of multispectral rasters as Processing algorithms."""
import sys
from pathlib import Path


def _expose_training_module() -> None:
    """Put GeoSeg's ``training`` package on the import path.

    The release zip carries it inside the plugin folder; a source checkout has it beside the plugin.
    """
    here = Path(__file__).resolve().parent
    for root in (here, here.parent):
        if (root / "training" / "__init__.py").is_file():
            if str(root) not in sys.path:
                sys.path.insert(0, str(root))
            return


_expose_training_module()


def classFactory(iface):  # noqa: N802 (QGIS API name)
    from .plugin import GeoSegPlugin

    return GeoSegPlugin(iface)
