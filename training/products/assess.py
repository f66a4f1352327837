"""How accurate a class map is, and how large each class really is: the error matrix, user's and producer's
accuracy, F1 and area-adjusted class areas with 95 % confidence intervals.

The estimators are those of Olofsson et al. (2014, Remote Sensing of Environment 148: 42–57) for a
stratified sample whose strata are the map classes: each map class' share of the mapped area weights its
row of the error matrix. The reference pixels are the sample; the map's pixel counts are the strata sizes.
"""
from __future__ import annotations

import csv
import html
import tempfile
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

from ..config import AccuracyConfig, AccuracyResult
from ..data.classes import NODATA_CLASS
from ..data.labels import rasterize_labels, read_labels
from ..data.raster import band_classes, open_raster, pixel_area
from ..errors import GeoSegError
from ..outputs import atomic_path
from ..progress import Progress
from ..reports.html_page import write_page

Z95 = 1.96


def area_adjusted(counts: np.ndarray, mapped_pixels: np.ndarray, pixel_area: float = 1.0) -> dict:
    """Estimates from ``counts`` (sample pixels, rows map classes, columns reference classes) and the map's
    pixel count per class. Areas are in the unit of ``pixel_area``; ``…_ci`` are 95 % half-widths."""
    n = np.asarray(counts, dtype=np.float64)
    mapped = np.asarray(mapped_pixels, dtype=np.float64)
    sampled = n.sum(axis=1)
    weights = mapped / mapped.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        row_share = n / sampled[:, None]  # n_ij / n_i.
        proportions = np.where(sampled[:, None] > 0, weights[:, None] * row_share, 0.0)
        reference_share = proportions.sum(axis=0)
        users = np.diag(row_share)
        producers = np.diag(proportions) / reference_share
        f1 = 2 * users * producers / (users + producers)
        area_variance = (weights[:, None] ** 2 * row_share * (1 - row_share) / (sampled[:, None] - 1))
        area_se = np.sqrt(np.nansum(np.where(sampled[:, None] > 1, area_variance, np.nan), axis=0))
        users_variance = users * (1 - users) / (sampled - 1)
        overall_variance = np.nansum(weights**2 * users_variance)
        strata = mapped[:, None] * row_share  # estimated pixels of each (map, reference) cell
        estimated_pixels = np.nansum(strata, axis=0)
        producers_variance = (mapped**2 * (1 - producers) ** 2 * users_variance + producers**2 * np.array([
            np.nansum(np.delete(mapped**2 * row_share[:, j] * (1 - row_share[:, j]) / (sampled - 1), j))
            for j in range(len(mapped))])) / estimated_pixels**2
    total_area = mapped.sum() * pixel_area
    return {
        "overall_accuracy": _number(np.trace(proportions)),
        "overall_accuracy_ci": _number(Z95 * np.sqrt(overall_variance)),
        "users_accuracy": _numbers(users), "users_accuracy_ci": _numbers(Z95 * np.sqrt(users_variance)),
        "producers_accuracy": _numbers(producers),
        "producers_accuracy_ci": _numbers(Z95 * np.sqrt(producers_variance)),
        "f1": _numbers(f1),
        "mapped_area": _numbers(mapped * pixel_area),
        "estimated_area": _numbers(reference_share * total_area),
        "estimated_area_ci": _numbers(Z95 * area_se * total_area),
        "error_matrix": n.astype(np.int64).tolist(),
        "area_proportions": _numbers(proportions),
        "sample_pixels": int(n.sum()),
    }


