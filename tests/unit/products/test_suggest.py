"""Suggested squares to label on uncertainty and class maps the tests make, where the answer is known."""
import json

import numpy as np
import pytest
from osgeo import ogr, osr

from onnx_models import write_segmentor
from synthetic import EPSG, GEOTRANSFORM, scene, write_raster
from tiny_model import write_tiny_model
from training.cli import main
from training.products.suggest import Square, candidates, select


def maps(size=64):
    """Class 0 everywhere but a small patch of rare class 1; uncertainty rising to the right (0 … ~1)."""
    classes = np.zeros((size, size), np.uint8)
    classes[48:56, 8:16] = 1
    uncertainty = np.tile(np.linspace(0, 1, size, endpoint=False, dtype=np.float32), (size, 1))
    return uncertainty, classes, np.zeros((size, size), bool)


def test_the_most_uncertain_squares_come_first_with_their_mean_and_class():
    uncertainty, classes, labelled = maps()
    squares = candidates(uncertainty, classes, labelled, 8)
    assert len(squares) == 64
    best = select(squares, 1, 0)[0]
    assert best.col == 56 and best.uncertainty == np.float32(uncertainty[0, 56:64].mean())
    assert next(s for s in squares if (s.row, s.col) == (48, 8)).predicted == 1


def closest(squares):
    return min(np.hypot(a.row - b.row, a.col - b.col) for i, a in enumerate(squares) for b in squares[i + 1:])


def test_no_two_suggestions_closer_than_the_minimum_distance():
    squares = candidates(*maps(), 8)
    assert closest(select(squares, 10, 0)) < 16  # without it they crowd the most uncertain edge
    chosen = select(squares, 10, 16)
    assert len(chosen) == 10 and closest(chosen) >= 16


def test_a_rare_class_gets_its_share_though_it_is_sure():
    uncertainty, classes, labelled = maps()
    chosen = select(candidates(uncertainty, classes, labelled, 8), 4, 0)
    assert [s.predicted for s in chosen].count(1) == 1  # 4 // 2 classes: 2 each, but class 1 has one square
    assert [s.col for s in chosen if s.predicted == 0] == [56, 56, 56]  # the rest to the most uncertain


def test_nodata_and_labelled_pixels_and_their_neighbours_are_never_suggested():
    uncertainty, classes, labelled = maps()
    uncertainty[:, 60] = np.nan  # outside the area: the rightmost column of squares
    classes[0:8, 48] = 255
    labelled[20, 39] = True  # touches the square at columns 40-47, and lies in the one at 32-39
    squares = candidates(uncertainty, classes, labelled, 8)
    corners = {(s.row, s.col) for s in squares}
    assert not any(col == 56 for _, col in corners)
    assert (0, 48) not in corners and (16, 40) not in corners and (16, 32) not in corners
    assert (8, 48) in corners and (24, 40) in corners and (16, 24) in corners
    assert len(squares) == 64 - 8 - 1 - 2


def test_fewer_candidates_than_asked_give_fewer_suggestions():
    squares = [Square(0, 0, 0, 0.5), Square(0, 8, 1, 0.9)]
    assert select(squares, 5, 10) == [Square(0, 0, 0, 0.5)]  # one of each class first: class 0's comes first
    assert select(squares, 5, 8) == [Square(0, 0, 0, 0.5), Square(0, 8, 1, 0.9)]



def write_label_polygon(path, srs, geometry) -> None:
    """A GeoPackage of label polygons in ``srs`` holding ``geometry`` alone, of class 0."""
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("labels", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("class", ogr.OFTInteger))
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetField("class", 0)
    feature.SetGeometry(geometry)
    layer.CreateFeature(feature)

