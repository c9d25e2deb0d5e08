"""The README's and the quickstart's code runs as written, in a new Django project.

For each page, the test does what a newcomer does: ``startproject``, ``startapp``,
the page's settings, its model, ``check``, ``makemigrations``, ``migrate``, then
every other Python block of the page, in order and in one namespace (as typed
into ``manage.py shell``). A block that raises fails the test with a traceback
pointing at the page's own line.

How a page marks its blocks (an HTML comment on the line before the fence,
invisible on GitHub and in the built docs):

- ``<!-- docs-test: settings -->``: settings. Each setting the block assigns
  replaces the project's; in a list, ``...`` stands for the project's own items,
  so ``[..., "django_trackable"]`` appends and ``[..., "a", "b", ...]`` puts
  ``b`` right after the project's ``a``.
- ``<!-- docs-test: file shop/models.py -->``: the block is that file of the
  project (``shop`` is made with ``startapp`` and installed first).
- ``<!-- docs-test: skip REASON -->``: not run.

Unmarked ``python`` blocks are run; blocks in other languages (``sh``) are not.
"""

from __future__ import annotations

import json
import os
import pprint
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["README.md", "docs/quickstart.md"]

FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")
MARKER = re.compile(r"^<!--\s*docs-test:\s*(?P<kind>\w+)\s*(?P<arg>.*?)\s*-->$")

# Runs in the new project: each block compiled with the page as its file name and
# its lines where they are on the page, so a traceback names the page's line.
RUNNER = """
import json
import sys

import django

django.setup()
namespace = {"__name__": "__main__"}
for block in json.load(open(sys.argv[1], encoding="utf-8")):
    source = "\\n" * (block["line"] - 1) + block["code"]
    exec(compile(source, block["page"], "exec"), namespace)
    print(f"ran {block['page']}:{block['line']}", flush=True)
"""


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # of the block's first line of code
    lang: str
    code: str
    kind: str  # "run", "settings", "file" or "skip"
    arg: str


def blocks(page: str) -> list[Block]:
    """The fenced blocks of ``page``, each with its marker (``run`` when it has none)."""
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    found = []
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence or not fence["lang"]:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == "```")
        previous = next((line for line in reversed(lines[:index]) if line.strip()), "")
        marker = MARKER.match(previous.strip())
        kind, arg = (marker["kind"], marker["arg"]) if marker else ("run", "")
        if kind not in {"run", "settings", "file", "skip"}:
            raise ValueError(f"{page}:{index}: unknown docs-test marker {kind!r}")
        if kind == "skip" and not arg:
            raise ValueError(f"{page}:{index}: say why the block is skipped")
        code = "\n".join(lines[index + 1 : end]) + "\n"
        found.append(Block(page, index + 2, fence["lang"], code, kind, arg))
        index = end + 1
    return found


def merge(project: list[Any], documented: list[Any]) -> list[Any]:
    """A documented list setting where ``...`` stands for the project's own items."""
    if Ellipsis not in documented:
        return list(documented)
    named = [item for item in documented if item is not Ellipsis]
    anchors = [project.index(item) if item in project else None for item in documented]
    merged: list[Any] = []
    position, pending = 0, False
    for number, item in enumerate(documented):
        if item is Ellipsis:
            pending = True
            continue
        index = anchors[number]
        if index is not None and index < position:
            raise ValueError(f"{item!r} is documented after items your settings put after it")
        if pending:
            # The dots are the project's items up to the next one the docs name.
            until = index
            if until is None:
                until = next((a for a in anchors[number:] if a is not None), len(project))
            merged += [own for own in project[position:until] if own not in named]
            position, pending = until, False
        if index is not None:
            position = index + 1
        merged.append(item)
    if pending:
        merged += [own for own in project[position:] if own not in named]
    return merged


