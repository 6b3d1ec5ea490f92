"""The project half of the startup graph: each module's import-time
statements, read with ``ast`` (never imported).

What counts as import time (``AppConfig.ready()`` included) is decided once,
in ``advisor.engine.module_imports``, for this model and for the project's
import graph alike.
"""

from __future__ import annotations

import ast
from typing import Iterable, Mapping

from advisor.engine.module_imports import import_time_nodes, resolve_from
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
    for node in import_time_nodes(tree.body):
        targets = _targets(node, package, known)
        if targets:
            found.append(Statement(f"{module}:{node.lineno}", targets))
    return tuple(found)


def project_statements(sources: Mapping[str, tuple[str, bool]]) -> dict[str, tuple[Statement, ...]]:
    """module -> its statements, for ``{module: (source text, is_package)}``."""
    return {m: module_statements(m, text, is_pkg, sources) for m, (text, is_pkg) in sources.items()}


def _targets(node: ast.Import | ast.ImportFrom, package: str, project: frozenset[str]) -> tuple[str, ...]:
    """The modules a statement loads: ``from pkg import sub`` loads ``pkg.sub``
    when that is a project module, else ``pkg`` alone."""
    if isinstance(node, ast.Import):
        return tuple(alias.name for alias in node.names)
    base = resolve_from(node.module or "", node.level, package)
    if base is None:
        return ()
    subs = [f"{base}.{a.name}" if base else a.name for a in node.names if a.name != "*"]
    targets = [base] if base else []
    targets += [s for s in subs if s in project]
    return tuple(dict.fromkeys(targets))


#: import_time_nodes and resolve_from are offered here too: rules read import
#: time through the evidence layer (they may not import the engine).
__all__ = ["import_time_nodes", "module_statements", "project_statements", "resolve_from"]
