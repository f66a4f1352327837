"""Open an HTML report in headless Chromium (Debian's ``chromium``), as a person's browser would."""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

# Appended to a copy of the page: once everything has loaded, it writes what the page shows into the DOM.
PROBE = """<script>window.addEventListener("load", () => {
  const probe = document.createElement("pre");
  probe.id = "geoseg-probe";
  probe.textContent = JSON.stringify({
    images: [...document.images].map(image => image.naturalWidth),
    tables: document.querySelectorAll("table").length,
    text: document.body.innerText});
  document.body.appendChild(probe);
});</script>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise FileNotFoundError("Chromium is needed to look at the reports: apt-get install chromium (make setup).")
    return found


def look_at(page: Path, screenshot: Path) -> dict:
    """Render ``page``: a screenshot, and ``{"images": [natural widths], "tables": count, "text": the text shown
    (table cells separated by tabs)}`` after loading."""
    probed = page.with_name(page.stem + ".probe.html")
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    common = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000"]
    dom = subprocess.run([*common, "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=120)
    subprocess.run([*common, f"--screenshot={screenshot}", "--window-size=1200,1600", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    found = re.search(r'<pre id="geoseg-probe">(.*?)</pre>', dom.stdout, re.S)
    assert found, dom.stderr[-2000:]
    return json.loads(html.unescape(found.group(1)))