def documented_settings(settings_file: Path, settings_blocks: list[Block]) -> str:
    """What the page's settings blocks make of the project's settings, as Python to append."""
    project: dict[str, Any] = {"__file__": str(settings_file)}
    exec(settings_file.read_text(encoding="utf-8"), project)
    appended = []
    for block in settings_blocks:
        documented: dict[str, Any] = {}
        exec(compile(block.code, block.page, "exec"), documented)
        for name, value in documented.items():
            if not name.isupper():
                continue
            if isinstance(value, list | tuple):
                value = merge(list(project.get(name, [])), list(value))
            project[name] = value
            appended.append(f"# {block.page}, line {block.line}\n{name} = {pprint.pformat(value)}")
    return "\n\n" + "\n\n".join(appended) + "\n"


def test_a_list_setting_keeps_the_projects_items_where_the_docs_put_dots():
    project = ["security", "sessions", "auth", "messages"]
    assert merge(project, [..., "auth", "current_user", ...]) == [
        "security",
        "sessions",
        "auth",
        "current_user",
        "messages",
    ]
    assert merge(project, [..., "trackable"]) == [*project, "trackable"]
    assert merge(project, [..., "before_auth", "auth", ...]) == [
        "security",
        "sessions",
        "before_auth",
        "auth",
        "messages",
    ]
    assert merge(project, ["first", ...]) == ["first", *project]
    assert merge(project, ["only"]) == ["only"]
    with pytest.raises(ValueError, match="'sessions' is documented after"):
        merge(project, [..., "auth", "sessions", ...])


def test_a_block_with_an_unknown_marker_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "page.md").write_text("<!-- docs-test: maybe -->\n```python\npass\n```\n")
    with pytest.raises(ValueError, match="unknown docs-test marker 'maybe'"):
        blocks("page.md")


def test_a_block_that_raises_fails_with_the_pages_line(tmp_path):
    (tmp_path / "blocks.json").write_text(
        json.dumps([{"page": "README.md", "line": 40, "code": "x = 1\nundefined_name\n"}])
    )
    (tmp_path / "run_blocks.py").write_text(RUNNER)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "run_blocks.py", "blocks.json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert 'File "README.md", line 41' in result.stderr
    assert "NameError: name 'undefined_name' is not defined" in result.stderr


@pytest.mark.parametrize("page", PAGES)
def test_every_python_block_of_the_page_runs_in_a_new_project(page, tmp_path):
    page_blocks = [block for block in blocks(page) if block.lang == "python"]
    to_run = [block for block in page_blocks if block.kind == "run"]
    files = [block for block in page_blocks if block.kind == "file"]
    assert to_run, f"{page} has no Python block to run"

    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    env["PYTHONPATH"] = str(tmp_path)

    def run(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    run("-m", "django", "startproject", "mysite", ".")
    settings_file = tmp_path / "mysite" / "settings.py"
    apps = sorted({Path(block.arg).parts[0] for block in files})
    for app in apps:
        run("manage.py", "startapp", app)
    with settings_file.open("a", encoding="utf-8") as settings:
        settings.write(f"\nINSTALLED_APPS += {apps!r}  # the newcomer's own apps\n")
    settings_blocks = [block for block in page_blocks if block.kind == "settings"]
    with settings_file.open("a", encoding="utf-8") as settings:
        settings.write(documented_settings(settings_file, settings_blocks))
    for block in files:
        (tmp_path / block.arg).write_text(block.code, encoding="utf-8")

    run("manage.py", "check", "--fail-level", "WARNING")
    run("manage.py", "makemigrations")
    run("manage.py", "migrate", "--noinput", "-v", "0")
    (tmp_path / "blocks.json").write_text(
        json.dumps([{"page": b.page, "line": b.line, "code": b.code} for b in to_run])
    )
    (tmp_path / "run_blocks.py").write_text(RUNNER)
    env["DJANGO_SETTINGS_MODULE"] = "mysite.settings"
    output = run("run_blocks.py", "blocks.json")
    assert output.splitlines() == [f"ran {b.page}:{b.line}" for b in to_run]
