"""When is a copy of a container made inside a loop (``set(names)``,
``list(d.keys())``, ``sorted(self.allowed)``) the same on every iteration?

loop-invariant asks this for the builtins that copy what they are given.
Perflint's check of the same shape was "99.5 % false positives", so every
answer here errs towards "no": the source must be a plain name or
attribute chain (or its ``keys()``/``values()``/``items()``) that the loop
neither rebinds, mutates, stores into nor passes to a call; not something
that is consumed once (a generator, ``iter()``, a file, a ``csv.reader``);
not a module global that some function of the module changes; and the loop
must run more than once (no unconditional ``break``/``return`` at the end
of its body). A result the loop changes, stores, yields or hands to an
unknown call is not reported either (one shared object would leak across
iterations): see ``result_escapes``.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Any

from advisor._lazy import lazy_module

from advisor.rules.support.scopes import descendants, walk
from advisor.rules.support.syntax import READ_METHODS, READ_ONLY_BUILTINS, dotted_name

if TYPE_CHECKING:
    import libcst as cst

    from advisor.rules.support.frames import Loop
else:
    cst = lazy_module("libcst")

#: Builtins that copy their (container) argument -> does the copy mutate-able?
COPIES: dict[str, bool] = {
    "builtins.set": True, "builtins.list": True, "builtins.dict": True, "builtins.sorted": True,
    "builtins.dir": True, "builtins.tuple": False, "builtins.frozenset": False,
}
#: Views of a mapping that are re-iterable and read nothing else.
VIEWS = frozenset({"keys", "values", "items"})
#: Callables (last name) whose result is an iterator: a copy of it inside the
#: loop is empty from the second iteration on, so hoisting would change it.
ITERATORS = frozenset({
    "iter", "map", "filter", "zip", "reversed", "enumerate", "islice", "chain", "groupby", "tee",
    "cycle", "count", "reader", "DictReader", "open", "scandir", "iglob", "finditer", "iterdir",
    "glob", "rglob", "walk", "imap", "imap_unordered", "as_completed", "from_iterable", "urlopen",
    "iterrows", "itertuples", "iter_lines", "iter_content", "stream", "read_csv", "fdopen",
})
_EXITS = ("Return", "Break", "Raise")


def source_of(call: "cst.Call") -> Any:
    """The container a copy reads: a name or attribute chain, seen through
    ``.keys()``/``.values()``/``.items()`` (None for any other argument)."""
    if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
        return None
    value = call.args[0].value
    if isinstance(value, cst.Call) and not value.args and isinstance(value.func, cst.Attribute) \
            and value.func.attr.value in VIEWS:
        value = value.func.value
    return value if dotted_name(value) else None


def stable_source(source: Any, loop: "Loop", function: Any, module: Any) -> bool:
    """Nothing in the loop can change ``source`` and it can be read twice."""
    dotted = dotted_name(source)
    root = dotted.split(".")[0]
    facts = loop.facts
    if root in loop.variant or root in facts.mutated or root in facts.passed or root in facts.stored:
        return False
    if function is not None and _consumed_once(root, function):
        return False
    if function is None or not _bound_in(root, function):
        return module is None or not _changed_in_module(root, module)
    return True


def runs_once(loop: "Loop") -> bool:
    """The loop body ends in an unconditional ``return``/``break``/``raise``:
    it runs at most once, so nothing in it repeats."""
    return ends_loop(getattr(loop.node, "body", None))


_RETRY = re.compile(r"retr(y|ies|ying)|attempt", re.I)


def retry_loop(loop: "Loop") -> bool:
    """``for retry in self.RetryManager():`` / ``for attempt in range(3):``: a
    retry loop runs its body once unless something fails, so nothing in it repeats."""
    target = getattr(loop.node, "target", None)
    names = [dotted_name(n) for n in (target, loop.iter) if n is not None]
    if isinstance(loop.iter, cst.Call):
        names.append(dotted_name(loop.iter.func))
        names.extend(dotted_name(a.value) for a in loop.iter.args)
    return any(_RETRY.search(name) for name in names if name)


def ends_loop(node: Any) -> bool:
    """``node`` is a ``return``/``raise`` statement, or a block (an ``if`` body,
    an ``else``) whose last statement is a ``return``, ``raise`` or ``break``:
    what runs in it runs at most once per loop."""
    if type(node).__name__ in ("Return", "Raise"):
        return True
    block = node if isinstance(node, (cst.IndentedBlock, cst.SimpleStatementSuite)) else getattr(node, "body", None)
    statements = getattr(block, "body", ())
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return any(type(s).__name__ in _EXITS for s in last.body)
    return type(last).__name__ in _EXITS


def first_item_guard(test: Any, targets: set[str]) -> bool:
    """``if i == 0:`` / ``if index == len(xs) - 1:``: a branch on the loop
    counter equal to one value runs once."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, (cst.Equal, cst.Is)):
        return False
    sides = (test.left, target.comparator)
    return any(isinstance(s, cst.Name) and s.value in targets for s in sides)


