"""Classify many rasters on Dask distributed: one raster per task, on a ``LocalCluster`` of this machine or on
a running cluster's scheduler, each output written into one folder on its input's grid (``<input name>.tif``).

A raster that fails is reported with its reason while the others go on. Each task runs the ``classify`` job
(:func:`training.jobs.run_job`) in a Dask worker, so every setting and check of a single classification
applies; an output that would replace its input is refused like any other. On a cluster, every worker needs
GeoSeg's ``training`` package and sees the rasters, the model and the output folder under the same paths.
"""
from __future__ import annotations

import contextlib
import glob
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..config import ClassifyConfig, ScenesConfig, check_settings
from ..errors import GeoSegError
from ..jobs import run_job
from ..outputs import check_output, partials, remove_output
from ..progress import Progress

GLOB_CHARACTERS = frozenset("*?[")
ONE_RASTER_OUTPUTS = {"probabilities_raster": "Probability", "uncertainty_raster": "Uncertainty"}  # field → its name


@dataclass
class ScenesResult:
    output_dir: str
    classified: dict[str, str] = field(default_factory=dict)  # raster → its class raster
    failed: dict[str, str] = field(default_factory=dict)  # raster → why it failed


def is_pattern(path: str) -> bool:
    return not GLOB_CHARACTERS.isdisjoint(path)


def expand_rasters(paths: list[str]) -> list[str]:
    """Paths as given, glob patterns expanded (sorted); a pattern matching nothing is an error."""
    rasters = []
    for path in paths:
        matches = sorted(glob.glob(path)) if is_pattern(path) else [path]
        if not matches:
            raise GeoSegError(f"No raster matches {path}: check the pattern (quote it so that the shell leaves it).")
        rasters.extend(matches)
    return list(dict.fromkeys(rasters))


def output_paths(rasters: list[str], output_dir: str) -> dict[str, str]:
    """raster → ``output_dir/<its name>.tif``; two rasters of one name would share an output, so that is an error."""
    outputs = {raster: str(Path(output_dir) / f"{Path(raster).stem}.tif") for raster in rasters}
    clashes = len(outputs) - len(set(outputs.values()))
    if clashes:
        raise GeoSegError(f"{clashes} of the rasters share a file name with another one, and so would share an "
                          f"output in {output_dir}: classify rasters of one name in separate runs.")
    return outputs


def classify_scenes(settings: dict, rasters: list[str], output_dir: str, scheduler: str = "", workers: int = 1,
                    progress: Progress | None = None) -> ScenesResult:
    """Classify each of ``rasters`` with the classify ``settings`` (all but the input and output), one Dask
    task per raster, on the cluster at ``scheduler`` or on a new ``LocalCluster`` of ``workers`` processes."""
    from dask.distributed import as_completed

    progress = progress or Progress()
    check_settings(ScenesConfig(scheduler, workers))
    check_settings(ClassifyConfig(**{**settings, "input_raster": "", "output_raster": ""}))
    for name, what in ONE_RASTER_OUTPUTS.items():
        if settings.get(name):
            raise GeoSegError(f"{what} rasters are written for one raster at a time: classify that raster alone.")
    outputs = output_paths(rasters, output_dir)
    check_output(output_dir, folder=True)
    result = ScenesResult(output_dir)
    with _output_folder(output_dir, result), _client(scheduler, workers, outputs.values()) as client:
        progress.update(0.0, f"Classifying {len(rasters)} rasters on Dask ({client.scheduler.address}).")
        futures = {client.submit(run_job, "classify", {**settings, "input_raster": raster, "output_raster": output},
                                 pure=False): raster for raster, output in outputs.items()}
        for done, future in enumerate(as_completed(futures), 1):
            raster = futures[future]
            try:
                result.classified[raster] = future.result()["output_raster"]
                message = f"{raster}: wrote {result.classified[raster]}"
            except Exception as err:  # noqa: BLE001 (whatever a raster's failure, it is reported and the rest go on)
                result.failed[raster] = str(err) or type(err).__name__
                message = f"{raster}: failed: {result.failed[raster]}"
            progress.update(done / len(futures), message)
            if progress.is_cancelled():
                client.cancel(list(futures))
                progress.check()
    return result


@contextlib.contextmanager
def _output_folder(output_dir: str, result: ScenesResult):
    """The output folder, made if need be; one made here is removed again when no raster was classified into it
    (every raster failed, or the run stopped), so a failed run leaves nothing."""
    folder = Path(output_dir)
    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield
    finally:
        if made and not result.classified:
            with contextlib.suppress(OSError):  # not empty: something else wrote there meanwhile
                folder.rmdir()


@contextlib.contextmanager
def _client(scheduler: str, workers: int, outputs):
    """A client of the cluster at ``scheduler``, else of a new local cluster that closes with it. A local cluster
    closed by an exception (Ctrl-C or cancel included) may stop its workers mid-raster: the partial files of the
    ``outputs`` they leave are then removed. A remote cluster's workers are not stopped: their tasks finish or
    clean up themselves."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    try:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
            yield client
    except BaseException:
        for output in outputs:
            for partial in partials(output):
                remove_output(partial)
        raise
