"""Atomic outputs: a file and its sidecars (GDAL metadata, QGIS style) appear together, or not at all."""
import os
from pathlib import Path

import pytest

from training.errors import GeoSegError
from training.outputs import NAME_MAX, WRITER_ROOM, atomic_path, partial_path, partials, remove_output


def write_with_sidecars(tmp: str, text: str) -> None:
    for name in (tmp, tmp + ".aux.xml", tmp.removesuffix(".tif") + ".qml"):
        with open(name, "w") as handle:
            handle.write(text)


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_success_moves_the_file_and_its_sidecars_into_place(tmp_path):
    with atomic_path(tmp_path / "classes.tif") as tmp:
        write_with_sidecars(tmp, "new")
    assert names(tmp_path) == ["classes.qml", "classes.tif", "classes.tif.aux.xml"]
    assert (tmp_path / "classes.qml").read_text() == "new"


def test_failure_or_cancel_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "classes.tif") as tmp:
        write_with_sidecars(tmp, "new")
        raise KeyboardInterrupt
    assert names(tmp_path) == []


def test_a_failed_overwrite_keeps_the_old_output_whole(tmp_path):
    with atomic_path(tmp_path / "classes.tif") as tmp:
        write_with_sidecars(tmp, "old")
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "classes.tif") as tmp:
        write_with_sidecars(tmp, "new")
        raise RuntimeError("disk full")
    assert names(tmp_path) == ["classes.qml", "classes.tif", "classes.tif.aux.xml"]
    assert {p.read_text() for p in tmp_path.iterdir()} == {"old"}


def test_an_overwritten_output_loses_the_sidecars_it_no_longer_has(tmp_path):
    with atomic_path(tmp_path / "classes.tif") as tmp:
        write_with_sidecars(tmp, "old")
    with atomic_path(tmp_path / "classes.tif") as tmp:
        with open(tmp, "w") as handle:
            handle.write("new")
    assert names(tmp_path) == ["classes.tif"]


def test_remove_output_removes_the_sidecars_too(tmp_path):
    write_with_sidecars(str(tmp_path / "classes.tif"), "x")
    (tmp_path / "other.qml").write_text("kept")
    remove_output(tmp_path / "classes.tif")
    assert names(tmp_path) == ["other.qml"]


def test_an_output_beside_a_raster_of_the_same_name_keeps_the_rasters_style(tmp_path):
    (tmp_path / "classes.tif").write_bytes(b"raster")
    (tmp_path / "classes.qml").write_text("<qgis/>")
    with atomic_path(tmp_path / "classes.gpkg") as tmp:
        Path(tmp).write_bytes(b"polygons")
    assert (tmp_path / "classes.qml").read_text() == "<qgis/>"


def test_two_writes_of_one_output_at_once_leave_the_last_one_whole(tmp_path):
    """Each write has its own partial file: the first to finish never loses its output to the other's end."""
    with atomic_path(tmp_path / "classes.tif") as first:
        write_with_sidecars(first, "first")
        with atomic_path(tmp_path / "classes.tif") as second:
            write_with_sidecars(second, "second")
    assert names(tmp_path) == ["classes.qml", "classes.tif", "classes.tif.aux.xml"]
    assert {p.read_text() for p in tmp_path.iterdir()} == {"first"}


@pytest.mark.parametrize("name", ["classes.tif", "n" * 243 + ".tif", "é" * 120 + ".tif", "chips"])
def test_partial_names_are_hidden_unique_and_leave_a_writer_room(tmp_path, name):
    output = tmp_path / name
    first, second = partial_path(output), partial_path(output)
    assert first != second and first.parent == second.parent == tmp_path
    assert first.name.startswith(".") and first.name.endswith(".partial" + output.suffix)
    assert len(os.fsencode(first.name)) + WRITER_ROOM <= NAME_MAX
    first.name.encode("utf-8")  # raises where a character was cut in two
    for path in (first, second, partial_path(tmp_path / f"other{output.suffix}")):
        path.touch()
    assert partials(output) == sorted([first, second])


def test_a_name_too_long_for_the_file_system_is_refused_before_anything_is_written(tmp_path):
    """Not only a job's outputs: a file named after one (a model's history) may pass the limit."""
    history = tmp_path / ("n" * 244 + ".history.csv")
    with pytest.raises(GeoSegError, match=f"The file name of {history} is 256 bytes long"), atomic_path(history):
        pytest.fail("no partial path for a name the file system cannot take")
    assert names(tmp_path) == []
