"""A fast read-only walk of a libcst tree for rules' local sub-scans.

``node.visit(visitor)`` rebuilds every child on the way back up (it is the
transformer machinery) and ``node.children`` does the same; a read-only scan
of a function body needs neither. This calls ``visit_<Type>`` (children are
skipped when it returns False) and ``leave_<Type>``, like a CSTVisitor
without attribute-level hooks, in libcst's child order with whitespace,
comments and punctuation left out (see advisor.engine.walk.children).
"""

from __future__ import annotations

from typing import Any

from advisor.cstnodes import children


def walk(node: Any, visitor: Any) -> None:
    """Visit ``node`` and its descendants."""
    name = type(node).__name__
    visit = getattr(visitor, "visit_" + name, None)
    if visit is None or visit(node) is not False:
        for child in children(node):
            walk(child, visitor)
    leave = getattr(visitor, "leave_" + name, None)
    if leave is not None:
        leave(node)
