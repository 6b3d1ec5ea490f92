"""The import statements a module runs when it is itself imported, from
CPython's ``ast`` tree: one reading for the project's import graph (made in
every worker, ``advisor.project.Project.import_graph``) and the startup
model (``advisor.evidence.startup_imports``).

Import time means the module body, including ``if``/``try``/``with`` blocks,
module-level loops and class bodies, but not function bodies; ``if
TYPE_CHECKING:`` blocks never run (their ``else`` does). One exception is
made for Django: ``AppConfig.ready()`` always runs during ``django.setup()``,
so its imports count as its module's."""

from __future__ import annotations

import ast
from typing import Iterator


def module_imports(tree: ast.Module, module: str, is_package: bool) -> tuple[str, ...]:
    """Absolute names imported at import time, in order, without duplicates.
    ``from a import b`` gives ``a`` and ``a.b`` (``b`` may be a submodule)."""
    package = module if is_package else module.rpartition(".")[0]
    found: dict[str, None] = {}
    for node in import_time_nodes(tree.body):
        if isinstance(node, ast.Import):
            found.update((alias.name, None) for alias in node.names)
            continue
        base = resolve_from(node.module or "", node.level, package)
        if base is None:
            continue
        if base:
            found[base] = None
        found.update((f"{base}.{a.name}" if base else a.name, None) for a in node.names if a.name != "*")
    return tuple(found)


def import_time_nodes(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements of ``body`` that run when the module is imported."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from import_time_nodes(node.body)
            yield from import_time_nodes(node.orelse)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            for block in (node.body, node.orelse, node.finalbody):  # type: ignore[attr-defined]
                yield from import_time_nodes(block)
            for handler in node.handlers:  # type: ignore[attr-defined]
                yield from import_time_nodes(handler.body)
        elif isinstance(node, (ast.With, ast.AsyncWith, ast.For, ast.While)):
            yield from import_time_nodes(node.body)
            yield from import_time_nodes(getattr(node, "orelse", []))
        elif isinstance(node, ast.ClassDef):
            yield from import_time_nodes(node.body)
            if _is_app_config(node):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == "ready":
                        yield from import_time_nodes(item.body)


def resolve_from(name: str, level: int, package: str) -> str | None:
    """Absolute module of ``from <level dots><name> import`` in ``package``;
    None when the relative import climbs above the top-level package."""
    if not level:
        return name
    parts = package.split(".") if package else []
    if level - 1 > len(parts) or (level - 1 == len(parts) and not name):
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _is_type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else test.id if isinstance(test, ast.Name) else ""
    return name == "TYPE_CHECKING"


def _is_app_config(node: ast.ClassDef) -> bool:
    """A Django ``AppConfig`` subclass, by the name of a base class."""
    for base in node.bases:
        name = base.attr if isinstance(base, ast.Attribute) else base.id if isinstance(base, ast.Name) else ""
        if name.endswith("AppConfig"):
            return True
    return False
