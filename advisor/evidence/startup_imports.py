"""The project half of the startup graph: each module's import-time
statements, read with ``ast`` (never imported).

Import time means the code that runs when the module is imported: the
module body, including ``if``/``try``/``with`` blocks and class bodies, but
not function bodies; ``if TYPE_CHECKING:`` blocks never run. One exception
is made for Django: ``AppConfig.ready()`` always runs during
``django.setup()``, so its imports count as startup imports of its module.
"""

from __future__ import annotations

import ast
from typing import Iterable, Iterator, Mapping

from advisor.evidence.startup import Statement


def module_statements(module: str, text: str, is_package: bool, project: Iterable[str]) -> tuple[Statement, ...]:
    """Import-time statements of one module (``[]`` when it does not parse)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return ()
    known = frozenset(project)
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in _import_time_nodes(tree.body):
        targets = _targets(node, package, known)
        if targets:
            found.append(Statement(f"{module}:{node.lineno}", targets))
    return tuple(found)


def project_statements(sources: Mapping[str, tuple[str, bool]]) -> dict[str, tuple[Statement, ...]]:
    """module -> its statements, for ``{module: (source text, is_package)}``."""
    return {m: module_statements(m, text, is_pkg, sources) for m, (text, is_pkg) in sources.items()}


def _import_time_nodes(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _import_time_nodes(node.body)
            yield from _import_time_nodes(node.orelse)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            for block in (node.body, node.orelse, node.finalbody):  # type: ignore[attr-defined]
                yield from _import_time_nodes(block)
            for handler in node.handlers:  # type: ignore[attr-defined]
                yield from _import_time_nodes(handler.body)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            yield from _import_time_nodes(node.body)
        elif isinstance(node, ast.ClassDef):
            yield from _import_time_nodes(node.body)
            if _is_app_config(node):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == "ready":
                        yield from _import_time_nodes(item.body)


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


def _targets(node: ast.Import | ast.ImportFrom, package: str, project: frozenset[str]) -> tuple[str, ...]:
    """The modules a statement loads: ``from pkg import sub`` loads ``pkg.sub``
    when that is a project module, else ``pkg`` alone."""
    if isinstance(node, ast.Import):
        return tuple(alias.name for alias in node.names)
    base = _resolve(node.module or "", node.level, package)
    if base is None:
        return ()
    subs = [f"{base}.{a.name}" if base else a.name for a in node.names if a.name != "*"]
    targets = [base] if base else []
    targets += [s for s in subs if s in project]
    return tuple(dict.fromkeys(targets))


def _resolve(name: str, level: int, package: str) -> str | None:
    """Absolute module of ``from <level dots><name> import``; None when the
    relative import climbs above the top-level package."""
    if not level:
        return name
    parts = package.split(".") if package else []
    if level - 1 > len(parts) or (level - 1 == len(parts) and not name):
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, name] if name else base)


__all__ = ["module_statements", "project_statements"]
