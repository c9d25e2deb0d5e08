"""The built documentation browses from disk: every local link opens a file, not a directory."""

from __future__ import annotations

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (tag, name) in {("a", "href"), ("link", "href"), ("script", "src")}:
                self.links.append(value)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


def _local_targets(page: Path) -> list[tuple[str, Path]]:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    targets = []
    for link in parser.links:
        parts = urlsplit(link)
        if parts.scheme or parts.netloc or not parts.path:
            continue  # another site, or an anchor on this page
        targets.append((link, (page.parent / unquote(parts.path)).resolve()))
    return targets


def test_every_local_link_of_the_built_docs_opens_a_file(site):
    # 404.html is for a server (its links are absolute, from the site root).
    pages = sorted(page for page in site.rglob("*.html") if page.name != "404.html")
    assert site / "index.html" in pages
    assert site / "quickstart.html" in pages  # a page per file, not quickstart/index.html
    checked = 0
    for page in pages:
        for link, target in _local_targets(page):
            assert target.is_file(), f"{page.relative_to(site)}: {link} is not a file on disk"
            checked += 1
    assert checked > 100  # the navigation alone links every page from every page
