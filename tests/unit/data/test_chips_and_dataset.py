import json

import numpy as np
import pytest
from osgeo import gdal

from synthetic import CLASS_NAMES, GEOTRANSFORM, write_raster
from training.data.chips import create_chips
from training.data.classes import CLASSES_FILE
from training.config import ChipsConfig
from training.data import normalization
from training.data.dataset import ChipArrays, ChipFiles, SceneWindows
from training.data.pairs import find_pairs, load_chips, read_pair
from training.data.split import split_indices
from training.data.survey import survey_chips
from training.data.labels import rasterize_labels
from training.data.normalization import NormalizationFit, fit_normalization, normalize
from training.progress import Cancelled, Progress


def test_create_chips_skips_chips_with_too_few_labels(scene, tmp_path):
    image, labels = scene
    values = gdal.Open(str(labels)).ReadAsArray()
    values[:64, :64] = 255  # top-left chip unlabelled
    write_raster(labels, values, category_names=CLASS_NAMES)
    result = create_chips(ChipsConfig(str(image), str(tmp_path / "chips"), str(labels), chip_size=64, min_labelled=0.5))
    assert (result.chip_count, result.skipped) == (3, 1)
    assert sorted(p.name for p in (tmp_path / "chips" / "images").iterdir()) == [
        "chip_000000_000064.tif", "chip_000064_000000.tif", "chip_000064_000064.tif"]
    classes = json.loads((tmp_path / "chips" / CLASSES_FILE).read_text())
    assert [c["name"] for c in classes] == CLASS_NAMES


def partly_labelled(labels):
    """The scene's labels with the top-left 64-px chip labelled in its bottom 6 rows only (384 pixels, 9.4 %)
    and the bottom-right chip not labelled at all."""
    values = gdal.Open(str(labels)).ReadAsArray()
    values[:58, :64] = 255
    values[64:, 64:] = 255
    write_raster(labels, values, category_names=CLASS_NAMES)


def test_create_chips_keeps_partly_labelled_chips_by_default(scene, tmp_path):
    image, labels = scene
    partly_labelled(labels)
    messages = []
    result = create_chips(ChipsConfig(str(image), str(tmp_path / "chips"), str(labels), chip_size=64),
                          Progress(lambda p, m: messages.append(m)))
    assert (result.chip_count, result.skipped) == (3, 1)  # only the chip without a labelled pixel
    label = gdal.Open(str(tmp_path / "chips" / "labels" / "chip_000000_000000.tif")).ReadAsArray()
    assert (label[:58] == 255).all() and (label[58:] != 255).all()
    assert not any("WARNING" in m for m in messages)


def test_create_chips_warns_of_labelled_chips_a_minimum_share_skips(scene, tmp_path):
    image, labels = scene
    partly_labelled(labels)
    messages = []
    result = create_chips(ChipsConfig(str(image), str(tmp_path / "chips"), str(labels), chip_size=64,
                                      min_labelled=0.5), Progress(lambda p, m: messages.append(m)))
    assert (result.chip_count, result.skipped) == (2, 2)
    warning = next(m for m in messages if m.startswith("WARNING"))
    assert "1 chips WITH labels were skipped" in warning
    assert f"384 labelled pixels ({384 / (384 + 2 * 64 * 64):.1%}" in warning
    assert "min_labelled" in warning and "to 0" in warning


def test_create_chips_resamples_labels_onto_the_image_grid(scene, tmp_path):
    image, _ = scene
    coarse = np.kron(np.array([[0, 1], [2, 1]], dtype=np.uint8), np.ones((32, 32), np.uint8))  # 20 m pixels
    labels = write_raster(tmp_path / "coarse.tif", coarse, geotransform=(500000.0, 20.0, 0.0, 5800000.0, 0.0, -20.0))
    create_chips(ChipsConfig(str(image), str(tmp_path / "chips"), str(labels), chip_size=64, min_labelled=0.5))
    chip = gdal.Open(str(tmp_path / "chips" / "labels" / "chip_000064_000000.tif"))
    assert (chip.ReadAsArray() == 2).all()


def test_create_chips_cancel_leaves_nothing(scene, tmp_path):
    image, labels = scene
    calls = []
    progress = Progress(lambda p, m: calls.append(p), lambda: len(calls) > 1)
    with pytest.raises(Cancelled):
        create_chips(ChipsConfig(str(image), str(tmp_path / "chips"), str(labels), chip_size=32), progress)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image.tif", "labels.tif", "labels.tif.aux.xml"]


