"""The rules of docs/architecture.md, read from the code's own imports.

Every module of the tracker and the plugin is parsed (imports inside functions
count too); a rule that breaks fails here with the modules that break it.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from .conftest import ROOT

PLUGIN = "pelican.plugins.polku"
SOURCES = {"tracker": ROOT / "tracker", PLUGIN: ROOT / "plugins" / "polku"}
MAX_LINES = 440  # "no module over about 400 lines"

CORE = "tracker.journey"
WEB_APP = ("tracker.web", "tracker.admin", "tracker.errors", "tracker.contacts")
FRAMEWORKS = ("flask", "werkzeug", "pelican", "jinja2", "markupsafe", "click")
STORES = ("tinydb", "psycopg", "psycopg_pool", "tracker.storage")
FILES = ("os", "io", "shutil", "pathlib", "tempfile", "mmap", "fcntl")


def under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


def is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


@cache
def imports(name: str) -> frozenset[str]:
    """Every module name this module imports, resolved (submodules as themselves)."""
    path = modules()[name]
    package = name if is_package(name) else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules() else base)
    return frozenset(found)


def reach(name: str) -> set[str]:
    """Every module of ours that importing this one may import, transitively."""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        for other in imports(current):
            if other in modules() and other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def offenders(where, forbidden) -> list[str]:
    return sorted(
        f"{m} imports {i}"
        for m in modules()
        if where(m)
        for i in imports(m)
        if forbidden(i)
    )


def test_the_core_is_pure():
    """No web framework, Pelican, storage or files: plain records in, plain data out."""
    assert not offenders(
        lambda m: under(m, CORE),
        lambda i: (
            under(i, *FRAMEWORKS, *STORES, *FILES)
            or (under(i, "tracker", PLUGIN) and not under(i, CORE))
        ),
    )


def test_storage_knows_no_views_and_takes_only_the_counting_rules():
    assert not offenders(
        lambda m: under(m, "tracker.storage"),
        lambda i: (
            under(i, "flask", PLUGIN, *WEB_APP, "tracker.mail", "tracker.cli")
            or (
                under(i, CORE)
                and not under(i, "tracker.journey.counters", "tracker.journey.facts")
            )
        ),
    )


@pytest.mark.parametrize("start", ["tracker", "tracker.storage"])
def test_the_web_app_and_storage_never_reach_the_plugin(start):
    """Not directly, nor through any module they import."""
    reached = {start, *reach(start)}
    assert not sorted(m for m in reached if under(m, PLUGIN))


def test_the_plugin_never_imports_the_web_app_or_the_commands():
    assert not offenders(
        lambda m: under(m, PLUGIN),
        lambda i: i == "tracker" or under(i, *WEB_APP, "tracker.cli"),
    )


def test_no_two_modules_import_each_other_through_any_path():
    circles = sorted(
        f"{m} -> ... -> {m}" for m in modules() if m in reach(m) and not is_package(m)
    )
    assert not circles


def test_no_module_is_over_about_400_lines():
    long = {
        m: n
        for m, path in modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long


def test_the_rules_are_written_down():
    text = (ROOT / "docs" / "architecture.md").read_text()
    for rule in ("pure", "storage", "plugin", "never"):
        assert rule in text