@pytest.fixture(scope="module")
def classified(tmp_path_factory):
    """A 64×64 scene, a tiny model, and label polygons in another CRS (WGS 84) over the top-left 16×16 px."""
    folder = tmp_path_factory.mktemp("suggest")
    image, _ = scene(64, 64)
    raster = write_raster(folder / "scene.tif", image)
    model = write_tiny_model(folder / "model.keras")
    x, y = GEOTRANSFORM[0], GEOTRANSFORM[3]
    utm, wgs84 = osr.SpatialReference(), osr.SpatialReference()
    utm.ImportFromEPSG(EPSG)
    wgs84.ImportFromEPSG(4326)
    for crs in (utm, wgs84):
        crs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    labelled = ogr.CreateGeometryFromWkt(f"POLYGON (({x} {y}, {x + 160} {y}, {x + 160} {y - 160}, {x} {y - 160}, "
                                         f"{x} {y}))")
    labelled.Transform(osr.CoordinateTransformation(utm, wgs84))
    write_label_polygon(folder / "labels.gpkg", wgs84, labelled)
    return folder, str(raster), str(model), str(folder / "labels.gpkg"), labelled


def test_the_command_line_writes_squares_with_their_fields_in_the_label_polygons_crs(classified, capsys):
    folder, raster, model, labels, labelled = classified
    output = folder / "suggested.gpkg"
    assert main(["suggest", raster, model, str(output), "--count", "6", "--square-size", "8", "--min-distance", "16",
                 "--label-polygons", labels]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["squares"] == 6 and sum(result["class_squares"].values()) == 6
    source = ogr.Open(str(output))
    layer = source.GetLayer("suggestions")
    assert layer.GetSpatialRef().GetAuthorityCode(None) == "4326"
    names = [layer.GetLayerDefn().GetFieldDefn(i).GetName() for i in range(layer.GetLayerDefn().GetFieldCount())]
    assert names == ["predicted", "predicted_name", "color", "uncertainty", "class"]
    features = list(layer)
    assert {f.GetField("predicted_name") for f in features} <= {"a", "b", "c"}
    assert all(f.GetField("class") is None and 0 <= f.GetField("uncertainty") <= 1 for f in features)
    assert not any(f.GetGeometryRef().Buffer(1e-7).Intersects(labelled) for f in features)


def test_squares_of_a_raster_in_degrees_land_on_it_in_the_label_polygons_crs(tmp_path, capsys):
    """A geographic raster (latitude before longitude by its authority) with label polygons in UTM: each square,
    written in UTM, lies on the raster, not with its axes swapped."""
    lon, lat, step = 15.0, 52.0, 0.0002
    raster = write_raster(tmp_path / "scene.tif", scene(64, 64)[0], epsg=4326,
                          geotransform=(lon, step, 0.0, lat, 0.0, -step))
    model = write_tiny_model(tmp_path / "model.keras")
    wgs84, utm = osr.SpatialReference(), osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    utm.ImportFromEPSG(EPSG)
    for crs in (wgs84, utm):
        crs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    footprint = ogr.CreateGeometryFromWkt(f"POLYGON (({lon} {lat}, {lon + 64 * step} {lat}, {lon + 64 * step} "
                                          f"{lat - 64 * step}, {lon} {lat - 64 * step}, {lon} {lat}))")
    footprint.Transform(osr.CoordinateTransformation(wgs84, utm))
    labelled = ogr.CreateGeometryFromWkt(footprint.Centroid().Buffer(50, 1).ExportToWkt())  # a small labelled patch
    write_label_polygon(tmp_path / "labels.gpkg", utm, labelled)
    output = tmp_path / "suggested.gpkg"
    assert main(["suggest", str(raster), str(model), str(output), "--count", "4", "--square-size", "8",
                 "--label-polygons", str(tmp_path / "labels.gpkg")]) == 0
    capsys.readouterr()
    written = ogr.Open(str(output))  # held: its layer dies with it
    squares = list(written.GetLayer("suggestions"))
    assert squares and all(footprint.Buffer(1).Contains(square.GetGeometryRef()) for square in squares)


def test_an_onnx_segmentor_suggests_squares_named_after_its_classes(tmp_path, capsys):
    data = np.random.default_rng(0).integers(0, 256, (3, 64, 64)).astype(np.uint16)
    raster = write_raster(tmp_path / "image.tif", data)
    output = tmp_path / "squares.gpkg"
    assert main(["suggest", str(raster), str(write_segmentor(tmp_path / "model.onnx")), str(output), "--count", "4",
                 "--square-size", "8"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["squares"] == 4 and set(result["class_squares"]) <= {"dark", "bright"}
