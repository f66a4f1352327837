"""Look at the data before training: per-band statistics and histograms (per class where labels exist),
class shares, how much is labelled, example chips, and the warnings a user needs — one self-contained
HTML page (images embedded), readable in QGIS' Results Viewer and any browser."""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np
from osgeo import gdal

from ..config import InspectConfig, InspectResult
from ..data.classes import CLASSES_FILE, NODATA_CLASS, ClassInfo, default_scheme
from ..data.labels import label_names, labels_on_grid
from ..data.pairs import find_pairs
from ..data.raster import open_raster
from ..errors import GeoSegError
from ..progress import Progress
from .figures import png_base64, pyplot
from .html_page import write_page
from .preview import class_colors, png_bytes, raster_rgb, side_by_side

SIDE = 1024  # a raster is inspected at most this many pixels a side (averaged), enough for statistics
RARE_CLASS = 0.01  # a class with less of the labelled pixels is worth a warning
MUCH_NODATA = 0.1
ZOOM = 3  # example chips are drawn this many screen pixels a pixel


def inspect_data(config: InspectConfig, progress: Progress | None = None) -> InspectResult:
    progress = progress or Progress()
    if bool(config.image_raster) == bool(config.chips_dir):
        raise GeoSegError("Give either an image raster (with its label raster, if any) or a chips folder.")
    progress.update(0.0, f"Reading {config.image_raster or config.chips_dir}…")
    if config.image_raster:
        image, labels, names, windows = _raster(config, progress)
        overlaps = 0
    else:
        image, labels, names, windows, overlaps = _chips(config, progress)
    classes = _scheme(names, labels)
    progress.update(0.6, "Computing statistics and drawing histograms…")
    valid = np.isfinite(image)
    bands = [_band_stats(image[..., b], valid[..., b], labels, classes) for b in range(image.shape[-1])]
    labelled = labels != NODATA_CLASS if labels is not None else None
    counts = np.bincount(labels[labelled], minlength=len(classes))[:len(classes)] if labels is not None else None
    shares = {c.name: float(n / counts.sum()) for c, n in zip(classes, counts)} if counts is not None and counts.sum() \
        else {}
    labelled_share = float(labelled.mean()) if labelled is not None else None
    warnings = _warnings(bands, shares, labelled_share, overlaps)
    write_page(config.output_html, "GeoSeg data inspection",
               _html(config, bands, shares, labelled_share, warnings, _histograms(image, valid, labels, classes),
                     _examples(windows, classes)))
    progress.update(1.0, f"Wrote {config.output_html}" + (f" ({len(warnings)} warnings)." if warnings else "."))
    return InspectResult(config.output_html, bands, shares, labelled_share, warnings)


def _raster(config: InspectConfig, progress: Progress):
    """The raster averaged to at most SIDE pixels a side, its labels (nearest), and example windows."""
    ds = open_raster(config.image_raster, "image raster")
    scale = max(ds.RasterXSize, ds.RasterYSize) / SIDE
    width, height = (max(1, round(ds.RasterXSize / scale)), max(1, round(ds.RasterYSize / scale))) if scale > 1 \
        else (ds.RasterXSize, ds.RasterYSize)
    image = _read(ds, width, height, gdal.GRIORA_Average)
    label_ds = labels_on_grid(ds, config.label_raster) if config.label_raster else None
    labels = label_ds.GetRasterBand(1).ReadAsArray(buf_xsize=width, buf_ysize=height,
                                                    resample_alg=gdal.GRIORA_NearestNeighbour) if label_ds else None
    windows = _example_windows(ds, label_ds, config.example_chips, config.chip_size)
    return image, labels, label_names(label_ds) if label_ds else None, windows


