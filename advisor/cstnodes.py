"""The shape of libcst nodes, read once per node type: the fields libcst
visits in libcst's order, and the child nodes of a node without whitespace,
comments and punctuation. Shared by the engine's one walk
(``advisor.engine.walk``) and the rules' local sub-walks
(``advisor.rules.support.cstwalk``)."""

from __future__ import annotations

import dataclasses
import sys
import typing
from typing import Any

#: Node types made only of whitespace, comments and punctuation: skipped unless hooked.
TRIVIA_NAMES = (
    "SimpleWhitespace", "ParenthesizedWhitespace", "TrailingWhitespace", "EmptyLine", "Newline",
    "Comment", "Comma", "Dot", "Colon", "Semicolon", "AssignEqual", "LeftParen", "RightParen",
    "LeftSquareBracket", "RightSquareBracket", "LeftCurlyBrace", "RightCurlyBrace",
    "BaseBinaryOp", "BaseBooleanOp", "BaseCompOp", "BaseAugOp", "BaseUnaryOp",
    "ImportStar", "Asynchronous",
)
#: Field values that are never nodes (met only when libcst's source is missing).
PLAIN_VALUES = frozenset({str, bytes, int, float, bool})
ORDER: dict[type, tuple[str, ...]] = {}
#: type -> the fields libcst calls attribute hooks for.
HOOKED: dict[type, frozenset[str]] = {}


def field_order(node: Any) -> tuple[str, ...]:
    """The fields libcst visits for nodes of ``type(node)``, in libcst's order."""
    order = ORDER.get(type(node))
    if order is None:
        named, extra = _record_order(node)
        order = ORDER[type(node)] = named + extra
        HOOKED[type(node)] = frozenset(named)
    return order


def _record_order(node: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Let libcst visit one node's children with a visitor that records the
    attribute hooks and goes no deeper: libcst's own order, at the cost of
    rebuilding one node per type. libcst calls the hooks of every field,
    present or not, except a missing ``format_spec`` of f-string parts. Returns
    (the fields libcst named, the other fields): the others are walked last,
    without attribute hooks (values that are not nodes are skipped)."""
    import libcst as cst

    names: list[str] = []

    class Recorder(cst.CSTVisitor):
        def on_visit(self, child: Any) -> bool:
            return False

        def on_visit_attribute(self, parent: Any, attribute: str) -> None:
            if parent is node and attribute not in names:
                names.append(attribute)

    try:
        node._visit_and_replace_children(Recorder())
    except Exception:  # a node type that cannot rebuild itself: dataclass order
        names.clear()
    fields = [field.name for field in dataclasses.fields(node)]
    return tuple(name for name in names if name in fields), tuple(name for name in fields if name not in names)


def children(node: Any) -> list[Any]:
    """The child nodes of ``node`` in libcst's order, trivia left out: what
    ``node.children`` gives without rebuilding the node (much faster)."""
    if not _SKIP:
        import libcst as cst

        _SKIP.append(trivia_types(cst) | PLAIN_VALUES | {type(None), type(cst.MaybeSentinel.DEFAULT)})
    skip = _SKIP[0]
    found: list[Any] = []
    fields = _CHILD_FIELDS.get(type(node))
    if fields is None:
        barren = barren_fields(type(node))
        fields = _CHILD_FIELDS[type(node)] = tuple(f for f in field_order(node) if f not in barren)
    for field in fields:
        value = getattr(node, field)
        kind = type(value)
        if kind is tuple or kind is list:
            found.extend(child for child in value if type(child) not in skip)
        elif kind not in skip:
            found.append(value)
    return found


_SKIP: list[frozenset[type]] = []
_TRIVIA: list[frozenset[type]] = []
#: type -> the fields ``children`` reads (barren ones left out).
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
_BARREN: dict[type, frozenset[str]] = {}


def barren_fields(cls: type) -> frozenset[str]:
    """Fields of ``cls`` whose declared type admits only trivia, plain values
    (``str``, ``None``, ``MaybeSentinel``) or sequences of them: nothing a walk
    that skips trivia would descend into. Read from the dataclass annotations
    once per type; a type whose annotations cannot be resolved has none."""
    found = _BARREN.get(cls)
    if found is None:
        import libcst as cst

        try:
            hints = typing.get_type_hints(cls)
            found = frozenset(f.name for f in dataclasses.fields(cls) if _barren_type(hints[f.name], cst))
        except Exception:
            found = frozenset()
        _BARREN[cls] = found
    return found


def _barren_type(annotation: Any, cst: Any) -> bool:
    if typing.get_origin(annotation) is not None:
        return all(_barren_type(arg, cst) for arg in typing.get_args(annotation))
    if not isinstance(annotation, type):
        return False  # a Literal's value, a forward reference: keep the field
    if annotation in PLAIN_VALUES or annotation is type(None) or issubclass(annotation, cst.MaybeSentinel):
        return True
    trivia = trivia_types(cst)
    # libcst's add_slots makes a copy of each node class; the pre-copy originals
    # linger among __subclasses__ but are never instantiated: leave them out.
    subclasses = [sub for sub in _all_node_types(annotation)
                  if getattr(sys.modules.get(sub.__module__), sub.__name__, None) is sub]
    # an abstract base (BaseParenthesizableWhitespace) is barren when all its kinds are trivia
    itself = annotation in trivia or (bool(subclasses) and bool(getattr(annotation, "__abstractmethods__", ())))
    return itself and all(sub in trivia for sub in subclasses)


def trivia_types(cst: Any) -> frozenset[type]:
    if not _TRIVIA:
        bases = {getattr(cst, name) for name in TRIVIA_NAMES if hasattr(cst, name)}
        # __mro__, not issubclass: the node classes are ABCs, and ABC checks cost ~0.1 s here.
        _TRIVIA.append(frozenset(cls for cls in _all_node_types(cst.CSTNode) if not bases.isdisjoint(cls.__mro__)))
    return _TRIVIA[0]


def _all_node_types(base: type) -> list[type]:
    found: list[type] = []
    stack: list[type] = [base]
    sub: type
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.append(sub)
                stack.append(sub)
    return found
