"""Loops, frames and name bindings shared by the runtime rules (n-plus-one,
loop-invariant, sequential-await, blocking-in-async).

Answers, during the one batched walk and without scope metadata (which
costs about five times the parse): does this node run once per loop item,
which names change from one iteration to the next, and what does a name
refer to (through imports, simple assignments, ``with ... as`` and
parameter annotations)? Anything it cannot tell resolves to "" (unknown),
which the rules treat as "stay silent".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from advisor._lazy import lazy_module

from advisor.rules.support.round_trips import attribute_symbol, call_symbol, is_model_symbol
from advisor.rules.support.syntax import (
    BUILTIN_NAMES, READ_METHODS, BodyFacts, body_facts, comp_fors, dotted_name, names_read, root_name, short_code,
)

if TYPE_CHECKING:
    import libcst as cst
else:
    cst = lazy_module("libcst")

__all__ = ["READ_METHODS", "BodyFacts", "Frame", "FrameTracker", "Loop", "LoopWalkMixin", "names_read", "root_name", "short_code"]


class Loop:
    """One loop whose body is being walked.

    Its body facts are scanned on first use: most loops never hold a call a
    rule asks about, and a scan per loop per file was a fifth of the rules' time.
    """

    __slots__ = ("node", "kind", "iter", "_facts")

    def __init__(self, node: Any, kind: str, iter: Any = None) -> None:
        self.node = node
        #: "for", "async-for", "while" or "comprehension".
        self.kind = kind
        #: The iterated expression (None for ``while``).
        self.iter = iter
        self._facts: BodyFacts | None = None

    @property
    def facts(self) -> BodyFacts:
        if self._facts is None:
            self._facts = body_facts(self.node)
        return self._facts

    @property
    def variant(self) -> frozenset[str]:
        """Names that may differ between iterations: targets plus names bound in the body."""
        return self.facts.bound_set

    @property
    def literal_iter(self) -> bool:
        """Iterates a literal collection: a fixed, usually tiny, count."""
        return isinstance(self.iter, (cst.List, cst.Tuple, cst.Set, cst.Dict))


@dataclass
class Frame:
    """A module, class, function or lambda body: its own loops and names."""

    node: Any
    kind: str  # "module" | "class" | "function" | "lambda"
    is_async: bool = False
    loops: list[Loop] = field(default_factory=list)
    bindings: dict[str, str] = field(default_factory=dict)
    #: For methods: the class frame (``self.x`` lookups) and the name of ``self``.
    owner: "Frame | None" = None
    self_name: str = ""

    @property
    def facts(self) -> BodyFacts | None:
        """Facts about a function's body, scanned on first use (None for other frames)."""
        return body_facts(self.node) if self.kind == "function" else None


