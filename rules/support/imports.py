"""Import statements as plain data: which module, which names, bound how.

Shared by the lazy-imports rule, its codemod and the import-cost evidence,
so all three agree on what "the same import" means.
"""

from __future__ import annotations

import ast

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import libcst as cst


@dataclass(frozen=True)
class ImportTarget:
    """What one import statement (or one alias of ``import a, b``) loads and binds."""

    #: Absolute module imported: "a.b" for ``import a.b`` and ``from a.b import c``.
    module: str
    #: Names from ``from module import ...`` (empty for ``import module``).
    names: tuple[str, ...] = ()
    #: Local names bound: "a" for ``import a.b``; "c" for ``import a.b as c``.
    bound: tuple[str, ...] = ()

    @property
    def statement(self) -> str:
        """A canonical statement, runnable in a fresh interpreter to measure it."""
        if self.names:
            return f"from {self.module} import {', '.join(sorted(self.names))}"
        return f"import {self.module}"

    @property
    def top_level(self) -> str:
        return self.module.split(".")[0]


def dotted_name(node: Any) -> str:
    """``a.b.c`` for a Name/Attribute chain; "" for anything else."""
    attribute, name = _CHAIN or _chain_types()
    if type(node) is name:  # exact types: libcst's node classes are final, and
        return node.value  # isinstance() on them goes through ABCMeta (slow, and this is hot)
    parts = []
    while type(node) is attribute:
        parts.append(node.attr.value)
        node = node.value
    if type(node) is name:
        parts.append(node.value)
        return ".".join(reversed(parts))
    return ""



def ast_dotted_name(node: Any) -> str:
    """``a.b.c`` for a CPython ``ast`` Name/Attribute chain; "" for anything
    else (``dotted_name``'s twin for the rules' ``ast`` passes)."""
    parts = []
    while type(node) is ast.Attribute:
        parts.append(node.attr)
        node = node.value
    if type(node) is not ast.Name:
        return ""
    parts.append(node.id)
    return ".".join(reversed(parts))

_CHAIN: tuple[type[cst.Attribute], type[cst.Name]] | tuple[()] = ()


def _chain_types() -> tuple[type[cst.Attribute], type[cst.Name]]:
    global _CHAIN
    import libcst as cst

    _CHAIN = (cst.Attribute, cst.Name)
    return _CHAIN


def resolve_relative(module: str, level: int, current: str, is_package: bool) -> str:
    """Absolute name of a relative import (``from ..x import y``) in ``current``."""
    if level == 0:
        return module
    parts = current.split(".") if current else []
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if len(parts) >= level - 1 else []
    base = ".".join(parts)
    return f"{base}.{module}" if base and module else (base or module)


def targets_of(node: "cst.CSTNode", current: str = "", is_package: bool = False) -> list[ImportTarget]:
    """One ImportTarget per alias of ``import``, one per ``from`` statement.

    Returns [] for star imports and for relative imports that cannot be resolved.
    """
    import libcst as cst

    if isinstance(node, (cst.Import, cst.LazyImport)):
        targets = []
        for alias in node.names:
            module = dotted_name(alias.name)
            bound = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else module.split(".")[0]
            targets.append(ImportTarget(module=module, bound=(bound,)))
        return targets
    if isinstance(node, (cst.ImportFrom, cst.LazyImportFrom)):
        if isinstance(node.names, cst.ImportStar):
            return []
        level = len(node.relative)
        module = dotted_name(node.module) if node.module is not None else ""
        absolute = resolve_relative(module, level, current, is_package)
        if not absolute or (level and not current):
            return []
        names: list[str] = []
        bounds: list[str] = []
        for alias in node.names:
            name = dotted_name(alias.name)
            names.append(name)
            bounds.append(alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name)
        return [ImportTarget(module=absolute, names=tuple(names), bound=tuple(bounds))]
    return []
