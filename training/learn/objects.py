"""Object metrics: how many reference objects of a class a map finds, and how many of its objects are real —
for classes mapped as objects (vessels, buildings), where pixel IoU says little.

**Objects.** An object is a connected component of one class' pixels (``OBJECT_CONNECTIVITY``: 8, through
edges and corners), in the reference and in the prediction. A predicted object counts by its labelled pixels:
one lying wholly in unlabelled pixels (255) is not counted at all, and its pixels on unlabelled ground neither
add to its overlap with a reference object nor take from it.

**Matching**, one class at a time. A predicted object P and a reference object R may match when
IoU(P, R) ≥ ``MATCH_IOU`` (0.3) or P's centroid (the mean of all its pixels, rounded to a pixel) lies in R. Such pairs
are matched one to one, greedily by descending IoU (ties: the objects' order, row-major by their first pixel):

* a reference object **split** into several predicted objects matches one of them (the best overlap); the
  other pieces are false positives, unless they match another reference object;
* a predicted object **merging** several reference objects matches one of them; the others are missed.

True positives (TP) are the matches, false positives (FP) the unmatched predicted objects, false negatives
(FN) the unmatched reference objects: precision TP / (TP + FP), recall TP / (TP + FN), F1 2TP / (2TP + FP + FN)
and the count error, predicted − reference objects (TP + FP − TP − FN). A ratio with nothing to count is None.

**Images.** Objects are found in each image scored whole (a chip, a held-out tile, a test raster), never in
crops of it; counts add up over images. An object cut by an image's edge counts as its part inside, in the
reference and the prediction alike (a vessel across two tiles is one object in each); a tile's pixels that an
earlier tile already scored are unlabelled in it (training.data.windows.tiles), so they count once.

**Classes.** Every class but the one with the most reference pixels, which is the background the objects lie
in (the sea around vessels, the ground around buildings). On land cover, where every class is a surface,
these figures say how fragmented the map is rather than how many things it finds.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..data.classes import MATCH_IOU, NODATA_CLASS, OBJECT_CONNECTIVITY

STRUCTURE = ndimage.generate_binary_structure(2, 2 if OBJECT_CONNECTIVITY == 8 else 1)


def match_objects(truth: np.ndarray, predicted: np.ndarray, value: int) -> tuple[int, int, int]:
    """Objects of class ``value`` in one image (2-D ``truth`` with 255 unlabelled, ``predicted``): matched,
    predicted (counted) and reference objects."""
    reference, references = ndimage.label(truth == value, STRUCTURE)
    found, _ = ndimage.label(predicted == value, STRUCTURE)
    scored = (truth != NODATA_CLASS) & (found > 0)  # predicted pixels on labelled ground
    counted = np.unique(found[scored])  # predicted objects with a labelled pixel
    if not counted.size or not references:
        return 0, int(counted.size), int(references)
    found_area = np.bincount(found[scored], minlength=found.max() + 1)
    reference_area = np.bincount(reference.ravel(), minlength=references + 1)
    both = (found > 0) & (reference > 0)
    pairs, overlap = np.unique(np.stack([found[both], reference[both]]), axis=1, return_counts=True)
    iou = dict(zip(map(tuple, pairs.T.tolist()),
                   overlap / (found_area[pairs[0]] + reference_area[pairs[1]] - overlap)))
    rows, columns = np.nonzero(found)
    ids = found[rows, columns]
    pixels = np.bincount(ids)
    centre_rows = np.rint(np.bincount(ids, rows)[counted] / pixels[counted]).astype(int)
    centre_columns = np.rint(np.bincount(ids, columns)[counted] / pixels[counted]).astype(int)
    candidates = {pair for pair, pair_iou in iou.items() if pair_iou >= MATCH_IOU}
    candidates |= {(int(p), int(r)) for p, r in zip(counted, reference[centre_rows, centre_columns]) if r}
    matched_found, matched_reference = set(), set()
    for p, r in sorted(candidates, key=lambda pair: (-iou.get(pair, 0.0), pair)):
        if p not in matched_found and r not in matched_reference:
            matched_found.add(p)
            matched_reference.add(r)
    return len(matched_found), int(counted.size), int(references)


class ObjectCounts:
    """Matched, predicted and reference objects per class, added up over images scored whole."""

    def __init__(self, num_classes: int):
        self.counts = np.zeros((num_classes, 3), np.int64)

    def add(self, truth: np.ndarray, predicted: np.ndarray) -> None:
        """Count the objects of every class in an image (H, W) or a batch of images (N, H, W)."""
        truth, predicted = np.asarray(truth), np.asarray(predicted)
        for one_truth, one_predicted in zip(truth.reshape(-1, *truth.shape[-2:]),
                                            predicted.reshape(-1, *predicted.shape[-2:])):
            for value in range(len(self.counts)):
                self.counts[value] += match_objects(one_truth, one_predicted, value)

    def scores(self, class_names: list[str], reference_pixels: np.ndarray) -> dict:
        """``objects``: class name → precision, recall, f1, predicted, reference, count_error, for every class but
        the one with the most ``reference_pixels`` (per class); ``mean_object_f1``: the mean F1 over those of
        them with reference objects (None without)."""
        background = int(np.argmax(reference_pixels)) if np.sum(reference_pixels) else None
        objects = {}
        for value, (name, (matched, found, reference)) in enumerate(zip(class_names, self.counts.tolist())):
            if value != background and background is not None:
                objects[name] = {"precision": _ratio(matched, found), "recall": _ratio(matched, reference),
                                 "f1": _ratio(2 * matched, found + reference), "predicted": found,
                                 "reference": reference, "count_error": found - reference}
        present = [o["f1"] for o in objects.values() if o["reference"]]
        return {"objects": objects, "mean_object_f1": float(np.mean(present)) if present else None}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
