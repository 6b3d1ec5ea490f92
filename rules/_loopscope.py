"""Scope and loop bookkeeping shared by the loop rules (concat-in-loop,
quadratic-membership, missing-cache).

One recorder (``ScopeRecorder``, shared by the three rules through
``Rule.shared``: one instance per file) records, during the batched walk,
what each scope binds, which loops enclose each binding, call and
comparison, and whether the scope yields or awaits. Rules then read the
finished scope tree in ``finish``, so nothing walks the tree a second time
and the bookkeeping is paid once, not once per rule. Loops do not cross scope
boundaries: a ``def`` inside a loop starts with no loops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

from advisor._lazy import lazy_module
from advisor.rules.support.imports import dotted_name

if TYPE_CHECKING:
    import libcst as cst
else:
    cst = lazy_module("libcst")

Loops = tuple[Any, ...]


@dataclass(eq=False)
class Binding:
    """One place a name is bound: ``kind`` says how, ``value`` what (if known)."""

    kind: str  # assign, annassign, aug, for, with, import, def, class, param, except, del, walrus, other
    value: Any
    loops: Loops
    statement: Any
    line: Any = None  #: the SimpleStatementLine holding it, if any


@dataclass(eq=False)
class Scope:
    """What one module, function, class or lambda body does, as seen in the walk."""

    node: Any
    kind: str  # module, function, class, lambda
    parent: "Scope | None"
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    declared: set[str] = field(default_factory=set)  #: global/nonlocal names
    escaped: set[str] = field(default_factory=set)  #: rebound by a nested scope
    calls: list[tuple[Any, Loops]] = field(default_factory=list)
    comparisons: list[tuple[Any, Loops]] = field(default_factory=list)
    names: list[tuple[Any, Loops]] = field(default_factory=list)
    stores: list[tuple[Any, Loops]] = field(default_factory=list)  #: attribute/subscript targets
    returns: list[Any] = field(default_factory=list)
    children: list["Scope"] = field(default_factory=list)
    generator: bool = False
    awaits: bool = False
    loop_stack: list[Any] = field(default_factory=list)

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)


def target_names(node: Any) -> Iterator[str]:
    """Names bound by an assignment target (tuples unpacked)."""
    if isinstance(node, cst.Name):
        yield node.value
    elif isinstance(node, (cst.Tuple, cst.List)):
        for element in node.elements:
            yield from target_names(element.value)
    elif isinstance(node, cst.StarredElement):
        yield from target_names(node.value)


def walk(node: Any) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    """Every node under ``node`` with its ancestors (nearest last); used only on
    the few candidate subtrees a rule needs to look at again."""
    from advisor.cstnodes import children

    stack: list[tuple[Any, tuple[Any, ...]]] = [(node, ())]
    while stack:
        current, ancestors = stack.pop()
        yield current, ancestors
        inner = (*ancestors, current)
        stack.extend((child, inner) for child in reversed(children(current)))


def descendants(node: Any) -> Iterator[Any]:
    """Every node under ``node`` (itself first), in ``walk``'s order, without
    the ancestor tuples that ``walk`` builds for every node."""
    from advisor.cstnodes import children

    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def call_name(call: Any) -> str:
    """``a.b.c`` for a call of ``a.b.c(...)``; "" when the callee is not a dotted name."""
    return dotted_name(call.func if type(call) is cst.Call else call)


def small_literal_loop(loop: Any, limit: int = 5) -> bool:
    """A ``for`` over a literal of a few items or ``range(<small constant>)``."""
    if not isinstance(loop, cst.For):
        return False
    iterable = loop.iter
    if isinstance(iterable, (cst.Tuple, cst.List, cst.Set)):
        return len(iterable.elements) <= limit
    if isinstance(iterable, cst.Call) and call_name(iterable) == "range" and iterable.args:
        bound = iterable.args[-1 if len(iterable.args) < 3 else 1].value
        if len(iterable.args) <= 2 and isinstance(bound, cst.Integer):
            return int(bound.value.replace("_", ""), 0) <= limit * 2
    return False


def post_order(scope: Scope) -> Iterator[Scope]:
    """``scope`` and every scope inside it, inner ones first: the order the walk left them."""
    for child in scope.children:
        yield from post_order(child)
    yield scope


class ScopeRecorder:
    """Builds ``Scope`` records during the walk; ``module`` is the finished tree."""

    def __init__(self) -> None:
        self._scope: Scope | None = None
        self._line: Any = None
        #: ids of Name nodes that are not variable reads (attribute names, keywords, ...).
        self._skip: set[int] = set()
        #: The module's scope, once the walk has left it.
        self.module: Scope | None = None

    def release(self) -> None:
        """After the rules' ``finish``: unlink the scopes (each points at its
        parent and its children) so that the tree they hold is freed at once."""
        if self.module is not None:
            for scope in list(post_order(self.module)):
                scope.parent = None
                scope.children = []
        self.module = self._scope = None

    # -- scopes ----------------------------------------------------------------

    def _push(self, node: Any, kind: str) -> Scope:
        scope = Scope(node, kind, self._scope)
        if self._scope is not None:
            self._scope.children.append(scope)
        self._scope = scope
        return scope

    def _pop(self) -> None:
        scope = self._scope
        assert scope is not None
        self._scope = scope.parent
        if scope.parent is not None:
            declared_nonlocal = {n for n in scope.declared if n not in scope.parent.declared}
            scope.parent.escaped |= declared_nonlocal
        else:
            self.module = scope

    def _loops(self) -> Loops:
        return tuple(self._scope.loop_stack) if self._scope is not None else ()

    def _bind(self, name: str, kind: str, value: Any, statement: Any) -> None:
        if self._scope is not None:
            self._scope.bind(name, Binding(kind, value, self._loops(), statement, self._line))

    def visit_Module(self, node: "cst.Module") -> None:
        self._scope = None
        self._skip = set()
        self._push(node, "module")

    def leave_Module(self, node: "cst.Module") -> None:
        self._pop()

    # A def's decorators, defaults and annotations run in the enclosing scope,
    # once: only its body is the new scope.
    def visit_FunctionDef(self, node: "cst.FunctionDef") -> None:
        self._bind(node.name.value, "def", node, node)
        self._skip.add(id(node.name))
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params, params.star_arg, params.star_kwarg):
            if isinstance(param, cst.Param):
                self._skip.add(id(param.name))

    def visit_FunctionDef_body(self, node: "cst.FunctionDef") -> None:
        scope = self._push(node, "function")
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params, params.star_arg, params.star_kwarg):
            if isinstance(param, cst.Param):
                scope.bind(param.name.value, Binding("param", param, (), param))

    def leave_FunctionDef_body(self, node: "cst.FunctionDef") -> None:
        self._pop()

    def visit_ClassDef(self, node: "cst.ClassDef") -> None:
        self._bind(node.name.value, "class", node, node)
        self._skip.add(id(node.name))

    def visit_ClassDef_body(self, node: "cst.ClassDef") -> None:
        self._push(node, "class")

    def leave_ClassDef_body(self, node: "cst.ClassDef") -> None:
        self._pop()

    def visit_Lambda(self, node: "cst.Lambda") -> None:
        scope = self._push(node, "lambda")
        for param in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
            scope.bind(param.name.value, Binding("param", param, (), param))
            self._skip.add(id(param.name))

    def leave_Lambda(self, node: "cst.Lambda") -> None:
        self._pop()

    # -- loops -------------------------------------------------------------------

    def _enter_loop(self, node: Any) -> None:
        if self._scope is not None:
            self._scope.loop_stack.append(node)

    def _leave_loop(self, node: Any) -> None:
        if self._scope is not None and self._scope.loop_stack:
            self._scope.loop_stack.pop()

    def visit_For(self, node: "cst.For") -> None:
        if self._scope is None:
            return
        for name in target_names(node.target):
            self._scope.bind(name, Binding("for", node, (*self._loops(), node), node))

    def visit_CompFor(self, node: "cst.CompFor") -> None:
        # Comprehension variables live in the comprehension; recorded as "comp"
        # so that a rule never mistakes them for the enclosing scope's globals.
        for name in target_names(node.target):
            self._bind(name, "comp", None, node)

    visit_For_body = _enter_loop
    leave_For_body = _leave_loop
    visit_While_test = _enter_loop
    leave_While_test = _leave_loop
    visit_While_body = _enter_loop
    leave_While_body = _leave_loop
    # Comprehensions: everything but the first iterable runs once per item.
    visit_ListComp_elt = _enter_loop
    leave_ListComp_elt = _leave_loop
    visit_SetComp_elt = _enter_loop
    leave_SetComp_elt = _leave_loop
    visit_GeneratorExp_elt = _enter_loop
    leave_GeneratorExp_elt = _leave_loop
    visit_DictComp_key = _enter_loop
    leave_DictComp_key = _leave_loop
    visit_DictComp_value = _enter_loop
    leave_DictComp_value = _leave_loop
    visit_CompFor_ifs = _enter_loop
    leave_CompFor_ifs = _leave_loop
    visit_CompFor_inner_for_in = _enter_loop
    leave_CompFor_inner_for_in = _leave_loop

    # -- bindings and events -------------------------------------------------------

    def visit_SimpleStatementLine(self, node: "cst.SimpleStatementLine") -> None:
        self._line = node

    def visit_Assign(self, node: "cst.Assign") -> None:
        for target in node.targets:
            self._target(target.target, "assign", node.value, node)

    def visit_AnnAssign(self, node: "cst.AnnAssign") -> None:
        if node.value is not None:
            self._target(node.target, "annassign", node.value, node)

    def visit_AugAssign(self, node: "cst.AugAssign") -> None:
        self._target(node.target, "aug", node.value, node)

    def visit_NamedExpr(self, node: "cst.NamedExpr") -> None:
        self._target(node.target, "walrus", node.value, node)

    def visit_Del(self, node: "cst.Del") -> None:
        self._target(node.target, "del", None, node)

    def _target(self, target: Any, kind: str, value: Any, statement: Any) -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value, kind, value, statement)
        elif isinstance(target, (cst.Tuple, cst.List, cst.StarredElement)):
            for name in target_names(target):
                self._bind(name, "other", None, statement)
            for element in getattr(target, "elements", ()):
                if isinstance(element.value, (cst.Attribute, cst.Subscript)):
                    self._target(element.value, kind, None, statement)
        elif self._scope is not None:
            self._scope.stores.append((target, self._loops()))

    def visit_WithItem(self, node: "cst.WithItem") -> None:
        if node.asname is not None:
            for name in target_names(node.asname.name):
                self._bind(name, "with", node.item, node)

    def visit_ExceptHandler(self, node: "cst.ExceptHandler") -> None:
        if node.name is not None:
            for name in target_names(node.name.name):
                self._bind(name, "except", None, node)

    def visit_Import(self, node: "cst.Import") -> None:
        self._imports(node)

    def visit_ImportFrom(self, node: "cst.ImportFrom") -> None:
        self._imports(node)

    def _imports(self, node: Any) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for sub in descendants(node):
            if isinstance(sub, cst.Name):
                self._skip.add(id(sub))
        for alias in node.names:
            if alias.asname is not None:
                bound = [n for n in target_names(alias.asname.name)]
            else:
                dotted = alias.name
                while isinstance(dotted, cst.Attribute):
                    dotted = dotted.value
                bound = [dotted.value] if isinstance(dotted, cst.Name) else []
            for name in bound:
                self._bind(name, "import", node, node)

    def visit_Global(self, node: "cst.Global") -> None:
        if self._scope is not None:
            self._scope.declared.update(item.name.value for item in node.names)

    visit_Nonlocal = visit_Global

    def visit_NameItem(self, node: "cst.NameItem") -> None:
        self._skip.add(id(node.name))

    def visit_Call(self, node: "cst.Call") -> None:
        if self._scope is not None:
            self._scope.calls.append((node, self._loops()))

    def visit_Comparison(self, node: "cst.Comparison") -> None:
        if self._scope is not None:
            self._scope.comparisons.append((node, self._loops()))

    def visit_Attribute(self, node: "cst.Attribute") -> None:
        self._skip.add(id(node.attr))

    def visit_Arg(self, node: "cst.Arg") -> None:
        if node.keyword is not None:
            self._skip.add(id(node.keyword))

    def visit_Name(self, node: "cst.Name") -> None:
        if self._scope is not None and id(node) not in self._skip:
            self._scope.names.append((node, self._loops()))

    def visit_Return(self, node: "cst.Return") -> None:
        if self._scope is not None:
            self._scope.returns.append(node)

    def visit_Yield(self, node: "cst.Yield") -> None:
        if self._scope is not None:
            self._scope.generator = True

    def visit_Await(self, node: "cst.Await") -> None:
        if self._scope is not None:
            self._scope.awaits = True
