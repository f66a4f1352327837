"""Small synthetic 12-band scenes with 3-class labels and chips folders, made by the tests themselves."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

GEOTRANSFORM = (500000.0, 10.0, 0.0, 5800000.0, 0.0, -10.0)
EPSG = 32633
CLASS_NAMES = ["Water", "Forest", "Open land"]
# Mean reflectance of each class in each of the 12 bands (rows: classes).
SIGNATURES = np.array([
    [900, 800, 700, 500, 400, 350, 300, 250, 240, 200, 150, 100],
    [1100, 1000, 1200, 900, 2000, 2600, 2800, 3000, 3100, 1500, 1600, 900],
    [1400, 1500, 1800, 2200, 2400, 2500, 2600, 2700, 2800, 1900, 2900, 2300],
], dtype=np.float32)


def class_map(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Smooth random blobs of classes 0..2."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((height // 8 + 2, width // 8 + 2))
    field = np.kron(coarse, np.ones((8, 8)))[:height, :width]
    return np.digitize(field, [0.33, 0.66]).astype(np.uint8)


def scene(width: int, height: int, seed: int = 0, noise: float = 60.0) -> tuple[np.ndarray, np.ndarray]:
    """A (12, H, W) UInt16 image and its (H, W) class labels."""
    labels = class_map(width, height, seed)
    rng = np.random.default_rng(seed + 1)
    image = SIGNATURES[labels].transpose(2, 0, 1) + rng.normal(0, noise, (12, height, width))
    return np.clip(image, 0, 65535).astype(np.uint16), labels


def write_raster(path: Path, data: np.ndarray, nodata: float | None = None, epsg: int = EPSG,
                 geotransform=GEOTRANSFORM, category_names: list[str] | None = None) -> Path:
    data = data if data.ndim == 3 else data[np.newaxis]
    gdal_type = {np.dtype(np.uint8): gdal.GDT_Byte, np.dtype(np.uint16): gdal.GDT_UInt16,
                 np.dtype(np.float32): gdal.GDT_Float32, np.dtype(np.int16): gdal.GDT_Int16}[data.dtype]
    ds = gdal.GetDriverByName("GTiff").Create(str(path), data.shape[2], data.shape[1], data.shape[0], gdal_type)
    ds.SetGeoTransform(geotransform)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    ds.SetProjection(srs.ExportToWkt())
    for i, band_data in enumerate(data):
        band = ds.GetRasterBand(i + 1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        if category_names:
            band.SetCategoryNames(category_names)
        band.WriteArray(band_data)
    ds = None
    return Path(path)


def write_scene(folder: Path, width: int = 128, height: int = 128, seed: int = 0) -> tuple[Path, Path]:
    """Write ``image.tif`` (12 bands) and ``labels.tif`` (3 named classes) into ``folder``."""
    image, labels = scene(width, height, seed)
    return (write_raster(folder / "image.tif", image),
            write_raster(folder / "labels.tif", labels, category_names=CLASS_NAMES))



def write_chips(folder: Path, count: int = 4, size: int = 16) -> Path:
    """A chips folder of ``count`` 12-band UInt16 chips and their labels (classes 0..2)."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "labels").mkdir(exist_ok=True)
    for index in range(count):
        image, labels = scene(size, size, seed=index)
        write_raster(folder / "images" / f"chip_{index}.tif", image)
        write_raster(folder / "labels" / f"chip_{index}.tif", labels)
    return folder


def truncate(path: Path) -> None:
    """Cut a file to half its length, as an interrupted copy does."""
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def tree(folder: Path) -> list[str]:
    """Every path under ``folder``: what a refused job must leave as it was."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def cut_chips(folder: Path, side: int, chip_size: int = 32) -> Path:
    """A chips folder cut by GeoSeg's Create chips from a ``side``×``side`` px scene written into ``folder``."""
    from training.data.chips import create_chips
    from training.config import ChipsConfig

    image, labels = write_scene(folder, side, side)
    create_chips(ChipsConfig(str(image), str(folder / "chips"), str(labels), chip_size=chip_size))
    return folder / "chips"