def result_escapes(name: str, loop: "Loop") -> bool:
    """The loop uses ``name`` (a copy it made) other than by reading it:
    passed to a call that is not a read-only builtin, stored, returned,
    yielded, put in a display, or a method other than a read is called on it."""
    for node, ancestors in walk(loop.node.body):
        if isinstance(node, cst.Name) and node.value == name and ancestors and not _read_use(node, ancestors):
            parent = ancestors[-1]
            if not (isinstance(parent, cst.Attribute) and parent.attr is node) and not isinstance(parent, cst.Arg):
                return True
            if isinstance(parent, cst.Arg) and parent.value is node:
                return True
    return False


def _read_use(node: Any, ancestors: tuple[Any, ...]) -> bool:
    stores = (cst.AssignTarget, cst.Del, cst.AugAssign)
    parent = ancestors[-1]
    grand = ancestors[-2] if len(ancestors) > 1 else None
    if isinstance(parent, cst.AssignTarget):
        return True  # the assignment that makes it (a rebinding is checked by the caller)
    if isinstance(parent, (cst.ComparisonTarget, cst.Comparison)):
        return True
    if isinstance(parent, (cst.For, cst.CompFor)):
        return parent.iter is node
    if isinstance(parent, cst.Subscript) and parent.value is node:
        return not isinstance(grand, stores)
    if isinstance(parent, cst.Attribute) and parent.value is node:
        if isinstance(grand, cst.Call) and grand.func is parent:
            return parent.attr.value in READ_METHODS
        great = ancestors[-3] if len(ancestors) > 2 else None
        return not isinstance(grand, stores) and not (isinstance(grand, cst.Subscript) and isinstance(great, stores))
    if isinstance(parent, cst.Arg) and isinstance(grand, cst.Call):
        return dotted_name(grand.func) in READ_ONLY_BUILTINS
    return isinstance(parent, (cst.If, cst.While, cst.BooleanOperation, cst.UnaryOperation, cst.IfExp,
                               cst.FormattedStringExpression))


def assigned_values(name: str, scope: Any) -> list[Any]:
    """Values assigned to ``name`` in ``scope`` (a ``with ... as`` or ``for``
    target counts as an unknown value, None)."""
    found: list[Any] = []
    for node in descendants(scope):
        kind = type(node)
        if kind is cst.Assign:
            if any(isinstance(t.target, cst.Name) and t.target.value == name for t in node.targets):
                found.append(node.value)
        elif kind is cst.AnnAssign or kind is cst.NamedExpr:
            if isinstance(node.target, cst.Name) and node.target.value == name:
                found.append(node.value)
        elif kind is cst.WithItem:
            if node.asname is not None and dotted_name(node.asname.name) == name:
                found.append(node.item)
    return found