class FrameTracker:
    """Visitor hooks that keep ``frames`` (frames, loops, bindings) current.

    One instance per file is shared by every loop rule (see ``Rule.shared``):
    its hooks run before the rules' own, so a rule's ``visit_For`` already
    sees the loop target bound. ``extra_factories`` teaches the resolver
    more constructors (n-plus-one's ``extra-round-trips``); rules with
    different factories get different trackers (``with_factories``).
    """

    extra_factories: dict[str, str] = {}

    def __init__(self) -> None:
        self.frames: list[Frame] = [Frame(None, "module")]
        #: Names bound by import statements (modules and their members, not state).
        self.imported: set[str] = set()
        self._comp_stack: list[list[Any]] = []

    @classmethod
    def with_factories(cls, factories: dict[str, str]) -> type["FrameTracker"]:
        """A tracker class that also knows ``factories`` (this one if there are none)."""
        if not factories:
            return cls
        key = tuple(sorted(factories.items()))
        variant = _TRACKERS.get(key)
        if variant is None:
            variant = _TRACKERS[key] = type("FrameTracker", (cls,), {"extra_factories": dict(factories)})
        return variant

    # -- questions rules ask -------------------------------------------------

    @property
    def frame(self) -> Frame:
        return self.frames[-1]

    def active_loops(self) -> list[Loop]:
        """Loops of the current function whose per-item part we are in."""
        return self.frames[-1].loops

    def resolve(self, node: Any) -> str:
        """What an expression refers to: "requests.get", "requests.Session()", or ""."""
        if isinstance(node, cst.Name):
            return self.lookup(node.value)
        if isinstance(node, cst.Attribute):
            if isinstance(node.value, cst.Name) and node.value.value == self._self_name():
                owner = self.frame_owner()
                return owner.bindings.get(node.attr.value, "") if owner else ""
            base = self.resolve(node.value)
            return attribute_symbol(base, node.attr.value) if base else ""
        if isinstance(node, cst.Call):
            func = self.resolve(node.func)
            return call_symbol(func, self.extra_factories) if func else ""
        if isinstance(node, cst.Await):  # ``conn = await asyncpg.connect(dsn)``
            return self.resolve(node.expression)
        return ""

    def lookup(self, name: str) -> str:
        """A name's symbol, searched the way Python does (class bodies skipped)."""
        for index in range(len(self.frames) - 1, -1, -1):
            frame = self.frames[index]
            if frame.kind == "class" and index != len(self.frames) - 1:
                continue
            if name in frame.bindings:
                return frame.bindings[name]
        return f"builtins.{name}" if name in BUILTIN_NAMES else ""

    def frame_owner(self) -> Frame | None:
        for frame in reversed(self.frames):
            if frame.kind == "function":
                return frame.owner
        return None

    def _self_name(self) -> str:
        for frame in reversed(self.frames):
            if frame.kind == "function":
                return frame.self_name
        return ""

    def bind(self, target: Any, symbol: str) -> None:
        """Record an assignment to a name (or ``self.attr``) in the current frame."""
        if isinstance(target, cst.Name):
            self.frames[-1].bindings[target.value] = symbol
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.bind(element.value, "")
        elif isinstance(target, cst.StarredElement):
            self.bind(target.value, "")
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            owner = self.frame_owner()
            if owner is not None and target.value.value == self._self_name():
                old = owner.bindings.get(target.attr.value)
                owner.bindings[target.attr.value] = symbol if old in (None, symbol) else ""

    # -- bindings ----------------------------------------------------------------

    def visit_Import(self, node: "cst.Import") -> None:
        for alias in node.names:
            module = dotted_name(alias.name)
            if alias.asname is not None:
                self.bind(alias.asname.name, module)
                self.imported.add(dotted_name(alias.asname.name))
            else:
                top = module.split(".")[0]
                self.frames[-1].bindings[top] = top
                self.imported.add(top)

    def visit_ImportFrom(self, node: "cst.ImportFrom") -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        module = "." * len(node.relative) + (dotted_name(node.module) if node.module is not None else "")
        for alias in node.names:
            name = dotted_name(alias.name)
            target = alias.asname.name if alias.asname is not None else cst.Name(name)
            self.imported.add(dotted_name(target))
            self.bind(target, f"{module}.{name}" if not module.endswith(".") else f"{module}{name}")

    def visit_Assign(self, node: "cst.Assign") -> None:
        symbol = self.resolve(node.value)
        for target in node.targets:
            self.bind(target.target, symbol)

    def visit_AnnAssign(self, node: "cst.AnnAssign") -> None:
        if node.value is not None:
            self.bind(node.target, self.resolve(node.value) or self._annotation_symbol(node.annotation))

    def visit_AugAssign(self, node: "cst.AugAssign") -> None:
        self.bind(node.target, "")

    def visit_NamedExpr(self, node: "cst.NamedExpr") -> None:
        self.bind(node.target, self.resolve(node.value))

    def visit_WithItem(self, node: "cst.WithItem") -> None:
        if node.asname is not None:
            self.bind(node.asname.name, self.resolve(node.item))

    def _annotation_symbol(self, annotation: Any) -> str:
        kind = self.resolve(annotation.annotation)
        return call_symbol(kind, self.extra_factories) if kind else ""

    # -- frames ------------------------------------------------------------------

    def visit_ClassDef(self, node: "cst.ClassDef") -> None:
        bases = [self.resolve(arg.value) for arg in node.bases if arg.keyword is None]
        is_model = any(b == "django.db.models.Model" or is_model_symbol(b) for b in bases)
        self.frames[-1].bindings[node.name.value] = f"django.model:{node.name.value}" if is_model else ""
        self.frames.append(Frame(node, "class"))

    def leave_ClassDef(self, original_node: "cst.ClassDef") -> None:
        self.frames.pop()

    def visit_FunctionDef(self, node: "cst.FunctionDef") -> None:
        enclosing = self.frames[-1]
        enclosing.bindings[node.name.value] = ""
        frame = Frame(node, "function", is_async=node.asynchronous is not None)
        params = node.params
        positional = [*params.posonly_params, *params.params]
        if enclosing.kind == "class" and positional and not _is_static(node):
            frame.owner, frame.self_name = enclosing, positional[0].name.value
        for param in (*positional, *params.kwonly_params):
            symbol = self._annotation_symbol(param.annotation) if param.annotation is not None else ""
            frame.bindings[param.name.value] = symbol
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                frame.bindings[star.name.value] = ""
        if frame.self_name:
            frame.bindings[frame.self_name] = ""
        self.frames.append(frame)

    def leave_FunctionDef(self, original_node: "cst.FunctionDef") -> None:
        self.frames.pop()

    def visit_Lambda(self, node: "cst.Lambda") -> None:
        frame = Frame(node, "lambda")
        for param in node.params.params:
            frame.bindings[param.name.value] = ""
        self.frames.append(frame)

    def leave_Lambda(self, original_node: "cst.Lambda") -> None:
        self.frames.pop()

    # -- loops -------------------------------------------------------------------

    def visit_For(self, node: "cst.For") -> None:
        self.bind(node.target, self.resolve_row(node.iter))

    def resolve_row(self, iterable: Any) -> str:
        """Symbol of one item of ``iterable`` (a Django row of a queryset, else "")."""
        symbol = self.resolve(iterable)
        if symbol.startswith("django.qs:"):
            return "django.row:" + symbol.removeprefix("django.qs:")
        return ""

    def visit_For_body(self, node: "cst.For") -> None:
        kind = "async-for" if node.asynchronous is not None else "for"
        self.frames[-1].loops.append(Loop(node, kind, node.iter))

    def leave_For_body(self, node: "cst.For") -> None:
        self.frames[-1].loops.pop()

    def visit_While_body(self, node: "cst.While") -> None:
        self.frames[-1].loops.append(Loop(node, "while"))

    def leave_While_body(self, node: "cst.While") -> None:
        self.frames[-1].loops.pop()

    # Comprehensions: the outermost iterable runs once; everything else per item.
    def _enter_comp(self, node: Any) -> None:
        chain = comp_fors(node)
        for comp in chain:  # the element is visited before the clauses that bind its names
            self.bind(comp.target, self.resolve_row(comp.iter))
        self._comp_stack.append(chain)

    def _leave_comp(self, node: Any) -> None:
        self._comp_stack.pop()

    def _push_comp_loops(self, comps: list[Any]) -> None:
        for comp in comps:
            self.frames[-1].loops.append(Loop(comp, "comprehension", comp.iter))

    def _pop_comp_loops(self, count: int) -> None:
        del self.frames[-1].loops[len(self.frames[-1].loops) - count:]

    def _enter_elt(self, node: Any) -> None:
        self._push_comp_loops(self._comp_stack[-1] if self._comp_stack else [])

    def _leave_elt(self, node: Any) -> None:
        self._pop_comp_loops(len(self._comp_stack[-1]) if self._comp_stack else 0)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _enter_comp
    leave_ListComp = leave_SetComp = leave_GeneratorExp = leave_DictComp = _leave_comp
    visit_ListComp_elt = visit_SetComp_elt = visit_GeneratorExp_elt = _enter_elt
    leave_ListComp_elt = leave_SetComp_elt = leave_GeneratorExp_elt = _leave_elt
    visit_DictComp_key = visit_DictComp_value = _enter_elt
    leave_DictComp_key = leave_DictComp_value = _leave_elt

    # An outer clause's loop is already pushed when an inner clause runs.
    def visit_CompFor_ifs(self, node: "cst.CompFor") -> None:
        self._push_comp_loops([node])

    def leave_CompFor_ifs(self, node: "cst.CompFor") -> None:
        self._pop_comp_loops(1)

    def visit_CompFor_inner_for_in(self, node: "cst.CompFor") -> None:
        self._push_comp_loops([node])

    def leave_CompFor_inner_for_in(self, node: "cst.CompFor") -> None:
        self._pop_comp_loops(1)


