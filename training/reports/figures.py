"""Charts for the HTML reports, drawn with matplotlib (Agg, no display) and embedded as base64 PNG."""
from __future__ import annotations

import base64
import io
import textwrap
from collections.abc import Sequence

import numpy as np

CURVES = (("Loss", "loss"), ("Mean IoU", "mean_iou"))  # panel title, training history column (val_ + it too)


def pyplot():
    """matplotlib's pyplot on the Agg backend (no window, works in QGIS and on servers)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png_base64(figure, dpi: int = 90) -> str:
    """The figure as a base64 PNG (for ``<img src="data:image/png;base64,…">``); the figure is closed."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    pyplot().close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def learning_curves(histories: dict[str, dict[str, list[float]]]) -> str | None:
    """Training (solid) and validation (dashed) loss and mean IoU by epoch, one colour per model."""
    histories = {name: history for name, history in histories.items() if history.get("epoch")}
    if not histories:
        return None
    plt = pyplot()
    figure, axes = plt.subplots(1, len(CURVES), figsize=(5.2 * len(CURVES), 3.4), squeeze=False)
    for index, (name, history) in enumerate(histories.items()):
        color = plt.get_cmap("tab10")(index % 10)
        epochs = np.asarray(history["epoch"]) + 1
        for axis, (title, column) in zip(axes[0], CURVES):
            for prefix, style in (("", "-"), ("val_", "--")):
                if prefix + column in history:
                    axis.plot(epochs, history[prefix + column], style, color=color,
                              label=_wrapped(f"{name} ({'validation' if prefix else 'training'})"))
            axis.set_title(title, fontsize=10)
            axis.set_xlabel("epoch", fontsize=8)
            axis.xaxis.get_major_locator().set_params(integer=True)
            axis.tick_params(labelsize=7)
    axes[0][-1].legend(fontsize=7, loc="best")
    figure.tight_layout()
    return png_base64(figure)


def confusion_matrices(matrices: dict[str, Sequence[Sequence[int]]], class_names: Sequence[str]) -> str | None:
    """One row-normalised confusion matrix per model (rows: reference, columns: predicted), shares written in."""
    if not matrices:
        return None
    plt = pyplot()
    size = 1.0 + 0.5 * len(class_names)
    figure, axes = plt.subplots(1, len(matrices), figsize=(size * len(matrices) + 0.6, size + 0.6), squeeze=False)
    for axis, (name, matrix) in zip(axes[0], matrices.items()):
        counts = np.asarray(matrix, np.float64)
        shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        for (row, column), share in np.ndenumerate(shares):
            axis.text(column, row, f"{share:.0%}", ha="center", va="center", fontsize=7,
                      color="white" if share > 0.6 else "black")
        ticks = range(len(class_names))
        axis.set_xticks(ticks, class_names, rotation=45, ha="right", fontsize=7)
        axis.set_yticks(ticks, class_names, fontsize=7)
        axis.set_xlabel("predicted", fontsize=8)
        axis.set_ylabel("reference", fontsize=8)
        axis.set_title(_wrapped(name, 24), fontsize=8)
    figure.tight_layout()
    return png_base64(figure)


def _wrapped(text: str, width: int = 40) -> str:
    return textwrap.fill(text, width)
