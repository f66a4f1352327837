"""How accurate a class map is, and how large each class really is: the error matrix in sample pixels and in
estimated area proportions; overall, user's and producer's accuracy, F1 and area-adjusted class areas, each with
its 95 % confidence interval.

The estimators are those of Olofsson et al. (2014, Remote Sensing of Environment 148: 42–57) for a
stratified sample whose strata are the map classes: each map class' share of the mapped area weights its
row of the error matrix. The reference pixels are the sample; the map's pixel counts are the strata sizes.
Standard errors are theirs; F1's, which the paper does not give, comes by the same delta method (Taylor
linearisation) that gives producer's accuracy's.
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
    weights = mapped / mapped.sum()  # W_i
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(sampled[:, None] > 0, n / sampled[:, None], 0.0)  # n_ij / n_i.
        proportions = weights[:, None] * shares  # p_ij
        reference_share = proportions.sum(axis=0)  # p_.j
        correct = np.diag(proportions)
        users = np.diag(n) / sampled
        producers = correct / reference_share
        unsampled = (sampled == 0) & (weights > 0)  # a mapped class with no reference pixel: F1 unknown
        f1 = np.where(unsampled, np.nan, 2 * correct / (weights + reference_share))
        # Gradients of each class' statistic (columns) by the share n_ij / n_i. of its class in each stratum (rows)
        eye = np.eye(len(weights))
        producers_gradient = weights[:, None] * (eye - producers) / reference_share
        f1_gradient = weights[:, None] * (2 * eye - f1) / (weights + reference_share)
        users_variance = np.where(sampled > 1, _variance(eye, shares, sampled), np.nan)
    overall_variance = _variance(weights[:, None], np.diag(shares)[:, None], sampled)[0]
    area_se = np.sqrt(_variance(np.broadcast_to(weights[:, None], n.shape), shares, sampled))
    total_area = mapped.sum() * pixel_area
    return {
        "overall_accuracy": _number(np.trace(proportions)),
        "overall_accuracy_ci": _number(Z95 * np.sqrt(overall_variance)),
        "users_accuracy": _numbers(users), "users_accuracy_ci": _numbers(Z95 * np.sqrt(users_variance)),
        "producers_accuracy": _numbers(producers),
        "producers_accuracy_ci": _numbers(Z95 * np.sqrt(_variance(producers_gradient, shares, sampled))),
        "f1": _numbers(f1), "f1_ci": _numbers(Z95 * np.sqrt(_variance(f1_gradient, shares, sampled))),
        "mapped_area": _numbers(mapped * pixel_area),
        "estimated_area": _numbers(reference_share * total_area),
        "estimated_area_ci": _numbers(Z95 * area_se * total_area),
        "error_matrix": n.astype(np.int64).tolist(),
        "area_proportions": _numbers(proportions),
        "sample_pixels": int(n.sum()),
    }


def _variance(gradient: np.ndarray, shares: np.ndarray, sampled: np.ndarray) -> np.ndarray:
    """Delta-method variance of statistics (columns) that depend on one share of each stratum (rows, sampled
    independently): ``gradient`` and ``shares`` are those per stratum and statistic. A share's variance is
    r (1 - r) / (n_i. - 1), as in Olofsson et al. (2014); strata of fewer than two sample pixels add nothing."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = gradient**2 * shares * (1 - shares) / (sampled[:, None] - 1)
    return np.where(sampled[:, None] > 1, terms, 0.0).sum(axis=0)


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
    """One row per map class (as in the CSV): its value, name, areas, accuracies and F1 with their 95 %
    half-widths, then its row of the error matrix in reference pixels and in estimated area proportions."""
    columns = ("mapped_area", "estimated_area", "estimated_area_ci", "users_accuracy", "users_accuracy_ci",
               "producers_accuracy", "producers_accuracy_ci", "f1", "f1_ci")
    values = range(len(report["classes"]))
    return [{"value": i, "class": name, **{c: report[c][i] for c in columns},
             **{f"reference_{j}_pixels": report["error_matrix"][i][j] for j in values},
             **{f"reference_{j}_proportion": report["area_proportions"][i][j] for j in values}}
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
    """The page's body: overall accuracy, how the figures are estimated, the table of areas, accuracies and F1,
    and the error matrix in reference pixels and in area proportions."""
    unit, names = report["area_unit"], report["classes"]

    def cell(value, digits=3):
        return "–" if value is None else f"{value:,.{digits}f}"

    rows = "".join(
        f"<tr><td>{html.escape(r['class'])}</td><td>{cell(r['mapped_area'], 1)}</td>"
        f"<td>{cell(r['estimated_area'], 1)} ± {cell(r['estimated_area_ci'], 1)}</td>"
        f"<td>{cell(r['users_accuracy'])} ± {cell(r['users_accuracy_ci'])}</td>"
        f"<td>{cell(r['producers_accuracy'])} ± {cell(r['producers_accuracy_ci'])}</td>"
        f"<td>{cell(r['f1'])} ± {cell(r['f1_ci'])}</td></tr>"
        for r in class_rows(report))
    return (
        f"<p>{html.escape(class_raster)}: overall accuracy "
        f"<b>{cell(report['overall_accuracy'])} ± {cell(report['overall_accuracy_ci'])}</b> "
        f"from {report['sample_pixels']:,} reference pixels on mapped pixels; areas in {unit}.</p>"
        "<p>Each ± is a 95 % confidence half-width (1.96 standard errors). The estimators are those "
        "of Olofsson et al. (2014, <i>Good practices for estimating area and assessing accuracy of land "
        "change</i>) for a stratified random sample with the map classes as strata: class i's share W<sub>i</sub> "
        "of the mapped area weights its row of the error matrix, p<sub>ij</sub> = W<sub>i</sub> n<sub>ij</sub> / "
        "n<sub>i·</sub>, which gives the areas adjusted for the map's errors and the accuracies. F1 = "
        "2 p<sub>jj</sub> / (W<sub>j</sub> + p<sub>·j</sub>), the harmonic mean of user's and producer's accuracy; "
        "its interval comes from the same standard errors by the delta method, as producer's accuracy's does. The "
        "intervals hold for reference pixels sampled at random within each map class.</p>"
        "<table><tr><th>Class</th><th>Mapped area</th><th>Estimated area</th><th>User's accuracy</th>"
        f"<th>Producer's accuracy</th><th>F1</th></tr>{rows}</table>"
        "<h2>Error matrix in reference pixels</h2><p>n<sub>ij</sub>: rows map classes, columns reference "
        "classes.</p>" + _matrix(names, report["error_matrix"], "{:,.0f}") +
        "<h2>Error matrix in area proportions</h2><p>p<sub>ij</sub>, the estimated share of the mapped area that "
        "is mapped i and is j: rows map classes (totals W<sub>i</sub>, the mapped shares), columns reference "
        "classes (totals p<sub>·j</sub>, the estimated shares).</p>" +
        _matrix(names, report["area_proportions"], "{:.4f}"))


def _matrix(names: list[str], matrix: list[list], number: str) -> str:
    """An error matrix as an HTML table, rows map and columns reference classes, with their totals; each
    figure written by the format ``number``."""
    values = np.asarray(matrix, dtype=np.float64)

    def cells(row):
        return "".join(f"<td>{number.format(v)}</td>" for v in row)

    header = "".join(f"<th>{html.escape(name)}</th>" for name in names)
    body = "".join(f"<tr><th>{html.escape(name)}</th>{cells([*row, row.sum()])}</tr>"
                   for name, row in zip(names, values))
    return (f"<table><tr><th>Map \\ reference</th>{header}<th>Total</th></tr>{body}"
            f"<tr><th>Total</th>{cells([*values.sum(axis=0), values.sum()])}</tr></table>")


def _number(value) -> float | None:
    return None if not np.isfinite(value) else float(value)


def _numbers(values: np.ndarray):
    return [_numbers(v) for v in values] if np.ndim(values) > 1 else [_number(v) for v in values]
