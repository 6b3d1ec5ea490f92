"""advisor.engine.walk.BatchedWalk must call rules' hooks exactly as libcst's own
batched visitor does (same events, same order), only faster."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any

import libcst as cst
import pytest

from advisor.engine.walk import BatchedWalk, _all_node_types, _trivia_types

REPO = Path(__file__).resolve().parent.parent

TRICKY = '''\
"""Docstring."""
from __future__ import annotations
import os.path as osp, sys
from . import (a, b as c)
from .mod import *
from typing import TYPE_CHECKING

@decorator(arg=1)
@other
async def f(x: int = 1, /, *args: str, y: "T" = 2, **kw) -> list[int]:
    global g
    async with open(x) as fh, other() as (p, q):
        async for item in fh:
            if (n := len(item)) > 10 and not item.startswith("#"):
                yield [i ** 2 for i in range(n) if i % 2 for j in range(i)]
            elif item in {1, 2} or item is not None:
                del item[0], item[1:2:3]
            else:
                await g(*args, **kw, key=lambda a, *b, c=1: a)
    try:
        pass
    except* (ValueError, TypeError) as exc:
        raise RuntimeError(f"{x!r:>{width}} {y=}") from exc
    finally:
        return {k: v for k, v in kw.items()}, (yield), {*args}

class C(Base, metaclass=Meta):
    x: int = 0  # comment
    def m(self):
        match self.x:
            case [1, 2, *rest] | {"k": v, **others} if v:
                pass
            case Point(x=0, y=_) as pt:
                nonlocal_value = pt
            case _:
                assert False, "never"
        while True:
            break
        else:
            continue
        with (a as b, c):
            x = y = z = 1; x += 1; print(x, end="")
        return not -x @ y if x else ~y

type Alias[T] = list[T]
def generic[T: int, *Ts, **P](x: T) -> T: ...
'''


def _recorder_class(hook_attributes: bool = True) -> type:
    """A visitor with visit/leave hooks on every non-trivia node type (and on
    every field of those types) that records each call."""
    trivia = _trivia_types(cst)
    methods: dict[str, Any] = {}

    def make(event: str) -> Any:
        def hook(self: Any, node: Any) -> None:
            self.events.append((event, type(node).__name__))
        return hook

    for cls in _all_node_types(cst.CSTNode):
        if inspect.isabstract(cls) or cls in trivia:
            continue
        name = cls.__name__
        methods[f"visit_{name}"] = make(f"visit_{name}")
        methods[f"leave_{name}"] = make(f"leave_{name}")
        if hook_attributes:
            for field in dataclasses.fields(cls):
                methods[f"visit_{name}_{field.name}"] = make(f"visit_{name}_{field.name}")
                methods[f"leave_{name}_{field.name}"] = make(f"leave_{name}_{field.name}")
    return type("Recorder", (), methods)


def _libcst_events(tree: cst.Module, recorder_class: type) -> list[tuple[str, str]]:
    recorder = recorder_class()
    recorder.events = []

    class Adapter(cst.BatchableCSTVisitor):
        def get_visitors(self) -> dict[str, Any]:
            return {name: getattr(recorder, name) for name in dir(recorder_class) if name.startswith(("visit_", "leave_"))}

    cst.MetadataWrapper(tree, unsafe_skip_copy=True).visit_batched([Adapter()])
    return recorder.events


def _our_events(tree: cst.Module, recorder_class: type) -> list[tuple[str, str]]:
    recorder = recorder_class()
    recorder.events = []
    BatchedWalk([recorder], lambda *args: pytest.fail(f"unexpected failure {args}")).walk(tree)
    return recorder.events


def _without_none_format_spec(events: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """libcst skips the attribute hooks of FormattedStringExpression.format_spec
    when it is None (the only field it treats so); we call them. No rule hooks it."""
    return [e for e in events if not e[0].endswith("FormattedStringExpression_format_spec")]


SOURCES = [("tricky", TRICKY)] + [
    (str(path.relative_to(REPO)), path.read_text(encoding="utf-8"))
    for path in sorted((REPO / "advisor").rglob("*.py"))[:25] + sorted((REPO / "rules").glob("*.py"))[:10]
]


@pytest.mark.parametrize("name,source", SOURCES, ids=[name for name, _ in SOURCES])
def test_same_events_in_the_same_order_as_libcst(name: str, source: str):
    recorder_class = _recorder_class()
    tree = cst.parse_module(source)
    expected = _without_none_format_spec(_libcst_events(tree, recorder_class))
    actual = _without_none_format_spec(_our_events(tree, recorder_class))
    assert len(expected) > 20
    assert actual == expected


def test_a_hooked_trivia_type_is_walked():
    class Comments:
        def __init__(self) -> None:
            self.seen: list[str] = []

        def visit_Comment(self, node: cst.Comment) -> None:
            self.seen.append(node.value)

    visitor = Comments()
    BatchedWalk([visitor], lambda *a: None).walk(cst.parse_module("x = (1,  # one\n  2)  # two\n# three\n"))
    assert visitor.seen == ["# one", "# two", "# three"]


def test_a_failing_visitor_is_dropped_and_the_others_go_on():
    class Breaks:
        calls = 0

        def visit_Name(self, node: cst.Name) -> None:
            type(self).calls += 1
            if node.value == "boom":
                raise ValueError("bad name")

        def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
            raise AssertionError("must not be called after the failure")

    class Counts:
        names: list[str] = []

        def visit_Name(self, node: cst.Name) -> None:
            self.names.append(node.value)

    failures: list[tuple[Any, BaseException]] = []
    breaks, counts = Breaks(), Counts()
    tree = cst.parse_module("def f():\n    a = boom\n    b = c\n")
    BatchedWalk([breaks, counts], lambda v, exc, detail: failures.append((v, exc))).walk(tree)
    assert [(v, str(e)) for v, e in failures] == [(breaks, "bad name")]
    assert Breaks.calls == 3  # f, a, boom: nothing after the failure
    assert counts.names == ["f", "a", "boom", "b", "c"]


def test_recursion_in_a_hook_is_the_rules_failure_and_a_deep_tree_propagates():
    class Recurses:
        def visit_Name(self, node: cst.Name) -> None:
            raise RecursionError("maximum recursion depth exceeded")

    failures: list[Any] = []
    BatchedWalk([Recurses()], lambda v, exc, detail: failures.append(exc)).walk(cst.parse_module("x\n"))
    assert [type(e) for e in failures] == [RecursionError]

    import sys

    deep = cst.parse_module("x = " + "-" * 400 + "1\n")  # 400 nested UnaryOperations
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(300)
    try:
        with pytest.raises(RecursionError):
            BatchedWalk([Recurses()], lambda *a: None).walk(deep)
    finally:
        sys.setrecursionlimit(limit)
