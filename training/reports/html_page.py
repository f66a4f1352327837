"""GeoSeg's HTML pages (reports of training, comparison, evaluation, inspection and accuracy): one
self-contained document each, images embedded, in one style; QGIS' Results Viewer and any browser open them."""
from __future__ import annotations

import html
import os
from pathlib import Path

from ..outputs import atomic_path

STYLE = ("body{font-family:sans-serif;margin:2em;max-width:1200px} table{border-collapse:collapse;margin:1em 0}"
         "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right;vertical-align:top} th{background:#eee}"
         "img{max-width:100%} .swatch{display:inline-block;width:1em;height:1em;margin:0 .3em 0 1em;"
         "vertical-align:middle}"
         ".text{text-align:left;min-width:10em;max-width:30em;overflow-wrap:anywhere}")


def write_page(path: str | os.PathLike, title: str, body: str) -> str:
    """Write the page ``title`` (also its heading) over ``body`` (HTML) to ``path``, atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                             f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>",
                             encoding="utf-8")
    return str(path)
