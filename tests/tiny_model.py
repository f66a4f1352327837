"""A tiny GeoSeg model file for QGIS tests, made in a separate Python: TensorFlow loaded into the QGIS test
process clashes with QGIS' SQLite and crashes it on exit, as it would crash QGIS itself."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_tiny_model(path: Path) -> Path:
    """A seeded 2-level U-Net (4 filters) reading bands 4,3,2 into classes a, b, c."""
    subprocess.run([sys.executable, __file__, str(path)], check=True, capture_output=True,
                   env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return path


if __name__ == "__main__":
    import keras

    from training.models.bundle import ModelInfo, save_bundle
    from training.data.classes import class_scheme
    from training.models import build_model

    keras.utils.set_random_seed(0)
    model = build_model("unet", 3, 3, base_filters=4, depth=2)
    stats = {"method": "standard", "offset": [1000.0] * 3, "scale": [500.0] * 3}
    save_bundle(model, ModelInfo("unet", [4, 3, 2], class_scheme(["a", "b", "c"]), stats), sys.argv[1])
