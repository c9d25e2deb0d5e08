"""The name people install: the README, the docs and our hints all name what pyproject.toml builds.

The import name is ``django_trackable``; the distribution is not called
``django-trackable`` (PyPI gives that name to an unrelated project), so every
``pip install`` we print must name ours, with extras that exist.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the suite also runs there in CI

ROOT = Path(__file__).resolve().parent.parent

# `pip install NAME`, `pip install "NAME[geo]"`, `pip install 'NAME[a,b]'`.
PIP_INSTALL = re.compile(
    r"""pip install\s+["']?(?P<name>[A-Za-z0-9._-]+)(?:\[(?P<extras>[^\]]*)\])?"""
)


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _install_commands(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line number, distribution, extras) of each ``pip install`` of ours in ``path``."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for match in PIP_INSTALL.finditer(line):
            name = match["name"]
            if "trackable" not in name.lower():
                continue  # another package (pip install psycopg, say)
            extras = [e.strip() for e in (match["extras"] or "").split(",") if e.strip()]
            found.append((number, name, extras))
    return found


def test_readme_install_line_names_the_distribution_pyproject_builds():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```sh\n(pip install [^\n]+)\n```", readme)
    assert match, "the README has no ```sh block with a pip install line"
    (_, name, _), *_ = _install_commands(ROOT / "README.md")
    assert match[1] == f"pip install {name}"
    assert _normalized(name) == _normalized(_project()["name"])


def test_the_distribution_is_not_the_unrelated_django_trackable():
    assert _normalized(_project()["name"]) != "django-trackable"


def test_every_install_command_we_print_names_our_distribution_and_existing_extras():
    project = _project()
    extras = set(project["optional-dependencies"])
    sources = [
        ROOT / "README.md",
        *sorted((ROOT / "docs").rglob("*.md")),
        *sorted((ROOT / "django_trackable").rglob("*.py")),
    ]
    commands = [(path, *command) for path in sources for command in _install_commands(path)]
    assert len(commands) >= 5  # the README, quickstart, request metadata, and the checks' hints
    for path, line, name, wanted in commands:
        where = f"{path.relative_to(ROOT)}:{line}"
        assert _normalized(name) == _normalized(project["name"]), where
        assert set(wanted) <= extras, f"{where}: no extra {set(wanted) - extras}"


def test_the_installed_distribution_that_provides_django_trackable_is_ours():
    providers = metadata.packages_distributions()["django_trackable"]
    assert _normalized(_project()["name"]) in {_normalized(name) for name in providers}