def _chips(config: InspectConfig, progress: Progress):
    pairs = find_pairs(config.chips_dir)
    images, labels, windows, origins = [], [], [], []
    for index, (image_path, label_path) in enumerate(pairs):
        progress.check()
        ds, label = open_raster(image_path, "image chip"), open_raster(label_path, "label chip")
        images.append(_read(ds, ds.RasterXSize, ds.RasterYSize))
        labels.append(label.ReadAsArray())
        origins.append((*ds.GetGeoTransform()[::3][:2], ds.RasterXSize * ds.GetGeoTransform()[1],
                        ds.RasterYSize * -ds.GetGeoTransform()[5]))
        if index < config.example_chips:
            windows.append((raster_rgb(ds), labels[-1]))
        progress.update(0.5 * (index + 1) / len(pairs))
    names = label_names(open_raster(pairs[0][1], "label chip"))
    classes_file = Path(config.chips_dir) / CLASSES_FILE
    if classes_file.exists():
        names = [c["name"] for c in json.loads(classes_file.read_text())]
    return (np.concatenate([i.reshape(-1, i.shape[-1]) for i in images])[np.newaxis],
            np.concatenate([label.ravel() for label in labels])[np.newaxis], names, windows, _overlaps(origins))


def _read(ds: gdal.Dataset, width: int, height: int, resampling=gdal.GRIORA_NearestNeighbour) -> np.ndarray:
    """All bands as float32 (height, width, bands), NaN where a band is nodata."""
    bands = []
    for number in range(1, ds.RasterCount + 1):
        band = ds.GetRasterBand(number)
        data = band.ReadAsArray(buf_xsize=width, buf_ysize=height, resample_alg=resampling).astype(np.float32)
        if band.GetNoDataValue() is not None:
            data[data == band.GetNoDataValue()] = np.nan
        bands.append(data)
    return np.stack(bands, axis=-1)


