"""The README and docs/: the README stays short, every figure it quotes next to a link to docs/benchmarks.md is
one that docs/benchmarks.md holds, and every relative link (and its #anchor) points to something that exists."""
import re
from configparser import ConfigParser
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
PAGES = [README, ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
MAX_README_LINES = 300

LINK = re.compile(r"\]\(([^)\s]+)\)|<img [^>]*src=\"([^\"]+)\"")
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])")
BLOCK_START = re.compile(r"\s*$|\s*(?:[-*]|\d+\.) |\|")


def blocks(text: str) -> list[str]:
    """Paragraphs, list items and table rows, each joined into one string."""
    found = []
    for line in text.splitlines():
        if BLOCK_START.match(line) or not found:
            found.append("")
        found[-1] += " " + line
    return found


def significant_digits(number: str) -> int:
    return len(number.replace(".", "").lstrip("0"))


def figures(text: str) -> set[str]:
    """Numbers of three or more significant digits in the blocks of ``text`` that link to docs/benchmarks.md."""
    return {number for block in blocks(text) if "benchmarks.md" in block
            for number in NUMBER.findall(LINK.sub(" ", block)) if significant_digits(number) >= 3}


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen, found = {}, set()
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        in_code ^= line.startswith("```")
        if not in_code and (match := re.match(r"#{1,6} (.+)", line)):
            base = slug(match.group(1))
            found.add(f"{base}-{seen[base]}" if base in seen else base)
            seen[base] = seen.get(base, 0) + 1
    return found


def links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return [target for pair in LINK.findall(text) for target in pair
            if target and not re.match(r"[a-z]+:", target)]


def test_readme_is_short():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move detail to docs/"


def test_readme_figures_are_in_benchmarks():
    benchmarks = set(NUMBER.findall(BENCHMARKS.read_text(encoding="utf-8")))
    quoted = figures(README.read_text(encoding="utf-8"))
    assert quoted, "the README quotes no figure next to a link to docs/benchmarks.md"
    assert quoted <= benchmarks, f"README figures missing from docs/benchmarks.md: {sorted(quoted - benchmarks)}"


def test_figures_finds_a_changed_figure():
    text = ("Speed: 27.3 s, 1.66× ([table](docs/benchmarks.md)).\n\nNot linked: 99.9 s.\n"
            "- 0.615 Mpx/s, 12 runs [x](docs/benchmarks.md)")
    assert figures(text) == {"27.3", "1.66", "0.615"}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_relative_links_resolve(page):
    assert page.is_file(), f"{page.relative_to(ROOT)} is missing"
    broken = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in anchors(file)):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)} links to what does not exist: {broken}"


def test_slug_matches_github():
    assert slug("Train segmentation model — `geoseg:train`") == "train-segmentation-model--geosegtrain"
    assert slug("Run-to-run spread — bench/stability.py") == "run-to-run-spread--benchstabilitypy"


def test_metadata_has_what_the_plugin_repository_requires():
    """plugins.qgis.org refuses an upload without these fields, or whose tracker, repository or homepage is not
    a URL; QGIS' Plugin Manager shows the changelog and tags."""
    metadata = ConfigParser()
    metadata.read(ROOT / "metadata.txt", encoding="utf-8")
    general = metadata["general"]
    required = ["name", "description", "version", "qgisMinimumVersion", "author", "email", "about", "tracker",
                "repository", "changelog", "homepage", "tags"]
    assert [field for field in required if not general.get(field, "").strip()] == []
    for field in ("tracker", "repository", "homepage"):
        url = urlparse(general[field])
        assert url.scheme == "https" and url.netloc, f"metadata.txt's {field} is no URL: {general[field]}"
    assert "<" not in general["changelog"] + general["about"], "metadata.txt's texts take no HTML"
