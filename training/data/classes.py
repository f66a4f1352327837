"""Class schemes: the value, name and display color of each output class."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import GeoSegError

# Distinct, colour-blind-friendly defaults (Okabe-Ito), used when a scheme names no colors.
PALETTE = (
    (0, 114, 178), (0, 158, 115), (230, 159, 0), (204, 121, 167),
    (213, 94, 0), (86, 180, 233), (240, 228, 66), (0, 0, 0),
)
NODATA_CLASS = 255
# Objects (training.learn.objects, training.products.vectorize): a class' pixels touching by an edge or a corner
# (8; 4: by an edge) make one object; a predicted object matches a reference object from this IoU on (or where
# its centroid lies in it).
OBJECT_CONNECTIVITY = 8
MATCH_IOU = 0.3
CLASSES_FILE = "classes.json"  # a chips folder's class names and colours


@dataclass(frozen=True)
class ClassInfo:
    value: int
    name: str
    color: tuple[int, int, int]


def class_scheme(names: Sequence[str], colors: Sequence[Sequence[int]] | None = None) -> list[ClassInfo]:
    """Classes 0..N-1 with the given names; colors default to :data:`PALETTE`."""
    if not names:
        raise GeoSegError("A class scheme needs at least one class name.")
    if colors is not None and len(colors) != len(names):
        raise GeoSegError(f"{len(names)} class names but {len(colors)} colors: give one color per class.")
    return [
        ClassInfo(i, str(name).strip(), tuple(int(c) for c in (colors[i] if colors else PALETTE[i % len(PALETTE)])))
        for i, name in enumerate(names)
    ]


def default_scheme(num_classes: int) -> list[ClassInfo]:
    return class_scheme([f"Class {i}" for i in range(num_classes)])


def scheme_to_dicts(scheme: Sequence[ClassInfo]) -> list[dict]:
    return [{"value": c.value, "name": c.name, "color": list(c.color)} for c in scheme]


def scheme_from_dicts(items: Sequence[dict]) -> list[ClassInfo]:
    return [ClassInfo(int(d["value"]), str(d["name"]), tuple(int(v) for v in d["color"])) for d in items]
