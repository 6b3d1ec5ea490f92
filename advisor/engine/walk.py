"""One read-only walk of a libcst tree that feeds every rule at once.

libcst's ``visit_batched`` runs its transformer machinery even for read-only
visitors: every node is rebuilt on the way back up and every attribute of
every node goes through two dispatch calls. Measured on 300 corpus files,
that walk alone cost as much as parsing them. This walk calls the same hooks
in the same order (``visit_<Type>``, ``visit_<Type>_<field>``,
``leave_<Type>_<field>``, ``leave_<Type>``; return values ignored, as in a
batched visitor) but only reads fields, and it skips whitespace, comments and
punctuation unless some rule asks for them.

The field order of each node type is read once from libcst's own
``_visit_and_replace_children``, so the order is libcst's, not the
dataclass's (``@decorator`` before ``def``, ``(`` before the expression).
``tests/test_walk.py`` checks the event sequence against libcst's.
"""

from __future__ import annotations

import sys
import traceback
from typing import TYPE_CHECKING, Any, Callable, Iterable

from advisor.cstnodes import HOOKED, PLAIN_VALUES, barren_fields, field_order, trivia_types

if TYPE_CHECKING:
    from types import FrameType


class BatchedWalk:
    """Walk a tree once, calling every visitor's hooks; a visitor whose hook
    raises is reported through ``on_failure`` and dropped for the rest of the
    walk while the others go on. ``RecursionError`` propagates when the tree is
    too deep for the walk; a hook that recurses without end on a shallow tree
    is that hook's failure."""

    def __init__(self, visitors: Iterable[Any], on_failure: Callable[[Any, BaseException, str], None]) -> None:
        import libcst as cst

        self._visitors = list(visitors)
        self._on_failure = on_failure
        self._node_base = cst.CSTNode
        self._sentinel = type(cst.MaybeSentinel.DEFAULT)
        self._hooks: dict[str, list[Callable[[Any], Any]]] = {}
        self._index_hooks()
        self._skip = self._trivia(cst)
        self._plans: dict[type, tuple[Any, ...]] = {}
        self._failed: list[Any] = []

    def _index_hooks(self) -> None:
        for visitor in self._visitors:
            for name in _hook_names(type(visitor)):
                self._hooks.setdefault(name, []).append(getattr(visitor, name))

    def _trivia(self, cst: Any) -> frozenset[type]:
        """Trivia node types, or none at all when some visitor hooks one of them."""
        trivia = trivia_types(cst)
        hooked = {name.split("_")[1] for name in self._hooks}
        if any(cls.__name__ in hooked for cls in trivia):
            return PLAIN_VALUES
        return trivia | PLAIN_VALUES

    def _plan(self, node: Any) -> tuple[Any, ...]:
        """(visit hooks, field plan, leave hooks) for the type of ``node``. A
        field that can hold only trivia or plain values is left out of the
        plan when no hook asks for it and trivia is skipped anyway."""
        cls = type(node)
        name = cls.__name__
        hooks = self._hooks
        order = field_order(node)
        hooked = HOOKED[cls]
        barren = barren_fields(cls) if self._skip is not PLAIN_VALUES else frozenset()
        fields = tuple(
            (field, tuple(hooks.get(f"visit_{name}_{field}", ())), tuple(hooks.get(f"leave_{name}_{field}", ())))
            if field in hooked else (field, (), ())
            for field in order
        )
        fields = tuple(plan for plan in fields if plan[1] or plan[2] or plan[0] not in barren)
        plan = (tuple(hooks.get("visit_" + name, ())), fields, tuple(hooks.get("leave_" + name, ())))
        self._plans[cls] = plan
        return plan

    def walk(self, node: Any) -> None:
        """Visit ``node`` and its descendants (recursive: RecursionError on absurd nesting)."""
        plan = self._plans.get(type(node)) or self._plan(node)
        visits, fields, leaves = plan
        if visits:
            self._call(visits, node)
        skip, walk, sentinel = self._skip, self.walk, self._sentinel
        for field, before, after in fields:
            if before:
                self._call(before, node)
            value = getattr(node, field)
            kind = type(value)
            if kind is tuple or kind is list:
                for child in value:
                    if type(child) not in skip:
                        walk(child)
            elif value is not None and kind not in skip and kind is not sentinel:
                walk(value)
            if after:
                self._call(after, node)
        if leaves:
            self._call(leaves, node)

    def _call(self, hooks: tuple[Callable[[Any], Any], ...], node: Any) -> None:
        failed = self._failed
        for hook in hooks:
            if failed and getattr(hook, "__self__", None) in failed:
                continue
            try:
                hook(node)
            except RecursionError as exc:
                if _stack_depth() > sys.getrecursionlimit() // 2:
                    raise  # the tree is too deep for the walk itself
                self._fail(hook, exc)  # the rule recursed without end on a shallow tree
            except Exception as exc:
                self._fail(hook, exc)

    def _fail(self, hook: Callable[[Any], Any], exc: Exception) -> None:
        """Skip the hook's visitor for the rest of the walk and report it once."""
        visitor = getattr(hook, "__self__", None)
        self.drop(visitor)
        self._on_failure(visitor, exc, short_traceback(exc))

    def release(self) -> None:
        """Forget the visitors. The walk and its failure callback refer to each
        other, and that cycle would keep every rule, and through them the whole
        tree, alive until the cyclic collector traversed it all."""
        self._visitors, self._hooks, self._plans, self._failed = [], {}, {}, []
        self._on_failure = _ignore_failure

    def drop(self, visitor: Any) -> None:
        """Call none of ``visitor``'s hooks from now on (it failed, or what it reads did)."""
        if visitor not in self._failed:
            self._failed.append(visitor)


def _ignore_failure(visitor: Any, exc: BaseException, detail: str) -> None:
    """The failure callback of a released walk."""


_HOOK_NAMES: dict[type, tuple[str, ...]] = {}


def _hook_names(cls: type) -> tuple[str, ...]:
    """The ``visit_``/``leave_`` attributes of a visitor class (``dir()`` is slow: once per class)."""
    names = _HOOK_NAMES.get(cls)
    if names is None:
        names = _HOOK_NAMES[cls] = tuple(n for n in dir(cls) if n.startswith(("visit_", "leave_")))
    return names


def short_traceback(exc: BaseException) -> str:
    """The last frames of a rule's failure, for ``--verbose``."""
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-4))


def _stack_depth() -> int:
    frame: FrameType | None = sys._getframe(1)
    depth = 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


