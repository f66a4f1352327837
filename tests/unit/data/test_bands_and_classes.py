"""Band lists and class schemes."""
import pytest

from training.data.bands import parse_bands
from training.data.classes import class_scheme


@pytest.mark.parametrize("spec, expected", [
    ("all", tuple(range(1, 13))), ("RGB", (4, 3, 2)), ("2, 3,4,8", (2, 3, 4, 8)), ([8, 4], (8, 4))])
def test_parse_bands(spec, expected):
    assert parse_bands(spec, 12) == expected


@pytest.mark.parametrize("spec, message", [
    ("13", "numbered 1 to 12"), ("0,1", "numbered 1 to 12"), ("4,4", "repeat"), ("red", "not understood"),
    ("", "No bands")])
def test_parse_bands_rejects_bad_lists(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_bands(spec, 12)


def test_class_scheme_needs_one_color_per_class():
    assert [c.color for c in class_scheme(["a", "b"], [(1, 2, 3), (4, 5, 6)])] == [(1, 2, 3), (4, 5, 6)]
    with pytest.raises(ValueError, match="one color per class"):
        class_scheme(["a", "b"], [(1, 2, 3)])