def _bound_in(name: str, function: Any) -> bool:
    params = function.params
    every = (*params.posonly_params, *params.params, *params.kwonly_params)
    return any(p.name.value == name for p in every) or bool(assigned_values(name, function.body))


def _consumed_once(name: str, function: Any) -> bool:
    """``name`` is bound to an iterator (a generator expression, ``iter()``, a file, ...)."""
    for value in assigned_values(name, function.body):
        if isinstance(value, cst.GeneratorExp):
            return True
        if isinstance(value, cst.Call):
            callee = value.func
            last = callee.attr.value if isinstance(callee, cst.Attribute) else dotted_name(callee)
            if last in ITERATORS:
                return True
    return False


def _changed_in_module(name: str, module: Any) -> bool:
    """A global that some code of the module rebinds (``global``), mutates or stores into."""
    for node in descendants(module):
        kind = type(node)
        if kind is cst.Global and any(n.name.value == name for n in node.names):
            return True
        if kind is cst.Call and isinstance(node.func, cst.Attribute) and node.func.attr.value not in READ_METHODS:
            if dotted_name(node.func.value).split(".")[0] == name:
                return True
        if kind is cst.AssignTarget or kind is cst.AugAssign or kind is cst.Del:
            target = node.target
            if isinstance(target, (cst.Subscript, cst.Attribute)) and dotted_name(_root(target)) == name:
                return True
    return False


def _root(node: Any) -> Any:
    while isinstance(node, (cst.Subscript, cst.Attribute)):
        node = node.value
    return node


_AST_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_AST_COMPS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_AST_FRAMES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def may_copy_in_loop(tree: ast.AST, names: frozenset[str]) -> bool:
    """The first pass's question (CPython ``ast``, no libcst): is some
    ``set(x)``-style call, by one of ``names``, with one positional argument
    that ``source_of`` accepts, made in the per-item part of a loop (a body,
    a comprehension's element, conditions or inner clauses; a nested
    ``def``/``class``/``lambda`` starts afresh)? A necessary condition of
    loop-invariant reporting a copy, so files whose loops only iterate
    ``sorted(d)`` in their header are not parsed with libcst for it."""
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, in_loop = stack.pop()
        if in_loop and type(node) is ast.Call and _copy_call(node, names):
            return True
        for child, child_in_loop in _children(node, in_loop):
            stack.append((child, child_in_loop))
    return False


def _children(node: ast.AST, in_loop: bool) -> list[tuple[ast.AST, bool]]:
    kind = type(node)
    if kind in _AST_FRAMES:
        return [(c, False) for c in ast.iter_child_nodes(node)]
    if kind in _AST_LOOPS:
        body = set(map(id, node.body))  # type: ignore[attr-defined]
        return [(c, in_loop or id(c) in body) for c in ast.iter_child_nodes(node)]
    if kind in _AST_COMPS:
        first = node.generators[0].iter  # type: ignore[attr-defined]
        return [(c, in_loop or c is not first) for c in _comp_parts(node)]
    return [(c, in_loop) for c in ast.iter_child_nodes(node)]


def _comp_parts(node: Any) -> list[ast.AST]:
    parts: list[ast.AST] = [node.key, node.value] if type(node) is ast.DictComp else [node.elt]
    for generator in node.generators:
        parts.extend([generator.target, generator.iter, *generator.ifs])
    return parts


def _copy_call(node: ast.Call, names: frozenset[str]) -> bool:
    func = node.func
    if type(func) is not ast.Name or func.id not in names or len(node.args) != 1 or node.keywords:
        return False
    value = node.args[0]
    if type(value) is ast.Call and not value.args and type(value.func) is ast.Attribute \
            and value.func.attr in ("keys", "values", "items"):
        value = value.func.value
    while type(value) is ast.Attribute:
        value = value.value
    return type(value) is ast.Name