_TRACKERS: dict[tuple[tuple[str, str], ...], type[FrameTracker]] = {}


class LoopWalkMixin:
    """What a loop rule asks about the place it is at, answered by the file's
    shared ``FrameTracker``. Call ``init_walk()`` in ``__init__`` after setting
    ``extra_factories``."""

    extra_factories: dict[str, str] = {}
    shared: tuple[type, ...] = (FrameTracker,)

    def init_walk(self) -> None:
        self._tracker_class = FrameTracker.with_factories(self.extra_factories)
        self.shared = (self._tracker_class,)

    @staticmethod
    def runs_on(context: Any, options: Any) -> bool:
        """Test files are looked at only with the rule's ``include-tests`` option."""
        return bool(options.include_tests or not context.is_test)

    @property
    def tracker(self) -> FrameTracker:
        return self.shared_state(self._tracker_class)  # type: ignore[attr-defined,no-any-return]

    @property
    def frames(self) -> list[Frame]:
        return self.tracker.frames

    @property
    def frame(self) -> Frame:
        return self.tracker.frames[-1]

    @property
    def imported(self) -> set[str]:
        return self.tracker.imported

    def active_loops(self) -> list[Loop]:
        """Loops of the current function whose per-item part we are in."""
        return self.tracker.frames[-1].loops

    def resolve(self, node: Any) -> str:
        """What an expression refers to: "requests.get", "requests.Session()", or ""."""
        return self.tracker.resolve(node)

    def resolve_row(self, iterable: Any) -> str:
        """Symbol of one item of ``iterable`` (a Django row of a queryset, else "")."""
        return self.tracker.resolve_row(iterable)

    def lookup(self, name: str) -> str:
        """A name's symbol, searched the way Python does (class bodies skipped)."""
        return self.tracker.lookup(name)


def _is_static(node: Any) -> bool:
    return any(dotted_name(d.decorator) in ("staticmethod", "classmethod") for d in node.decorators)
