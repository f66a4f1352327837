import json
import os
import shutil
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import keras
import numpy as np
import pytest
from osgeo import gdal

from synthetic import CLASS_NAMES, scene, write_raster
from training.models.bundle import ModelInfo, save_bundle
from training.data.classes import NODATA_CLASS, class_scheme
from training.config import ClassifyConfig
from training.inference import engines
from training.models import build_model
from training.data.normalization import fit_normalization, normalize
from training.inference.classify import classify_raster
from training.models.flips import flip_averaged
from training.progress import Cancelled, Progress

# 148×108 is not a multiple of the tile (64): 3×2 tiles of 64 px overlap by 20–22 px; the tiny U-Net
# (depth 2) takes any multiple of 4, so the reference predicts the whole raster unpadded.
WIDTH, HEIGHT = 148, 108
# float32 and one prediction a tile unless a test asks otherwise: "auto" would compute in bfloat16 on CPUs that
# do so natively.
TILED = dict(tile_size=64, overlap=16, batch_size=4, precision="float32", flip_average="off")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny U-Net with random weights, saved as a bundle: (keras.Model, path, normalisation stats)."""
    keras.utils.set_random_seed(0)
    network = build_model("unet", 12, 3, base_filters=4, depth=2)
    image, _ = scene(WIDTH, HEIGHT)
    stats = fit_normalization(np.moveaxis(image, 0, -1)[np.newaxis])
    path = tmp_path_factory.mktemp("model") / "model.keras"
    save_bundle(network, ModelInfo("unet", list(range(1, 13)), class_scheme(CLASS_NAMES), stats), str(path))
    return network, path, stats


@pytest.fixture(scope="module")
def classified(model, tmp_path_factory):
    """The 148×108 scene classified tile by tile, with probabilities: (input, result)."""
    folder = tmp_path_factory.mktemp("classified")
    source = write_raster(folder / "image.tif", scene(WIDTH, HEIGHT)[0])
    result = classify(source, model, folder / "classes.tif", probabilities_raster=str(folder / "probabilities.tif"))
    return source, result


def classify(source, model, output, progress=None, **options):
    config = ClassifyConfig(str(source), str(model[1]), str(output), **{**TILED, **options})
    return classify_raster(config, progress)


def whole_raster_probabilities(network, stats, image: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """One prediction over the whole (bands, H, W) image, reflection-padded to ``size`` if given."""
    x = normalize(np.moveaxis(image, 0, -1).astype(np.float32), stats)
    height, width = x.shape[:2]
    if size:
        x = np.pad(x, ((0, size[0] - height), (0, size[1] - width), (0, 0)), mode="reflect")
    return network.predict(x[np.newaxis], verbose=0)[0, :height, :width]


def read(path) -> np.ndarray:
    return gdal.Open(str(path)).ReadAsArray()


def test_tiled_classification_matches_one_whole_raster_prediction(model, classified):
    source, result = classified
    reference = whole_raster_probabilities(model[0], model[2], read(source))
    percent = np.moveaxis(read(result.probabilities_raster), 0, -1).astype(np.float32)
    classes = read(result.output_raster)
    # Seams (unblended tile borders) show as differences of 7–11 points here; blending keeps them near 1.
    assert np.abs(percent - reference * 100).max() <= 2.0
    top_two = np.sort(reference, axis=-1)[..., -2:]
    decisive = top_two[..., 1] - top_two[..., 0] > 0.02  # the random model leaves ~65 % of pixels near a tie
    assert (classes == reference.argmax(-1)).mean() >= 0.98
    assert (classes == reference.argmax(-1))[decisive].all()


def test_flip_averaging_agrees_with_the_plain_prediction_of_a_mirror_symmetric_input(model, tmp_path):
    half = scene(32, 64)[0]
    image = np.concatenate([half, half[:, :, ::-1]], axis=2)
    image = np.concatenate([image[:, :32], image[:, :32][:, ::-1]], axis=1)  # symmetric left-right and up-down
    source = write_raster(tmp_path / "symmetric.tif", image)
    plain = whole_raster_probabilities(model[0], model[2], image)
    expected = (plain + plain[::-1] + plain[:, ::-1] + plain[::-1, ::-1]) / 4
    result = classify(source, model, tmp_path / "classes.tif", probabilities_raster=str(tmp_path / "p.tif"),
                      flip_average="on")
    percent = np.moveaxis(read(result.probabilities_raster), 0, -1).astype(np.float32)
    assert np.abs(percent - expected * 100).max() <= 1.0
    assert (read(result.output_raster) == read(result.output_raster)[::-1, ::-1]).all()
    def pixelwise(images):  # a per-pixel model: mirroring changes nothing
        return images * 2.0

    batch = np.random.default_rng(0).random((2, 8, 12, 3)).astype(np.float32)
    np.testing.assert_allclose(flip_averaged(pixelwise)(batch), pixelwise(batch), rtol=1e-6)


@pytest.mark.parametrize("recorded", [True, False, None])
def test_automatic_flip_averaging_follows_the_decision_the_model_file_records(model, classified, tmp_path, recorded):
    source = classified[0]
    network, _, stats = model
    info = ModelInfo("unet", list(range(1, 13)), class_scheme(CLASS_NAMES), stats,
                     metrics={} if recorded is None else {"flip_average": {"on": recorded}})  # None: an older file
    path = tmp_path / "recorded.keras"
    save_bundle(network, info, str(path))
    probabilities = {}
    for choice in ("auto", "on", "off"):
        messages = []
        said = Progress(lambda percent, message, into=messages: into.append(message))
        classify(source, (network, path), tmp_path / f"{choice}.tif", said,
                 probabilities_raster=str(tmp_path / f"{choice}-p.tif"), flip_average=choice)
        probabilities[choice] = read(tmp_path / f"{choice}-p.tif")
        assert ("averaged over mirror images (4× the computation)" in messages[0]) == (
            choice == "on" or (choice == "auto" and bool(recorded)))
    assert (probabilities["on"] != probabilities["off"]).any()  # the random model is no mirror image of itself
    assert (probabilities["auto"] == probabilities["on" if recorded else "off"]).all()


def test_outputs_keep_the_grid_and_carry_a_legend(classified):
    source, result = classified
    image, out = gdal.Open(str(source)), gdal.Open(result.output_raster)
    assert (out.RasterXSize, out.RasterYSize, out.RasterCount) == (WIDTH, HEIGHT, 1)
    assert out.GetGeoTransform() == image.GetGeoTransform()
    assert out.GetProjection() == image.GetProjection()
    band = out.GetRasterBand(1)
    assert band.DataType == gdal.GDT_Byte and band.GetNoDataValue() == NODATA_CLASS
    assert list(band.GetCategoryNames()) == CLASS_NAMES
    assert band.GetColorTable().GetCount() >= 3 and band.GetBlockSize() == [256, 256]
    assert out.GetMetadata("IMAGE_STRUCTURE")["COMPRESSION"] == "DEFLATE"
    values = band.ReadAsArray()
    assert set(np.unique(values)) <= {0, 1, 2}
    counts = np.bincount(values.ravel(), minlength=3)
    assert result.class_pixels == dict(zip(CLASS_NAMES, counts.tolist()))


def test_the_class_raster_alone_comes_with_a_qgis_style_of_its_classes(classified):
    _, result = classified
    style = ET.parse(Path(result.output_raster).with_suffix(".qml")).getroot()
    entries = style.findall("pipe/rasterrenderer[@type='paletted']/colorPalette/paletteEntry")
    assert [(int(entry.get("value")), entry.get("label")) for entry in entries] == list(enumerate(CLASS_NAMES))
    assert not Path(result.probabilities_raster).with_suffix(".qml").exists()


def test_probabilities_hold_one_band_per_class_summing_to_100_percent(classified):
    _, result = classified
    probabilities = gdal.Open(result.probabilities_raster)
    assert probabilities.RasterCount == 3
    assert [probabilities.GetRasterBand(i + 1).GetDescription() for i in range(3)] == CLASS_NAMES
    total = probabilities.ReadAsArray().astype(int).sum(axis=0)
    assert np.abs(total - 100).max() <= 1


def test_raster_smaller_than_one_tile_is_padded_to_a_multiple_of_32(model, tmp_path):
    image = scene(40, 24)[0]
    result = classify(write_raster(tmp_path / "small.tif", image), model, tmp_path / "classes.tif")
    reference = whole_raster_probabilities(model[0], model[2], image, size=(32, 64))
    classes = read(result.output_raster)
    assert classes.shape == (24, 40)
    assert (classes == reference.argmax(-1)).mean() >= 0.99
    assert sum(result.class_pixels.values()) == 40 * 24


def test_raster_narrower_than_the_overlap_is_one_tile(model, tmp_path):
    image = scene(20, 150)[0]
    result = classify(write_raster(tmp_path / "narrow.tif", image), model, tmp_path / "classes.tif",
                      tile_size=128, overlap=64)
    reference = whole_raster_probabilities(model[0], model[2], image[:, :128], size=(128, 32)).argmax(-1)
    assert (read(result.output_raster)[:22] == reference[:22]).mean() >= 0.99  # rows 0–21: only the first tile


def test_nodata_border_comes_out_as_nodata(model, tmp_path):
    image = scene(WIDTH, HEIGHT)[0]
    image[:, :5, :] = image[:, :, -7:] = 65535
    result = classify(write_raster(tmp_path / "image.tif", image, nodata=65535), model, tmp_path / "classes.tif")
    classes = read(result.output_raster)
    border = np.zeros(classes.shape, bool)
    border[:5, :] = border[:, -7:] = True
    assert (classes[border] == NODATA_CLASS).all() and (classes[~border] < 3).all()
    assert sum(result.class_pixels.values()) == (~border).sum()


def test_nan_and_infinite_values_come_out_as_nodata(model, tmp_path):
    image = scene(WIDTH, HEIGHT)[0].astype(np.float32)
    image[3, 20:30, 40:60] = np.nan
    image[7, 90, 100] = np.inf
    classes = read(classify(write_raster(tmp_path / "image.tif", image), model, tmp_path / "classes.tif").output_raster)
    invalid = ~np.isfinite(image).all(axis=0)
    assert (classes[invalid] == NODATA_CLASS).all() and (classes[~invalid] < 3).all()


def test_masked_pixels_come_out_as_nodata(model, tmp_path):
    path = write_raster(tmp_path / "image.tif", scene(WIDTH, HEIGHT)[0])
    ds = gdal.Open(str(path), gdal.GA_Update)
    ds.CreateMaskBand(gdal.GMF_PER_DATASET)
    mask = np.full((HEIGHT, WIDTH), 255, np.uint8)
    mask[50:70, :30] = 0
    ds.GetRasterBand(1).GetMaskBand().WriteArray(mask)
    ds = None
    classes = read(classify(path, model, tmp_path / "classes.tif").output_raster)
    assert ((classes == NODATA_CLASS) == (mask == 0)).all()


def test_cog_output_is_cloud_optimized_and_keeps_the_legend(model, tmp_path):
    source = write_raster(tmp_path / "image.tif", scene(WIDTH, HEIGHT)[0])
    result = classify(source, model, tmp_path / "classes.tif", cog=True,
                      probabilities_raster=str(tmp_path / "probabilities.tif"))
    classes, probabilities = gdal.Open(result.output_raster), gdal.Open(result.probabilities_raster)
    for ds in (classes, probabilities):
        assert ds.GetMetadata("IMAGE_STRUCTURE")["LAYOUT"] == "COG"
    band = classes.GetRasterBand(1)
    assert band.GetDescription() == "class"  # first: GDAL 3.6 reads the .aux.xml on it, not on GetCategoryNames
    assert list(band.GetCategoryNames()) == CLASS_NAMES and band.GetColorTable() is not None
    assert probabilities.GetRasterBand(3).GetDescription() == CLASS_NAMES[2]
    assert (tmp_path / "classes.qml").exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]



def test_litert_and_tensorflow_engines_agree(model, classified, tmp_path):
    source, _ = classified
    results = [classify(source, model, tmp_path / f"{engine}.tif", engine=engine,
                        probabilities_raster=str(tmp_path / f"{engine}-probabilities.tif"))
               for engine in ("litert", "tensorflow")]
    litert, tensorflow = ([read(r.output_raster), read(r.probabilities_raster).astype(int)] for r in results)
    assert np.abs(litert[1] - tensorflow[1]).max() <= 1  # rounding to whole percent
    assert (litert[0] == tensorflow[0]).mean() >= 0.999



CLASSIFY_IN_A_NEW_PROCESS = """
import json, sys
from training.config import ClassifyConfig
from training.inference.classify import classify_raster
from training.progress import Progress
messages = []
classify_raster(ClassifyConfig(**json.loads(sys.argv[1])), Progress(lambda percent, message: messages.append(message)))
print(json.dumps({"messages": messages, "tensorflow": "tensorflow" in sys.modules, "keras": "keras" in sys.modules}))
"""


def test_litert_conversion_is_cached_per_model_file_and_then_needs_no_tensorflow(model, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv(engines.CACHE_ENV, str(cache))
    source = write_raster(tmp_path / "image.tif", scene(WIDTH, HEIGHT)[0])
    model_path = shutil.copy(model[1], tmp_path / "model.keras")

    def run(output):
        config = {"input_raster": str(source), "model_path": str(model_path), "output_raster": str(output), **TILED}
        done = subprocess.run([sys.executable, "-c", CLASSIFY_IN_A_NEW_PROCESS, json.dumps(config)], check=True,
                              cwd=Path(__file__).parents[3], env=os.environ, stdout=subprocess.PIPE, text=True)
        report = json.loads(done.stdout.splitlines()[-1])
        converted = any(m.startswith("Converting the model to LiteRT") for m in report["messages"])
        return read(output), converted, report["tensorflow"] or report["keras"]

    classes, converted, imported_tensorflow = run(tmp_path / "first.tif")
    assert converted and imported_tensorflow and len(list(cache.glob("*.tflite"))) == 1
    cached_classes, converted, imported_tensorflow = run(tmp_path / "second.tif")
    assert not converted and not imported_tensorflow
    assert (cached_classes == classes).all()

    keras.utils.set_random_seed(1)  # retrained in place: the same path holds another network
    other = build_model("unet", 12, 3, base_filters=4, depth=2)
    save_bundle(other, ModelInfo("unet", list(range(1, 13)), class_scheme(CLASS_NAMES), model[2]), str(model_path))
    other_classes, converted, _ = run(tmp_path / "third.tif")
    assert converted and len(list(cache.glob("*.tflite"))) == 2
    reference = whole_raster_probabilities(other, model[2], read(source)).argmax(-1)
    assert (other_classes == reference).mean() >= 0.95 > (classes == reference).mean()


def test_an_unwritable_cache_folder_only_costs_a_conversion(model, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv(engines.CACHE_ENV, str(tmp_path / "a-file" / "cache"))
    source = write_raster(tmp_path / "image.tif", scene(WIDTH, HEIGHT)[0])
    result = classify(source, model, tmp_path / "classes.tif")
    assert sum(result.class_pixels.values()) == WIDTH * HEIGHT


def test_conversion_cache_keeps_the_most_recently_used(tmp_path, monkeypatch):
    monkeypatch.setattr(engines, "CACHED_CONVERSIONS", 2)
    for age, name in enumerate(["old", "used", "recent"]):
        (tmp_path / f"{name}.tflite").write_bytes(b"x")
        os.utime(tmp_path / f"{name}.tflite", (1000 + age, 1000 + age))
    os.utime(tmp_path / "used.tflite")  # a cache hit marks it used now
    engines._store(tmp_path / "new.tflite", b"flatbuffer")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.tflite", "used.tflite"]
    assert (tmp_path / "new.tflite").read_bytes() == b"flatbuffer"



def test_bfloat16_agrees_with_float32(model, classified, tmp_path):
    source, result = classified
    fast = classify(source, model, tmp_path / "classes.tif", precision="bfloat16",
                    probabilities_raster=str(tmp_path / "probabilities.tif"))
    assert (read(fast.output_raster) == read(result.output_raster)).mean() >= 0.99
    difference = read(fast.probabilities_raster).astype(int) - read(result.probabilities_raster)
    assert np.abs(difference).max() <= 2


def test_cancel_stops_within_a_batch_and_leaves_no_output(model, tmp_path):
    source = write_raster(tmp_path / "image.tif", scene(WIDTH, HEIGHT)[0])
    reports = []
    progress = Progress(lambda percent, message: reports.append(percent), lambda: bool(reports))
    threads = threading.active_count()
    with pytest.raises(Cancelled):
        classify(source, model, tmp_path / "classes.tif", progress, batch_size=1,
                 probabilities_raster=str(tmp_path / "probabilities.tif"))
    assert len([percent for percent in reports if percent > 0]) == 1  # after the start messages, one batch
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image.tif"]
    assert threading.active_count() == threads


def test_too_few_bands_is_an_error_naming_the_file(model, tmp_path):
    source = write_raster(tmp_path / "four_bands.tif", scene(WIDTH, HEIGHT)[0][:4])
    with pytest.raises(ValueError, match="four_bands.tif.*12 bands"):
        classify(source, model, tmp_path / "classes.tif")
    assert not (tmp_path / "classes.tif").exists()


@pytest.mark.parametrize("options", [dict(tile_size=48), dict(overlap=40), dict(batch_size=0)])
def test_bad_tiling_settings_are_errors(model, classified, tmp_path, options):
    with pytest.raises(ValueError):
        classify(classified[0], model, tmp_path / "classes.tif", **options)


def test_extent_classifies_only_the_pixels_it_touches(model, classified, tmp_path):
    source, _ = classified
    x0, dx, _, y0, _, dy = gdal.Open(str(source)).GetGeoTransform()
    extent = [x0 + 20.5 * dx, y0 + 90.2 * dy, x0 + 101.3 * dx, y0 + 10.7 * dy]  # xmin, ymin, xmax, ymax
    classify(source, model, tmp_path / "part.tif", extent=extent)
    part = gdal.Open(str(tmp_path / "part.tif"))
    assert part.GetGeoTransform() == (x0 + 20 * dx, dx, 0.0, y0 + 10 * dy, 0.0, dy)
    assert (part.RasterXSize, part.RasterYSize) == (102 - 20, 91 - 10)
    assert set(np.unique(part.ReadAsArray())) <= {0, 1, 2}


def test_input_bands_feed_the_models_bands_from_another_stacking(model, classified, tmp_path):
    source, result = classified
    reversed_stack = write_raster(tmp_path / "reversed.tif", scene(WIDTH, HEIGHT)[0][::-1])
    classify(reversed_stack, model, tmp_path / "classes.tif", input_bands=list(range(12, 0, -1)))
    np.testing.assert_array_equal(read(tmp_path / "classes.tif"), read(result.output_raster))


def test_outside_the_mask_polygons_is_nodata(model, classified, tmp_path):
    from osgeo import ogr, osr

    source, _ = classified
    x0, dx, _, y0, _, dy = gdal.Open(str(source)).GetGeoTransform()
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)  # the mask in another CRS: reprojected onto the raster
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    utm = gdal.Open(str(source)).GetSpatialRef()
    to_wgs84 = osr.CoordinateTransformation(utm, srs)
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for col, row in ((0, 0), (50, 0), (50, 40), (0, 40), (0, 0)):
        ring.AddPoint_2D(*to_wgs84.TransformPoint(x0 + col * dx, y0 + row * dy)[:2])
    polygon = ogr.Geometry(ogr.wkbPolygon)
    polygon.AddGeometry(ring)
    data = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp_path / "mask.gpkg"))
    layer = data.CreateLayer("mask", srs, ogr.wkbPolygon)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(polygon)
    layer.CreateFeature(feature)
    data = None
    classify(source, model, tmp_path / "masked.tif", mask_polygons=str(tmp_path / "mask.gpkg"))
    masked = read(tmp_path / "masked.tif")
    assert (masked[45:, :] == NODATA_CLASS).all() and (masked[:, 55:] == NODATA_CLASS).all()
    assert set(np.unique(masked[2:38, 2:48])) <= {0, 1, 2}  # classified inside (context outside is blanked)


@pytest.mark.parametrize("options, message", [
    (dict(input_bands=[3, 2, 1]), "reads 12 bands.*3 input bands"),
    (dict(input_bands=list(range(2, 14))), "has 12 bands but the model reads 12 bands"),
    (dict(extent=[0.0, 0.0, 10.0, 10.0]), "does not overlap"),
])
def test_bad_input_band_mapping_and_extent_are_errors(model, classified, tmp_path, options, message):
    with pytest.raises(ValueError, match=message):
        classify(classified[0], model, tmp_path / "classes.tif", **options)
    assert not (tmp_path / "classes.tif").exists()
