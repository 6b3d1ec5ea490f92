"""Syntax facts for the runtime rules, from plain libcst trees: what a loop
or function body binds, mutates and calls, which names an expression reads,
and short renderings of calls for messages. No metadata, no bindings.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from advisor._lazy import lazy_module
from advisor.rules.support.imports import dotted_name as dotted_name  # re-exported for the loop rules
from advisor.rule import PER_FILE_CACHES

if TYPE_CHECKING:
    import libcst as cst
else:
    cst = lazy_module("libcst")
#: The walk (and advisor.engine.walk's tables) load when a rule first scans a body:
#: listing or refining rules in the main process never needs them.
cstwalk = lazy_module("advisor.rules.support.cstwalk")

BUILTIN_NAMES = frozenset(dir(builtins))
#: Methods that only read their receiver (anything else may mutate it).
READ_METHODS = frozenset({
    "get", "keys", "items", "values", "copy", "count", "index", "format", "startswith",
    "endswith", "split", "rsplit", "strip", "lstrip", "rstrip", "lower", "upper", "join",
    "find", "rfind", "encode", "decode", "match", "search", "fullmatch", "findall",
    "finditer", "sub", "subn", "replace", "isdigit", "isalpha", "casefold", "splitlines",
    "partition", "rpartition", "hex", "is_dir", "is_file", "exists", "with_suffix",
    "with_name", "joinpath", "relative_to", "as_posix", "strftime", "isoformat", "date",
    "timestamp", "issubset", "issuperset", "intersection", "union", "difference",
})


#: Builtins that never change their arguments.
READ_ONLY_BUILTINS = frozenset({
    "sorted", "len", "print", "str", "repr", "list", "tuple", "set", "frozenset", "any", "all",
    "sum", "min", "max", "enumerate", "zip", "isinstance", "reversed", "iter", "bool", "int",
    "float", "hash", "id", "type", "format", "dict", "dir",
})
#: Methods that change a container in place.
CONTAINER_MUTATORS = frozenset({
    "append", "extend", "add", "update", "insert", "pop", "popitem", "setdefault", "remove",
    "discard", "clear", "appendleft", "popleft", "extendleft", "sort", "reverse",
})


@dataclass
class BodyFacts:
    """What a loop body (or function body) does, found by one scan."""

    #: Names (re)bound anywhere in the body.
    bound: set[str] = field(default_factory=set)
    #: Root names of attribute/subscript targets, ``del`` targets and receivers of
    #: methods not known to be read-only.
    mutated: set[str] = field(default_factory=set)
    #: Root names written into: attribute/subscript targets, ``del``, and receivers
    #: of container mutators (``append``, ``update``, ...). A subset of ``mutated``.
    stored: set[str] = field(default_factory=set)
    #: ``break`` at this loop's level, or ``return`` anywhere (not in nested defs).
    exits: bool = False
    yields: bool = False
    #: Names passed as a whole to some call (``f(x)``): the callee may change them.
    passed: set[str] = field(default_factory=set)
    #: Dotted callee names of every call in the body (``time.sleep``, ``f.write``).
    callees: list[str] = field(default_factory=list)
    #: Dotted names of ``async with`` items (``lock``, ``self.sem``).
    async_with: list[str] = field(default_factory=list)
    #: Dotted callee names (or last attribute) of the calls that are awaited (``queue.join``).
    awaited: list[str] = field(default_factory=list)

    @cached_property
    def bound_set(self) -> frozenset[str]:
        """``bound`` frozen, made once (read after the scan is complete)."""
        return frozenset(self.bound)


_SCANNER: Any = None


#: id(node) -> (node, facts): the four loop rules ask about the same bodies in
#: the same walk; one scan serves them all. Emptied after every file (see
#: advisor.rule.PER_FILE_CACHES); keeps the node alive so an id is never reused while cached.
_FACTS_CACHE: dict[int, tuple[Any, "BodyFacts"]] = {}
PER_FILE_CACHES.append(_FACTS_CACHE)


def body_facts(node: Any) -> BodyFacts:
    """Facts about the body of a loop / function node (one scan of the body, memoized)."""
    cached = _FACTS_CACHE.get(id(node))
    if cached is not None and cached[0] is node:
        return cached[1]
    if len(_FACTS_CACHE) > 20_000:
        _FACTS_CACHE.clear()
    facts = _scan_body(node)
    _FACTS_CACHE[id(node)] = (node, facts)
    return facts


def _scan_body(node: Any) -> BodyFacts:
    facts = BodyFacts()
    scanner = _scanner_class()(facts)
    parts = [node.body] if not isinstance(node, cst.CompFor) else []
    if isinstance(node, (cst.CompFor, cst.For)):
        scanner.add_target(node.target)
    for part in parts:
        cstwalk.walk(part, scanner)
    return facts


def _scanner_class() -> Any:
    global _SCANNER
    if _SCANNER is None:
        _SCANNER = _build_scanner()
    return _SCANNER


def _build_scanner() -> Any:
    class Scanner(cst.CSTVisitor):
        def __init__(self, facts: BodyFacts) -> None:
            super().__init__()
            self.facts = facts
            self.depth = 0

        def add_target(self, target: Any) -> None:
            if isinstance(target, cst.Name):
                self.facts.bound.add(target.value)
            elif isinstance(target, (cst.Tuple, cst.List)):
                for element in target.elements:
                    self.add_target(element.value)
            elif isinstance(target, cst.StarredElement):
                self.add_target(target.value)
            elif isinstance(target, (cst.Attribute, cst.Subscript)):
                root = root_name(target)
                if root:
                    self.facts.mutated.add(root)
                    self.facts.stored.add(root)

        def visit_FunctionDef(self, node: Any) -> bool:
            self.facts.bound.add(node.name.value)
            return False

        def visit_ClassDef(self, node: Any) -> bool:
            self.facts.bound.add(node.name.value)
            return False

        def visit_Lambda(self, node: Any) -> bool:
            return False

        def visit_AssignTarget(self, node: Any) -> None:
            self.add_target(node.target)

        def visit_AugAssign(self, node: Any) -> None:
            self.add_target(node.target)

        def visit_AnnAssign(self, node: Any) -> None:
            if node.value is not None:
                self.add_target(node.target)

        def visit_For(self, node: Any) -> None:
            self.add_target(node.target)
            self.depth += 1

        def leave_For(self, node: Any) -> None:
            self.depth -= 1

        def visit_While(self, node: Any) -> None:
            self.depth += 1

        def leave_While(self, node: Any) -> None:
            self.depth -= 1

        def visit_CompFor(self, node: Any) -> None:
            self.add_target(node.target)

        def visit_With(self, node: Any) -> None:
            if node.asynchronous is not None:
                for item in node.items:
                    self.facts.async_with.append(dotted_name(item.item) or dotted_name(getattr(item.item, "func", None)))

        def visit_Await(self, node: Any) -> None:
            call = node.expression
            if isinstance(call, cst.Call):
                func = call.func
                self.facts.awaited.append(dotted_name(func) or (func.attr.value if isinstance(func, cst.Attribute) else ""))

        def visit_WithItem(self, node: Any) -> None:
            if node.asname is not None:
                self.add_target(node.asname.name)

        def visit_NamedExpr(self, node: Any) -> None:
            self.add_target(node.target)

        def visit_ImportAlias(self, node: Any) -> None:
            bound = node.asname.name if node.asname else node.name
            self.facts.bound.add(dotted_name(bound).split(".")[0])

        def visit_ExceptHandler(self, node: Any) -> None:
            if node.name is not None:
                self.add_target(node.name.name)

        def visit_Del(self, node: Any) -> None:
            self.add_target(node.target)
            root = root_name(node.target)
            if root:
                self.facts.mutated.add(root)

        def visit_Global(self, node: Any) -> None:
            self.facts.bound.update(item.name.value for item in node.names)

        def visit_Nonlocal(self, node: Any) -> None:
            self.facts.bound.update(item.name.value for item in node.names)

        def visit_Break(self, node: Any) -> None:
            if self.depth == 0:
                self.facts.exits = True

        def visit_Return(self, node: Any) -> None:
            self.facts.exits = True

        def visit_Yield(self, node: Any) -> None:
            self.facts.yields = True

        def visit_Call(self, node: Any) -> None:
            name = dotted_name(node.func)
            if name not in READ_ONLY_BUILTINS:
                self.facts.passed.update(a.value.value for a in node.args if isinstance(a.value, cst.Name))
            self.facts.callees.append(name or (node.func.attr.value if isinstance(node.func, cst.Attribute) else ""))
            if isinstance(node.func, cst.Attribute) and node.func.attr.value not in READ_METHODS:
                root = _receiver_root(node.func.value)
                if root:
                    self.facts.mutated.add(root)
                    if node.func.attr.value in CONTAINER_MUTATORS:
                        self.facts.stored.add(root)

    return Scanner




def root_name(node: Any) -> str:
    """``a`` for ``a.b[c].d(e)``; "" when the chain starts with something else."""
    while True:
        if isinstance(node, cst.Name):
            return str(node.value)
        if isinstance(node, (cst.Attribute, cst.Subscript)):
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func
        else:
            return ""


def _receiver_root(node: Any) -> str:
    """Root name of a receiver chain that does not pass through a call (a temporary)."""
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        node = node.value
    return str(node.value) if isinstance(node, cst.Name) else ""


_READS: Any = None


def names_read(node: Any) -> set[str]:
    """Every variable name an expression reads (not attribute names or keywords)."""
    global _READS
    if _READS is None:
        class Reads(cst.CSTVisitor):
            def __init__(self) -> None:
                super().__init__()
                self.names: set[str] = set()

            def visit_Name(self, node: Any) -> None:
                self.names.add(node.value)

            def visit_Attribute(self, node: Any) -> bool:
                cstwalk.walk(node.value, self)
                return False

            def visit_Arg(self, node: Any) -> bool:
                cstwalk.walk(node.value, self)
                return False

        _READS = Reads
    reader = _READS()
    cstwalk.walk(node, reader)
    return reader.names  # type: ignore[no-any-return]


def comp_fors(node: Any) -> list[Any]:
    """The ``for`` clauses of a comprehension, outermost first."""
    chain, comp = [], node.for_in
    while comp is not None:
        chain.append(comp)
        comp = comp.inner_for_in
    return chain


def short_code(node: Any) -> str:
    """A compact rendering for messages: ``Book.objects.get()``, ``session.get()``."""
    if isinstance(node, cst.Name):
        return str(node.value)
    if isinstance(node, cst.Attribute):
        return f"{short_code(node.value)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return f"{short_code(node.func)}()"
    if isinstance(node, cst.Subscript):
        return f"{short_code(node.value)}[...]"
    if isinstance(node, cst.Await):
        return f"await {short_code(node.expression)}"
    return "..."
