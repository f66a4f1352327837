import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from osgeo import gdal

from processes import as_in_a_terminal, read_lines
from synthetic import GEOTRANSFORM, scene, write_raster
from tiny_model import ROOT, write_tiny_model
from training.errors import GeoSegError
from training.inference.scenes import expand_rasters, output_paths


def test_a_dask_local_cluster_classifies_each_raster_and_reports_the_broken_one(tmp_path):
    model = write_tiny_model(tmp_path / "model.keras")
    shifted = (GEOTRANSFORM[0] + 640, *GEOTRANSFORM[1:])
    (tmp_path / "scenes").mkdir()
    good = [write_raster(tmp_path / "scenes" / "a.tif", scene(64, 64, 1)[0]),
            write_raster(tmp_path / "scenes" / "b.tif", scene(96, 64, 2)[0], geotransform=shifted)]
    broken = tmp_path / "scenes" / "broken.tif"
    broken.write_text("not a raster")
    done = subprocess.run([sys.executable, "-m", "training", "classify", str(tmp_path / "scenes" / "*.tif"),
                           str(model), str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert sorted(result["classified"]) == [str(path) for path in good]
    assert list(result["failed"]) == [str(broken)] and "GDAL cannot read" in result["failed"][str(broken)]
    assert f"error: {broken}: " in done.stderr
    for path in good:
        source, output = gdal.Open(str(path)), gdal.Open(str(tmp_path / "out" / path.name))
        assert output.GetGeoTransform() == source.GetGeoTransform()
        assert output.GetSpatialRef().IsSame(source.GetSpatialRef())
        assert (output.RasterXSize, output.RasterYSize) == (source.RasterXSize, source.RasterYSize)
        assert set(np.unique(output.ReadAsArray())) <= {0, 1, 2}
    assert sorted(p.name for p in (tmp_path / "out").glob("*.tif")) == ["a.tif", "b.tif"]


def test_ctrl_c_while_a_local_cluster_writes_leaves_no_part_written_raster(tmp_path):
    model = write_tiny_model(tmp_path / "model.keras")
    (tmp_path / "scenes").mkdir()
    image = scene(1024, 1024, 1)[0]
    rasters = [str(write_raster(tmp_path / "scenes" / f"{name}.tif", image)) for name in "abc"]
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "training", "classify", *rasters, str(model), str(out),
                                "--tile-size", "32", "--overlap", "0"], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, preexec_fn=as_in_a_terminal)
    lines = []
    threading.Thread(target=read_lines, args=(process.stderr, lines), daemon=True).start()  # the pipe never fills
    deadline = time.monotonic() + 120
    while not list(out.glob(".*.partial.tif")):  # a worker is writing a raster
        assert process.poll() is None and time.monotonic() < deadline, lines
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in a terminal: to the command and its Dask workers alike
    assert process.wait(timeout=120) == -signal.SIGINT
    time.sleep(0.1)  # the last lines read
    assert "error: Cancelled by the user.\n" in lines  # Dask's own log lines may follow it
    assert not [path.name for path in out.rglob("*") if ".partial" in path.name]  # no folder: nothing was finished
    for path in out.glob("*.tif"):  # whatever was finished is whole
        assert gdal.Open(str(path)).ReadAsArray().shape == (1024, 1024)


def test_patterns_expand_and_outputs_may_not_clash(tmp_path):
    for name in ("b.tif", "a.tif"):
        (tmp_path / name).touch()
    assert expand_rasters([str(tmp_path / "*.tif"), str(tmp_path / "a.tif")]) == [
        str(tmp_path / "a.tif"), str(tmp_path / "b.tif")]
    with pytest.raises(GeoSegError, match="No raster matches"):
        expand_rasters([str(tmp_path / "*.jp2")])
    with pytest.raises(GeoSegError, match="share a file name"):
        output_paths([str(tmp_path / "x" / "a.tif"), str(tmp_path / "y" / "a.tif")], str(tmp_path / "out"))
