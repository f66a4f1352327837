"""Training settings written as plain text: ``setting=value`` pairs separated by spaces, one configuration a
line (or separated by ``;``), each value typed by its TrainConfig declaration — the rows of a comparison, as
the command line and a QGIS text box take them."""
from __future__ import annotations

import json
import re
from dataclasses import fields

from .config import TrainConfig
from .errors import GeoSegError

TYPES = {declared.name: declared.type for declared in fields(TrainConfig)}
BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
PAIR = re.compile(r"([^\s=]+)=(\{[^}]*\}|\S+)")  # a JSON object may hold spaces


def split_rows(text: str) -> list[str]:
    """The non-empty lines (or ``;``-separated parts) of ``text``, their spaces tidied."""
    return [" ".join(row.split()) for row in text.replace(";", "\n").splitlines() if row.strip()]


def parse_rows(text: str) -> list[dict]:
    """One dict of settings per row of ``text`` (:func:`split_rows`)."""
    return [parse_settings(row) for row in split_rows(text)]


def parse_settings(text: str) -> dict:
    """``"architecture=unet bands=4,3,2 pretrained=false"`` → ``{"architecture": "unet", …}``."""
    leftover = PAIR.sub("", text).strip()
    if leftover:
        raise GeoSegError(f"{leftover!r} in {text.strip()!r} is not a setting=value pair (e.g. architecture=unet "
                          "bands=rgb pretrained=false).")
    settings = {}
    for key, value in PAIR.findall(text):
        key = key.replace("-", "_")
        if key not in TYPES:
            raise GeoSegError(f"{key!r} is not a training setting: use one of {', '.join(TYPES)}.")
        settings[key] = _typed(key, value)
    return settings


def _typed(key: str, value: str):
    kind = TYPES[key]
    try:
        if kind == "bool":
            return BOOLEANS[value.lower()]
        if kind == "dict":
            return json.loads(value)
        if kind.startswith("list["):
            return [item.strip() for item in value.split(",")]
        return {"int": int, "float": float}.get(kind, str)(value)
    except (KeyError, ValueError):
        raise GeoSegError(f"The {key.replace('_', ' ')} {value!r} is not understood: give a "
                          f"{'true or false' if kind == 'bool' else kind} value.") from None