def test_create_chips_refuses_a_non_empty_folder(scene, tmp_path):
    image, labels = scene
    (tmp_path / "chips").mkdir()
    (tmp_path / "chips" / "keep.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        create_chips(ChipsConfig(str(image), str(tmp_path / "chips"), str(labels)))


def test_rasterize_labels_reprojects_polygons(scene, tmp_path):
    from osgeo import ogr, osr

    image, _ = scene
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    utm = osr.SpatialReference()
    utm.ImportFromEPSG(32633)
    to_wgs84 = osr.CoordinateTransformation(utm, wgs84)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp_path / "polygons.gpkg"))
    layer = source.CreateLayer("labels", wgs84, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("cls", ogr.OFTInteger))
    x0, y0 = GEOTRANSFORM[0], GEOTRANSFORM[3]
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for x, y in ((x0, y0), (x0 + 640, y0), (x0 + 640, y0 - 640), (x0, y0 - 640), (x0, y0)):
        ring.AddPoint_2D(*to_wgs84.TransformPoint(x, y)[:2])
    polygon = ogr.Geometry(ogr.wkbPolygon)
    polygon.AddGeometry(ring)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(polygon)
    feature.SetField("cls", 1)
    layer.CreateFeature(feature)
    source = None
    out = rasterize_labels(str(tmp_path / "polygons.gpkg"), "cls", str(image), str(tmp_path / "labels.tif"))
    ds = gdal.Open(out)
    values = ds.ReadAsArray()
    assert ds.GetGeoTransform() == GEOTRANSFORM
    assert (values[2:62, 2:62] == 1).all() and (values[70:, :] == 255).all() and (values[:, 70:] == 255).all()
    with pytest.raises(ValueError, match="no field 'missing'"):
        rasterize_labels(str(tmp_path / "polygons.gpkg"), "missing", str(image), str(tmp_path / "other.tif"))


def test_find_pairs_matches_suffixed_names(tmp_path):
    for folder, suffix in (("images", "_img"), ("labels", "_label")):
        (tmp_path / folder).mkdir()
        for stem in ("a", "b"):
            write_raster(tmp_path / folder / f"{stem}{suffix}.tif", np.zeros((8, 8), np.uint8))
    (tmp_path / "labels" / "c_label.tif").write_bytes(b"")  # a label without its image: left out
    pairs = find_pairs(str(tmp_path), "_img", "_label")
    assert [(i.name, label.name) for i, label in pairs] == [("a_img.tif", "a_label.tif"), ("b_img.tif", "b_label.tif")]
    (tmp_path / "images" / "d_img.tif").write_bytes(b"")  # an image without its label: refused
    with pytest.raises(ValueError, match="1 image chips .* no label chip .*: d_img.tif. Add their labels"):
        find_pairs(str(tmp_path), "_img", "_label")


def test_load_chips_reads_every_requested_band_and_checks_grids(scene, tmp_path):
    image, labels = scene
    create_chips(ChipsConfig(str(image), str(tmp_path / "chips"), str(labels), min_labelled=0.0))
    pairs = find_pairs(str(tmp_path / "chips"))
    chips = load_chips(pairs, (4, 3, 2, 12))
    source = gdal.Open(str(image)).ReadAsArray(0, 0, 64, 64)
    np.testing.assert_array_equal(chips.images[0], np.moveaxis(source[[3, 2, 1, 11]], 0, -1))
    shifted = tmp_path / "chips" / "labels" / pairs[1][1].name
    write_raster(shifted, gdal.Open(str(shifted)).ReadAsArray(), geotransform=(0, 10, 0, 0, 0, -10))
    with pytest.raises(ValueError, match="1 label chips .* differ in size or pixel grid .*: " + pairs[1][1].name):
        load_chips(pairs, (1,))


def test_chips_are_opened_without_listing_their_folder_yet_side_car_files_count(tmp_path):
    image = write_raster(tmp_path / "a.tif", np.arange(2 * 4 * 4, dtype=np.uint16).reshape(2, 4, 4))
    label = write_raster(tmp_path / "a_label.tif", np.ones((4, 4), np.uint8))
    read_only = gdal.Open(str(image))
    read_only.GetRasterBand(1).SetNoDataValue(5)  # a read-only GeoTIFF keeps it in a.tif.aux.xml
    del read_only
    assert (tmp_path / "a.tif.aux.xml").exists()
    gdal.SetThreadLocalConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "NO")
    try:
        pixels, labels = read_pair(image, label, (1, 2))
        assert gdal.GetThreadLocalConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", None) == "NO"  # put back
    finally:
        gdal.SetThreadLocalConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", None)
    assert np.isnan(pixels[1, 1]).all() and labels[1, 1] == 255  # band 1 holds 5 at row 1, column 1
    assert np.isfinite(np.delete(pixels.reshape(16, 2), 5, axis=0)).all() and (np.delete(labels, 5) == 1).all()


def test_split_is_deterministic_and_accepts_counts():
    train, val, test = split_indices(20, 0.2, 3, seed=0)
    assert (len(train), len(val), len(test)) == (13, 4, 3)
    assert sorted(np.concatenate([train, val, test])) == list(range(20))
    assert [a.tolist() for a in split_indices(20, 0.2, 3, seed=0)] == [train.tolist(), val.tolist(), test.tolist()]
    with pytest.raises(ValueError, match="no validation chip"):
        split_indices(4, 0.0, 0, seed=0)


