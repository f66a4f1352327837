"""Band selection: 1-based band indices as GDAL counts them."""
from __future__ import annotations

from collections.abc import Sequence

from ..errors import GeoSegError

RGB_BANDS = (4, 3, 2)


def parse_bands(spec: str | Sequence[int], band_count: int) -> tuple[int, ...]:
    """Turn ``"all"``, ``"rgb"``, ``"4,3,2"`` or a list of ints into checked 1-based band indices."""
    if isinstance(spec, str):
        text = spec.strip().lower()
        if text == "all":
            return tuple(range(1, band_count + 1))
        if text == "rgb":
            bands = RGB_BANDS
        else:
            try:
                bands = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
            except ValueError:
                raise GeoSegError(
                    f"Bands {spec!r} are not understood: use 'all', 'rgb' or 1-based indices such as '4,3,2'."
                ) from None
    else:
        bands = tuple(int(b) for b in spec)
    if not bands:
        raise GeoSegError("No bands selected: use 'all', 'rgb' or 1-based indices such as '4,3,2'.")
    bad = [b for b in bands if not 1 <= b <= band_count]
    if bad:
        raise GeoSegError(
            f"Band(s) {bad} do not exist: the raster has {band_count} band(s), numbered 1 to {band_count}."
        )
    if len(set(bands)) != len(bands):
        raise GeoSegError(f"Bands {list(bands)} repeat an index: list each band once.")
    return bands