def assess_accuracy(config: AccuracyConfig, progress: Progress | None = None) -> AccuracyResult:
    """The accuracy report of ``config.class_raster`` against its reference, written as CSV and HTML."""
    progress = progress or Progress()
    if bool(config.reference_raster) == bool(config.reference_vector):
        raise GeoSegError("Give either a reference raster or reference polygons or points with a class field.")
    classes = open_raster(config.class_raster, "class raster")
    if classes.RasterCount != 1:
        raise GeoSegError(f"The class raster {config.class_raster} has {classes.RasterCount} bands: give a "
                          "single-band class raster (e.g. Classify raster's output).")
    progress.update(0.1, f"Reading the class raster {config.class_raster} and its reference…")
    mapped = classes.GetRasterBand(1).ReadAsArray()
    nodata = classes.GetRasterBand(1).GetNoDataValue()
    with tempfile.TemporaryDirectory(prefix="geoseg-reference-") as scratch:
        path = config.reference_raster or rasterize_labels(
            config.reference_vector, config.class_field, config.class_raster, str(Path(scratch) / "ref.tif"))
        reference = read_labels(classes, path, "reference raster" if config.reference_raster else
                                "reference polygons or points", config.reference_raster or config.reference_vector)[0]
    on_map = mapped != (NODATA_CLASS if nodata is None else nodata)
    count = max(int(mapped[on_map].max(initial=0)), int(reference[reference < NODATA_CLASS].max(initial=0))) + 1
    names = [c.name for c in band_classes(classes.GetRasterBand(1), count)]
    k = len(names)
    sample = on_map & (reference < k)
    if not sample.any():
        raise GeoSegError(f"No reference pixel of {config.reference_raster or config.reference_vector} lies on a "
                          f"mapped pixel of {config.class_raster}: check that both cover the same area.")
    counts = np.bincount(mapped[sample].astype(np.int64) * k + reference[sample], minlength=k * k).reshape(k, k)
    mapped_pixels = np.bincount(mapped[on_map].ravel(), minlength=k)[:k]
    area, unit = _pixel_area(classes)
    report = {"classes": names, "area_unit": unit, **area_adjusted(counts, mapped_pixels, area)}
    progress.update(0.8, f"Overall accuracy {report['overall_accuracy']:.3f} ± {report['overall_accuracy_ci']:.3f} "
                         f"from {report['sample_pixels']} reference pixels.")
    if config.output_csv:
        with atomic_path(config.output_csv) as tmp:
            _write_csv(tmp, report)
    if config.output_html:
        write_page(config.output_html, "GeoSeg accuracy assessment", _html(report, config.class_raster))
    progress.update(1.0, "")
    return AccuracyResult(report, config.output_csv, config.output_html)


def class_rows(report: dict) -> list[dict]:
    """One row per class: its value, name, areas and accuracies (as in the CSV)."""
    columns = ("mapped_area", "estimated_area", "estimated_area_ci", "users_accuracy", "users_accuracy_ci",
               "producers_accuracy", "producers_accuracy_ci", "f1")
    return [{"value": i, "class": name, **{c: report[c][i] for c in columns}}
            for i, name in enumerate(report["classes"])]


def _pixel_area(raster: gdal.Dataset) -> tuple[float, str]:
    """A pixel's area in hectares where the CRS is projected in metres, else in square map units."""
    area = pixel_area(raster)
    srs = osr.SpatialReference(wkt=raster.GetProjection()) if raster.GetProjection() else None
    if srs is not None and srs.IsProjected() and abs(srs.GetLinearUnits() - 1.0) < 1e-9:
        return area / 10_000, "ha"
    return area, "map units²"


def _write_csv(path: str, report: dict) -> None:
    rows = class_rows(report)
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _html(report: dict, class_raster: str) -> str:
    """The page's body: overall accuracy, the table of areas and accuracies, the error matrix."""
    unit, names = report["area_unit"], report["classes"]

    def cell(value, digits=3):
        return "–" if value is None else f"{value:,.{digits}f}"

    rows = "".join(
        f"<tr><td>{html.escape(r['class'])}</td><td>{cell(r['mapped_area'], 1)}</td>"
        f"<td>{cell(r['estimated_area'], 1)} ± {cell(r['estimated_area_ci'], 1)}</td>"
        f"<td>{cell(r['users_accuracy'])} ± {cell(r['users_accuracy_ci'])}</td>"
        f"<td>{cell(r['producers_accuracy'])} ± {cell(r['producers_accuracy_ci'])}</td><td>{cell(r['f1'])}</td></tr>"
        for r in class_rows(report))
    header = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    matrix = "".join(f"<tr><th>{html.escape(n)}</th>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>"
                     for n, row in zip(names, report["error_matrix"]))
    return (
        f"<p>{html.escape(class_raster)}: overall accuracy "
        f"<b>{cell(report['overall_accuracy'])} ± {cell(report['overall_accuracy_ci'])}</b> (95 % confidence) "
        f"from {report['sample_pixels']:,} reference pixels; areas in {unit}, adjusted for the map's errors "
        "(Olofsson et al. 2014).</p><table><tr><th>Class</th><th>Mapped area</th><th>Estimated area</th>"
        f"<th>User's accuracy</th><th>Producer's accuracy</th><th>F1</th></tr>{rows}</table>"
        "<h2>Error matrix (reference pixels; rows map, columns reference)</h2>"
        f"<table><tr><th></th>{header}</tr>{matrix}</table>")


def _number(value) -> float | None:
    return None if not np.isfinite(value) else float(value)


def _numbers(values: np.ndarray):
    return [_numbers(v) for v in values] if np.ndim(values) > 1 else [_number(v) for v in values]
