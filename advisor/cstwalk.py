"""A fast read-only walk of a libcst tree for rules' local sub-scans.

``node.visit(visitor)`` rebuilds every child on the way back up (it is the
transformer machinery) and ``node.children`` does the same; a read-only scan
of a function body needs neither. This walks the dataclass fields directly,
calling ``visit_<Type>`` (children are skipped when it returns False) and
``leave_<Type>``, like a CSTVisitor without attribute-level hooks.
"""

from __future__ import annotations

import dataclasses
from typing import Any

_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls))
        _FIELDS[cls] = names
    return names


def walk(node: Any, visitor: Any) -> None:
    """Visit ``node`` and its descendants in field order."""
    from libcst import CSTNode

    _walk(node, visitor, CSTNode)


#: type -> is it a CSTNode? (CSTNode is an ABC: isinstance on it is slow.)
_IS_NODE: dict[type, bool] = {}


def _is_node(value: Any, base: type) -> bool:
    kind = type(value)
    known = _IS_NODE.get(kind)
    if known is None:
        known = _IS_NODE[kind] = issubclass(kind, base)
    return known


def _walk(node: Any, visitor: Any, base: type) -> None:
    name = type(node).__name__
    visit = getattr(visitor, "visit_" + name, None)
    if visit is None or visit(node) is not False:
        for field in _child_fields(type(node)):
            value = getattr(node, field)
            if _is_node(value, base):
                _walk(value, visitor, base)
            elif type(value) in (list, tuple):
                for item in value:
                    if _is_node(item, base):
                        _walk(item, visitor, base)
    leave = getattr(visitor, "leave_" + name, None)
    if leave is not None:
        leave(node)
