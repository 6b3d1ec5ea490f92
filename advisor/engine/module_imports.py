"""The modules a file imports when it is itself imported, from CPython's
``ast`` tree the worker already has: the project's import graph is built
from these (``advisor.project.Project.import_graph``), for every rule."""

from __future__ import annotations

import ast

#: Statements whose bodies run when the module is imported.
_BLOCKS = (ast.If, ast.Try, ast.With, ast.For, ast.While, ast.ClassDef)


def module_imports(tree: ast.Module, module: str, is_package: bool) -> tuple[str, ...]:
    """Absolute names imported at import time, in order, without duplicates.
    ``from a import b`` gives ``a`` and ``a.b`` (``b`` may be a submodule);
    imports under ``if TYPE_CHECKING:`` and inside functions are left out."""
    found: dict[str, None] = {}
    stack: list[ast.stmt] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import):
            for alias in node.names:
                found[alias.name] = None
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            if base is None:
                continue
            if base:
                found[base] = None
            for alias in node.names:
                if alias.name != "*":
                    found[f"{base}.{alias.name}" if base else alias.name] = None
        elif isinstance(node, _BLOCKS) and not _type_checking_only(node):
            children: list[ast.stmt] = []
            for name in ("body", "orelse", "finalbody"):
                children.extend(getattr(node, name, ()))
            for handler in getattr(node, "handlers", ()):
                children.extend(handler.body)
            stack.extend(reversed(children))
    return tuple(found)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str | None:
    """The absolute module of a from-import; None when it climbs above the top."""
    if not node.level:
        return node.module or ""
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    climb = node.level - 1
    if climb > len(parts) or not module:
        return None
    base = parts[: len(parts) - climb]
    if node.module:
        base = [*base, node.module]
    return ".".join(base)


def _type_checking_only(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
    return name == "TYPE_CHECKING"
