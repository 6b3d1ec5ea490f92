"""Rule quadratic-membership: `x in L` on an unchanging list inside a loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from advisor._lazy import lazy_module
from advisor.rule import FileContext, Invalid, Rule, Valid
from advisor.rules.support.scopes import Binding, Scope, ScopeRecorder, call_name, small_literal_loop, walk

if TYPE_CHECKING:
    import libcst as cst

    from advisor.first_pass import FirstPass
else:
    cst = lazy_module("libcst")

#: Functions that only read the list passed to them.
_READERS = frozenset({
    "len", "sorted", "set", "frozenset", "tuple", "list", "enumerate", "min", "max", "any", "all",
    "sum", "zip", "reversed", "str", "repr", "isinstance", "iter", "bool", "print", "dict",
})
_SEARCHES = {"index": "`{name}.index()`", "count": "`{name}.count()`"}
_UNHASHABLE = ("List", "Dict", "Set", "ListComp", "DictComp", "SetComp")


@dataclass(frozen=True)
class QuadraticMembershipOptions:
    #: A list literal of constants shorter than this is too small to matter.
    min_literal_items: int = 8


class QuadraticMembership(Rule):
    """Test membership in a set, not a list, inside a loop.

    ## What it does
    Finds `x in items`, `x not in items`, `items.index(x)` and
    `items.count(x)` inside a loop or comprehension when `items` is a local
    (or module-level) list, built by a list display, a comprehension,
    `list()` or `sorted()`, that nothing in the loop changes.

    ## Why it matters
    Membership in a list compares against every element: a loop of n items
    testing against a list of m items does n·m comparisons. With 10,000 of
    each that is 10⁸ comparisons (seconds); against a set it is 10,000 hash
    lookups (about a millisecond).

    ## Example
    ```python
    def active(users, banned_rows):
        banned = [row.user_id for row in banned_rows]
        return [u for u in users if u.id not in banned]
    ```

    ## Use instead
    ```python
    def active(users, banned_rows):
        banned = {row.user_id for row in banned_rows}
        return [u for u in users if u.id not in banned]
    ```
    For `.index()`, build `{value: i for i, value in enumerate(items)}`
    once (keep the first index of duplicates); for `.count()`, use
    `collections.Counter(items)`.

    ## Fix safety
    No automatic fix: a set needs hashable elements, and the list may be
    used elsewhere for its order or duplicates. This is a suggestion.

    ## Known limits
    Elements must be hashable for a set: the rule stays silent when the list
    visibly holds lists, dicts or sets, but cannot see the type of elements
    produced by a call. Parameters (whose type is unknown), attributes,
    tuples, strings and short constant list literals are not reported, nor
    lists that are passed to a function, aliased or changed inside the loop
    (the "seen" list of a de-duplication loop). Membership tests in loops
    over a few literal items are skipped.

    ## Options
    `min-literal-items` (default 8): the smallest list literal of constants
    worth a report.
    """

    id = "quadratic-membership"
    message = "{what} scans the list `{name}` on every iteration: {advice}"
    kind = "runtime"
    fix = "none"
    Options = QuadraticMembershipOptions
    shared = (ScopeRecorder,)

    VALID = [
        Valid("def f(xs):\n    ok = {'a', 'b'}\n    return [x for x in xs if x in ok]\n", why="set-membership"),
        Valid("def f(xs):\n    seen = []\n    for x in xs:\n        if x not in seen:\n            seen.append(x)\n    return seen\n", why="list-mutated-in-the-loop"),
        Valid("def f(xs, allowed):\n    return [x for x in xs if x in allowed]\n", why="parameter-of-unknown-type"),
        Valid("def f(xs):\n    for x in xs:\n        if x in ['a', 'b', 'c']:\n            return x\n", why="inline-literal-of-few-items"),
        Valid("def f(xs):\n    names = ['a', 'b', 'c']\n    return [x for x in xs if x in names]\n", why="short-constant-list"),
        Valid("def f(xs):\n    rows = [[1], [2]] + [list(x) for x in xs]\n    return [r for r in xs if r in rows]\n", why="binary-operation-of-unknown-type"),
        Valid("def f(xs):\n    rows = [[x] for x in xs]\n    return [y for y in xs if [y] in rows]\n", why="unhashable-elements"),
        Valid("def f(xs, ys):\n    found = list(ys)\n    for x in xs:\n        if x in found:\n            update(found)\n", why="list-passed-to-a-function-in-the-loop"),
        Valid("def f(text):\n    words = text.split()\n    return [w for w in words if w in 'aeiou']\n", why="substring-test-on-a-str"),
        Valid("def f(xs):\n    keys = list(xs)\n    if 'a' in keys:\n        return keys\n", why="not-in-a-loop"),
        Valid("def f(xs):\n    order = sorted(xs)\n    for key in ('a', 'b'):\n        if key in order:\n            return key\n", why="loop-over-a-few-literal-items"),
        Valid("def f(xs):\n    order = list(xs)\n    for x in xs:\n        order[0] = x\n        if x in order:\n            return x\n", why="item-assigned-in-the-loop"),
        Valid("def f(pairs, rows):\n    seen = [(r.sql, r.params) for r in rows]\n    return [p for p, q in pairs if (p, q) not in seen]\n", why="tuple-probe-of-unknown-hashability"),
        Valid("def f(self, lines):\n    names = [self.name, self.alias]\n    for line in lines:\n        if line.word not in names:\n            break\n", why="short-list-display-of-names"),
    ]
    INVALID = [
        Invalid("def active(users, rows):\n    banned = [r.user_id for r in rows]\n    return [u for u in users if u.id not in banned]\n", why="comprehension-filter", line=3, message="set(banned)"),
        Invalid("def f(xs, ys):\n    order = list(ys)\n    for x in xs:\n        if x in order:\n            print(x)\n", why="for-loop-membership", line=4),
        Invalid("def f(xs, ys):\n    order = sorted(ys)\n    return [order.index(x) for x in xs]\n", why="index-in-a-comprehension", line=3, message="enumerate"),
        Invalid("def f(xs, ys):\n    pool = [y.key for y in ys]\n    total = 0\n    for x in xs:\n        total += pool.count(x)\n    return total\n", why="count-in-a-loop", line=5, message="Counter"),
        Invalid("KNOWN = [\n    'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i',\n]\n\ndef f(xs):\n    return [x for x in xs if x in KNOWN]\n", why="long-module-level-literal", line=6),
        Invalid("def f(xs, ys):\n    keep = []\n    for y in ys:\n        keep.append(y)\n    for x in xs:\n        if x not in keep:\n            yield x\n", why="list-built-before-the-loop", line=6),
    ]

    @classmethod
    def may_report(cls, first_pass: "FirstPass", context: FileContext, options: QuadraticMembershipOptions) -> bool:
        """Only ``in x`` / ``x.index()`` / ``x.count()`` in a loop, where every
        binding of ``x`` builds a list (so at least one does)."""
        return not first_pass.searched_in_loop.isdisjoint(first_pass.list_built)

    def finish(self) -> None:
        scope = self.shared_state(ScopeRecorder).module
        if scope is not None:
            self._check_scope(scope, scope)
            for child in _descendants(scope):
                self._check_scope(child, scope)

    def _check_scope(self, scope: Scope, module: Scope) -> None:
        for node, loops in scope.comparisons:
            if loops:
                for target in node.comparisons:
                    if isinstance(target.operator, (cst.In, cst.NotIn)) and isinstance(target.comparator, cst.Name):
                        what = f"`{'not in' if isinstance(target.operator, cst.NotIn) else 'in'} {target.comparator.value}`"
                        self._consider(node, target.comparator.value, node.left, loops, scope, module, what, "set")
        for call, loops in scope.calls:
            func = call.func
            if loops and isinstance(func, cst.Attribute) and func.attr.value in _SEARCHES and isinstance(func.value, cst.Name):
                name = func.value.value
                probe = call.args[0].value if call.args else None
                what = _SEARCHES[func.attr.value].format(name=name)
                self._consider(call, name, probe, loops, scope, module, what, func.attr.value)

    def _consider(self, node: Any, name: str, probe: Any, loops: tuple[Any, ...], scope: Scope,
                  module: Scope, what: str, advice: str) -> None:
        owner = _owner(name, scope, module)
        if owner is None or name in owner.escaped:
            return
        bindings = owner.bindings[name]
        if not self._is_list(bindings, _grown(owner, name)):
            return
        if isinstance(probe, (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)):
            return  # unhashable probe
        if isinstance(probe, cst.Tuple) and not all(_literal(e.value) for e in probe.elements):
            return  # a tuple of values of unknown type: a set of such tuples may not be buildable
        loop = loops[-1]
        if small_literal_loop(loop) or _changed_in(loop, name):
            return
        if owner is not scope and (owner.kind != "module" or not _module_list_is_stable(module, name)):
            return
        if owner is scope and any(b.loops and loop in b.loops for b in bindings):
            return  # rebound inside the loop
        self.report(node, what=what, name=name, advice=_advice(advice, name))

    def _is_list(self, bindings: list[Binding], grown: bool) -> bool:
        """Every binding visibly builds a list whose size is not a small constant
        (a short list display counts as constant unless something grows it)."""
        sizes = []
        for binding in bindings:
            if binding.kind not in ("assign", "annassign"):
                return False
            value = binding.value
            if isinstance(value, cst.ListComp):
                if type(value.elt).__name__ in _UNHASHABLE:
                    return False
                sizes.append(None)
            elif isinstance(value, cst.List):
                if any(type(e.value).__name__ in _UNHASHABLE or isinstance(e, cst.StarredElement) for e in value.elements):
                    return False
                sizes.append(None if grown or not value.elements else len(value.elements))
            elif isinstance(value, cst.Call) and call_name(value) in ("list", "sorted") and value.args:
                sizes.append(None)
            else:
                return False
        small = self.options.min_literal_items
        return bool(sizes) and not all(s is not None and s < small for s in sizes)


def _advice(kind: str, name: str) -> str:
    if kind == "index":
        return f"build `{{v: i for i, v in enumerate({name})}}` once before the loop (first index wins: iterate reversed)"
    if kind == "count":
        return f"count once with `collections.Counter({name})` before the loop"
    return f"build `set({name})` once before the loop (elements must be hashable)"


_GROWERS = frozenset({"append", "extend", "insert", "__iadd__"})


def _grown(scope: Scope, name: str) -> bool:
    """Does the scope grow the list ``name`` by a method call?"""
    for call, _ in scope.calls:
        func = call.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == name:
            if func.attr.value in _GROWERS:
                return True
    return False


def _literal(node: Any) -> bool:
    return isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float)) or (
        isinstance(node, cst.Name) and node.value in ("None", "True", "False"))


def _descendants(scope: Scope) -> Iterator[Scope]:
    for child in scope.children:
        yield child
        yield from _descendants(child)


def _owner(name: str, scope: Scope, module: Scope) -> Scope | None:
    """The function scope binding ``name``, or the module for a global."""
    current: Scope | None = scope
    while current is not None:
        if name in current.bindings and name not in current.declared:
            return current if current.kind in ("function", "module") else None
        if current.kind == "class" and current is not scope:
            pass  # class bodies are not enclosing scopes for names
        current = current.parent
    return None


def _changed_in(loop: Any, name: str) -> bool:
    """Any use of ``name`` in ``loop`` other than a read that cannot change it."""
    for node, ancestors in walk(loop):
        if isinstance(node, cst.Name) and node.value == name and ancestors and not _read_only_use(node, ancestors):
            return True
    return False


def _read_only_use(node: Any, ancestors: tuple[Any, ...]) -> bool:
    parent = ancestors[-1]
    grand = ancestors[-2] if len(ancestors) > 1 else None
    if isinstance(parent, cst.ComparisonTarget):
        return parent.comparator is node
    if isinstance(parent, cst.Attribute) and parent.value is node:
        return parent.attr.value in ("index", "count", "copy") and isinstance(grand, cst.Call)
    if isinstance(parent, cst.Subscript) and parent.value is node:
        great = ancestors[-3] if len(ancestors) > 2 else None
        return not isinstance(grand, (cst.AssignTarget, cst.AugAssign, cst.Del)) and not (
            isinstance(great, cst.AugAssign) or isinstance(grand, (cst.Tuple, cst.List)))
    if isinstance(parent, cst.Arg) and isinstance(grand, cst.Call):
        return call_name(grand) in _READERS
    if isinstance(parent, (cst.For, cst.CompFor)):
        return parent.iter is node
    if isinstance(parent, cst.Comparison):
        return parent.left is node
    if isinstance(parent, cst.Attribute) or isinstance(parent, cst.ComparisonTarget):
        return False
    return isinstance(parent, (cst.If, cst.While, cst.BooleanOperation, cst.UnaryOperation, cst.IfExp)) and parent is not None


def _module_list_is_stable(module: Scope, name: str) -> bool:
    """A module-level list counts as unchanging when no function declares it
    ``global`` and nothing in the module uses it other than by reading."""
    for scope in _descendants(module):
        if name in scope.declared:
            return False
    for node, ancestors in walk(module.node):
        if isinstance(node, cst.Name) and node.value == name and ancestors:
            parent = ancestors[-1]
            if isinstance(parent, cst.AssignTarget) and len(module.bindings[name]) == 1:
                continue  # its one definition
            if not _read_only_use(node, ancestors):
                return False
    return True