def test_chip_files_stream_what_loading_them_all_gives(scene, tmp_path):
    image, labels = scene
    create_chips(ChipsConfig(str(image), str(tmp_path / "chips"), str(labels), chip_size=32, min_labelled=0.0))
    pairs = find_pairs(str(tmp_path / "chips"))
    chips = load_chips(pairs, (4, 3, 2))
    survey = survey_chips(pairs, (4, 3, 2), Progress(), NormalizationFit())
    stats = survey.normalization.result()
    assert stats["offset"] == pytest.approx(fit_normalization(chips.images)["offset"])
    assert stats["scale"] == pytest.approx(fit_normalization(chips.images)["scale"])
    assert survey.label_counts.tolist() == np.bincount(chips.labels.ravel(), minlength=256).tolist()
    streamed = list(ChipFiles(pairs, (4, 3, 2), stats, survey.size).dataset(5))
    loaded = list(ChipArrays(normalize(chips.images, stats), chips.labels).dataset(5))
    assert len(streamed) == len(loaded) == -(-len(pairs) // 5)
    for (a_image, a_label, a_mask), (b_image, b_label, b_mask) in zip(streamed, loaded):
        np.testing.assert_allclose(a_image, b_image, rtol=1e-6)
        np.testing.assert_array_equal(a_label, b_label)
        np.testing.assert_array_equal(a_mask, b_mask)
    halves = [sum(len(batch[0]) for batch in ChipFiles(pairs, (4, 3, 2), stats, survey.size).dataset(4, shard=(2, i)))
              for i in (0, 1)]
    assert sum(halves) == len(pairs) and abs(halves[0] - halves[1]) <= 1
    # tf.data's autotuning stalled training for seconds at the start of epochs: every pipeline runs without it
    for pipeline in (ChipFiles(pairs, (4, 3, 2), stats, survey.size), ChipArrays(chips.images, chips.labels)):
        assert pipeline.dataset(4, augment=True).options().autotune.enabled is False


def test_chip_files_draw_a_seeded_sample_of_labelled_pixels_as_training_reads_them(scene, tmp_path):
    image, labels = scene
    values = gdal.Open(str(labels)).ReadAsArray()
    values[:, :40] = 255
    write_raster(labels, values, category_names=CLASS_NAMES)
    create_chips(ChipsConfig(str(image), str(tmp_path / "chips"), str(labels), chip_size=32, min_labelled=0.0))
    pairs = find_pairs(str(tmp_path / "chips"))
    stats = {"method": "standard", "offset": [1000.0, 900.0, 800.0], "scale": [500.0, 400.0, 300.0]}
    files = ChipFiles(pairs, (4, 3, 2), stats, (32, 32))
    chips = load_chips(pairs, (4, 3, 2))
    labelled = chips.labels != 255
    everything = normalize(chips.images, stats)[labelled]
    sample, classes = files.pixels(500, seed=1)
    assert sample.shape == (500, 3) and sample.dtype == np.float32 and classes.dtype == np.uint8
    rows = {tuple(row): label for row, label in zip(everything.round(4), chips.labels[labelled])}
    assert all(rows[tuple(row)] == label for row, label in zip(sample.round(4), classes))  # labelled pixels only
    again, other = files.pixels(500, seed=1), files.pixels(500, seed=2)
    np.testing.assert_array_equal(again[0], sample)
    assert not np.array_equal(other[0], sample)
    whole, whole_classes = files.pixels(10 ** 6)  # more than there are: every labelled pixel, once
    assert len(whole) == labelled.sum()
    assert sorted(map(tuple, whole.round(4))) == sorted(map(tuple, everything.round(4)))
    assert np.bincount(whole_classes).tolist() == np.bincount(chips.labels[labelled]).tolist()


def test_a_scene_samples_its_training_area_only_and_uniformly():
    rng = np.random.default_rng(0)
    image = rng.normal(size=(300, 200, 2)).astype(np.float32)
    labels = np.full((300, 200), 255, np.uint8)
    labels[:, 100:] = 1  # the training area: the right half (300 rows: two blocks of rows drawn from)
    labels[250:, 100:] = 0
    sample, classes = SceneWindows(image, labels, None).pixels(6000, seed=3)
    assert len(sample) == 6000 and set(classes) == {0, 1}
    area = {tuple(row) for row in image[:, 100:].reshape(-1, 2)}
    assert all(tuple(row) in area for row in sample) and len({tuple(row) for row in sample}) == 6000
    assert np.mean(classes == 0) == pytest.approx(50 / 300, abs=0.02)  # the class shares of the area
    assert len(SceneWindows(image, np.full_like(labels, 255), None).pixels(10)[0]) == 0


def test_the_stretch_is_fitted_in_bounded_memory(monkeypatch):
    images = np.random.default_rng(0).normal(size=(8, 32, 32, 2))
    exact = fit_normalization(images, "stretch")
    monkeypatch.setattr(normalization, "STRETCH_SAMPLE", 1000)
    fit = NormalizationFit("stretch")
    for image in images:
        fit.add(image)
    assert sum(len(part) for part in fit.sample) <= 1000 and fit.stride == 16
    thinned = fit.result()
    assert thinned["offset"] == pytest.approx(exact["offset"], abs=0.2)
    assert thinned["scale"] == pytest.approx(exact["scale"], abs=0.3)