def _example_windows(ds: gdal.Dataset, labels: gdal.Dataset | None, count: int, size: int):
    """``count`` windows spread over the raster, the best-labelled first where there are labels."""
    size = min(size, ds.RasterXSize, ds.RasterYSize)
    places = [(x, y) for y in range(0, ds.RasterYSize - size + 1, size)
              for x in range(0, ds.RasterXSize - size + 1, size)]
    if labels is not None:
        band = labels.GetRasterBand(1)
        places.sort(key=lambda p: -(band.ReadAsArray(p[0], p[1], size, size) != NODATA_CLASS).mean())
    chosen = places[:count] if labels is not None else places[::max(1, len(places) // max(count, 1))][:count]
    return [(raster_rgb(ds, (x, y, size, size)),
             labels.GetRasterBand(1).ReadAsArray(x, y, size, size) if labels is not None else None)
            for x, y in chosen]


def _overlaps(boxes: list[tuple[float, float, float, float]]) -> int:
    """How many pairs of chips cover a common area (x, y of the top-left corner, width, height)."""
    if len(boxes) < 2:
        return 0
    x, y, w, h = (np.array(v) for v in zip(*boxes))
    overlap = (np.abs(x[:, None] - x[None]) < np.minimum(w[:, None], w[None])) & (
        np.abs(y[:, None] - y[None]) < np.minimum(h[:, None], h[None]))
    return int((overlap.sum() - len(boxes)) // 2)


def _scheme(names: list[str] | None, labels: np.ndarray | None) -> list[ClassInfo]:
    if labels is None:
        return []
    present = labels[labels != NODATA_CLASS]
    count = max(len(names or []), int(present.max()) + 1 if present.size else 0)
    scheme = default_scheme(count)
    return [ClassInfo(c.value, (names or [])[c.value] if c.value < len(names or []) else c.name, c.color)
            for c in scheme]


def _band_stats(values: np.ndarray, valid: np.ndarray, labels: np.ndarray | None, classes) -> dict:
    data = values[valid]
    stats = {"nodata_share": float(1 - valid.mean()),
             **({"min": float(data.min()), "max": float(data.max()), "mean": float(data.mean()),
                 "std": float(data.std())} if data.size else {"min": None, "max": None, "mean": None, "std": None})}
    if labels is not None:
        stats["class_means"] = {c.name: (float(values[valid & (labels == c.value)].mean())
                                         if (valid & (labels == c.value)).any() else None) for c in classes}
    return stats


def _warnings(bands: list[dict], shares: dict, labelled_share: float | None, overlaps: int) -> list[str]:
    warnings = [f"Band {i} is constant ({b['min']:g}): it tells the model nothing; leave it out."
                for i, b in enumerate(bands, start=1) if b["std"] == 0]
    warnings += [f"Band {i} is nodata on {b['nodata_share']:.0%} of the pixels: those pixels are left out."
                 for i, b in enumerate(bands, start=1) if b["nodata_share"] > MUCH_NODATA]
    warnings += [f"Class {name} has only {share:.1%} of the labelled pixels: the model will rarely predict it; "
                 "label more of it, or use balanced class weighting." for name, share in shares.items()
                 if share < RARE_CLASS]
    if labelled_share is not None and labelled_share < 0.05:
        warnings.append(f"Only {labelled_share:.1%} of the pixels are labelled.")
    if overlaps:
        warnings.append(f"{overlaps} pairs of chips overlap: split training and test by area, or held-out scores "
                        "will count places the model has seen.")
    return warnings


def _histograms(image: np.ndarray, valid: np.ndarray, labels, classes) -> str:
    """Small multiples: one histogram per band, one line per class (or one for all pixels)."""
    plt = pyplot()
    count = image.shape[-1]
    columns = min(4, count)
    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.4 * rows), squeeze=False)
    groups = [(c.name, labels == c.value, np.array(c.color) / 255) for c in classes] if classes else [
        ("all pixels", np.ones(image.shape[:-1], bool), np.array((0.2, 0.4, 0.7)))]
    for band, axis in enumerate(axes.flat):
        if band >= count:
            axis.axis("off")
            continue
        data = image[..., band][valid[..., band]]
        if data.size:
            edges = np.linspace(*np.percentile(data, [0.5, 99.5]) + np.array([0, 1e-6]), 41)
            for name, where, color in groups:
                values = image[..., band][valid[..., band] & where]
                if values.size:
                    axis.hist(values, bins=edges, histtype="step", color=color, label=name, density=True)
        axis.set_title(f"Band {band + 1}", fontsize=9)
        axis.tick_params(labelsize=7)
        axis.set_yticks([])
    axes.flat[0].legend(fontsize=7)
    figure.tight_layout()
    return png_base64(figure)


def _examples(windows, classes) -> str | None:
    if not windows:
        return None
    rows = [[rgb] + ([class_colors(labels, classes)] if labels is not None else []) for rgb, labels in windows]
    rows = [[panel.repeat(ZOOM, 0).repeat(ZOOM, 1) for panel in row] for row in rows]
    pairs = [rows[i] + rows[i + 1] if i + 1 < len(rows) else rows[i] for i in range(0, len(rows), 2)]
    return base64.b64encode(png_bytes(side_by_side(pairs, gap=8))).decode()


def _html(config, bands, shares, labelled_share, warnings, histograms: str, examples: str | None) -> str:
    source = html.escape(config.image_raster or config.chips_dir)

    def number(value, digits=1):
        return "–" if value is None else f"{value:,.{digits}f}"

    rows = "".join(f"<tr><td>{i}</td><td>{number(b['min'])}</td><td>{number(b['max'])}</td><td>{number(b['mean'])}"
                   f"</td><td>{number(b['std'])}</td><td>{b['nodata_share']:.1%}</td></tr>"
                   for i, b in enumerate(bands, start=1))
    class_rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{share:.1%}</td></tr>" for name, share in shares.items())
    notes = "".join(f"<li>{html.escape(w)}</li>" for w in warnings) or "<li>None.</li>"
    labelled = "" if labelled_share is None else f"<p>Labelled: <b>{labelled_share:.1%}</b> of the pixels.</p>"
    return (
        f"<p>{source}</p><h2>Warnings</h2><ul>{notes}</ul>"
        f"{labelled}" + (f"<h2>Classes</h2><table><tr><th>Class</th><th>Share of labelled pixels</th></tr>"
                         f"{class_rows}</table>" if shares else "") +
        "<h2>Bands</h2><table><tr><th>Band</th><th>Min</th><th>Max</th><th>Mean</th><th>Std</th><th>Nodata</th></tr>"
        f"{rows}</table><h2>Histograms</h2><img alt='histograms' src='data:image/png;base64,{histograms}'>"
        + (f"<h2>Examples (RGB = bands 4,3,2 | labels)</h2><img alt='examples' src='data:image/png;base64,{examples}'>"
           if examples else ""))
