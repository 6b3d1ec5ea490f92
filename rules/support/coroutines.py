"""Which coroutines of a module never wait for I/O (sequential-await)?

Awaiting ``check_permission(user, table)`` once per table costs nothing
worth running concurrently when that ``async def`` only computes: it
returns without ever yielding to the event loop. An ``async def`` of the
module is *CPU-only* when its own body has no ``async for``/``async with``
and every ``await`` in it is of another CPU-only coroutine of the module
(called by name or as ``self.name()``/``cls.name()``). Anything else it
awaits (a parameter, an attribute, a call of another module) may be I/O.

Names of another module cannot be looked up here; permission checks
(``check_visibility``, ``permission_allowed``, ``has_perm``) are treated as
CPU-only by name, the shape of the false positive seen on a real app.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from advisor._lazy import lazy_module

if TYPE_CHECKING:
    import libcst as cst
else:
    cst = lazy_module("libcst")

#: Callee names that are permission checks: computed from the actor and a table of rules.
PERMISSION_CHECK = re.compile(r"permission|visib|allowed|authori[sz]e|has_perm|can_(view|edit|access)", re.I)
_SELF = ("self", "cls")


def callee_name(call: Any) -> str:
    """``f`` for ``f(...)``, ``m`` for ``self.m(...)``/``cls.m(...)``; "" for anything else."""
    func = call.func if isinstance(call, cst.Call) else None
    if isinstance(func, cst.Name):
        return str(func.value)
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in _SELF:
        return str(func.attr.value)
    return ""


def last_name(call: Any) -> str:
    """The last part of the callee (``check_visibility`` of ``self.ds.check_visibility()``)."""
    func = call.func if isinstance(call, cst.Call) else None
    if isinstance(func, cst.Attribute):
        return str(func.attr.value)
    return str(func.value) if isinstance(func, cst.Name) else ""


class CoroutineIndex:
    """Collects, during the walk, what each ``async def`` of the file awaits."""

    def __init__(self) -> None:
        #: One entry per enclosing ``def``: [name, is async, awaited callee names or None (unknown)].
        self._stack: list[tuple[str, bool, set[str] | None]] = []
        self._awaits: dict[str, list[set[str] | None]] = {}
        #: Names of ``def``s that call a database method (``self.cursor.execute``).
        self._database: set[str] = set()

    def enter(self, node: "cst.FunctionDef") -> None:
        self._stack.append((node.name.value, node.asynchronous is not None, set()))

    def leave(self) -> None:
        name, is_async, awaited = self._stack.pop()
        self._awaits.setdefault(name, []).append(awaited if is_async else None)

    def awaited(self, expression: Any) -> None:
        """The innermost ``def`` awaits ``expression``."""
        if not self._stack:
            return
        name = callee_name(expression) if isinstance(expression, cst.Call) else ""
        self._mark(name)

    def uses_database(self) -> None:
        """The innermost ``def`` calls a database connection or cursor."""
        if self._stack:
            self._database.add(self._stack[-1][0])

    def database(self) -> frozenset[str]:
        """Coroutines (by name) of the module that talk to a database."""
        return frozenset(self._database)

    def waits_for_io(self) -> None:
        """The innermost ``def`` has an ``async for`` or ``async with``."""
        if self._stack:
            self._mark("")

    def _mark(self, name: str) -> None:
        top, is_async, awaited = self._stack[-1]
        if awaited is None:
            return
        if not name:
            self._stack[-1] = (top, is_async, None)
        else:
            awaited.add(name)

    def cpu_only(self) -> frozenset[str]:
        """Names all of whose definitions are CPU-only coroutines (a fixpoint)."""
        found: set[str] = set()
        changed = True
        while changed:
            changed = False
            for name, definitions in self._awaits.items():
                if name in found:
                    continue
                if all(d is not None and d <= found for d in definitions):
                    found.add(name)
                    changed = True
        return frozenset(found)
