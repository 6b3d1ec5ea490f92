"""Rule quadratic-membership: `x in L` on an unchanging list inside a loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from advisor._lazy import lazy_module
from advisor.rule import FileContext, Invalid, Rule, Valid
from advisor.rules.support.scopes import Binding, Scope, ScopeRecorder, call_name, small_literal_loop, walk
from advisor.rules.support.membership import (
    appends_unhashable, copies_unhashable, decided_once, dedupe_loop, few_named_items, grown_by_consumer, says_unhashable,
    unhashable,
)

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
    `list()` or `sorted()`, that nothing in the loop changes; and the
    de-duplication loop (`if x not in seen: seen.append(x)`), whose list
    grows while it is scanned.

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
    produced by a call; a list that is built by appending dicts, lists or
    sets, or items the function reads as mappings (`item["artist"]`), is
    not reported, nor a list in a function whose comments say its items
    may be unhashable. Parameters (whose type is unknown), attributes,
    tuples, strings and short constant list literals are not reported, nor
    lists that are passed to a function, aliased or changed inside the loop
    other than by the de-duplication shape (`if x not in seen:
    seen.append(x)`, reported with a set kept beside the list), nor a list
    grown by the call that consumes the comprehension testing it
    (`xs.extend(f for f in fs if f not in xs)`). Membership tests in loops
    over a few literal items (inline or a name bound to them) are skipped,
    unless an outer loop repeats them over the same list (the
    de-duplication shape counts in `while` loops too),
    and so are tests whose branch leaves the loop right away
    (`if x not in names: break`) or that sit in a branch ending in
    `return`/`break`/`raise`: the scan does not repeat.

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
        Valid("""\
            def f(xs):
                ok = {'a', 'b'}
                return [x for x in xs if x in ok]
        """, why="set-membership"),
        Valid("""\
            def f(xs):
                seen = []
                for x in xs:
                    if x not in seen:
                        seen.append(x)
                    else:
                        seen.remove(x)
                return seen
        """, why="list-mutated-in-the-loop"),
        Valid("""\
            def f(xs, allowed):
                return [x for x in xs if x in allowed]
        """, why="parameter-of-unknown-type"),
        Valid("""\
            def f(xs):
                for x in xs:
                    if x in ['a', 'b', 'c']:
                        return x
        """, why="inline-literal-of-few-items"),
        Valid("""\
            def f(xs):
                names = ['a', 'b', 'c']
                return [x for x in xs if x in names]
        """, why="short-constant-list"),
        Valid("""\
            def f(xs):
                rows = [[1], [2]] + [list(x) for x in xs]
                return [r for r in xs if r in rows]
        """, why="binary-operation-of-unknown-type"),
        Valid("""\
            def f(xs):
                rows = [[x] for x in xs]
                return [y for y in xs if [y] in rows]
        """, why="unhashable-elements"),
        Valid("""\
            def f(xs, ys):
                found = list(ys)
                for x in xs:
                    if x in found:
                        update(found)
        """, why="list-passed-to-a-function-in-the-loop"),
        Valid("""\
            def f(text):
                words = text.split()
                return [w for w in words if w in 'aeiou']
        """, why="substring-test-on-a-str"),
        Valid("""\
            def f(xs):
                keys = list(xs)
                if 'a' in keys:
                    return keys
        """, why="not-in-a-loop"),
        Valid("""\
            def f(xs):
                order = sorted(xs)
                for key in ('a', 'b'):
                    if key in order:
                        return key
        """, why="loop-over-a-few-literal-items"),
        Valid("""\
            def f(xs):
                order = list(xs)
                for x in xs:
                    order[0] = x
                    if x in order:
                        return x
        """, why="item-assigned-in-the-loop"),
        Valid("""\
            def f(pairs, rows):
                seen = [(r.sql, r.params) for r in rows]
                return [p for p, q in pairs if (p, q) not in seen]
        """, why="tuple-probe-of-unknown-hashability"),
        Valid("""\
            def f(self, lines):
                names = [self.name, self.alias]
                for line in lines:
                    if line.word not in names:
                        break
        """, why="short-list-display-of-names"),
        Valid("""
            def expand(rows, wanted):
                found = []
                for row in rows:
                    found.append({"id": row.id, "label": row.label})
                return [w for w in wanted if w in found]
            """, why="list-built-by-appending-dicts-is-unhashable"),
        Valid("""
            def signature(docstrings, valid):
                names = [n.strip() for n in valid]
                for line in docstrings:
                    base = line.split("(")[0]
                    if base not in names:
                        break
                    print(line)
            """, why="branch-breaks-right-after-the-test"),
        Valid("""
            def vararg_overridden(original, overridden):
                names = [i.name for i in overridden]
                for arg in original:
                    if arg.kind == "vararg":
                        found = arg.name in names
                        return found
            """, why="test-in-a-branch-that-returns-runs-once"),
        Valid("""
            REQUIRED = ("cms.context_processors.cms_settings", "django.template.context_processors.i18n")

            def check(options):
                processors = list(options["context_processors"])
                for processor in REQUIRED:
                    if processor not in processors:
                        print("missing", processor)
            """, why="loop-over-a-name-bound-to-two-literal-items"),
        Valid("""
            def index(tables_meta, request):
                tables = {}
                for name, meta in tables_meta.items():
                    tables[name] = {"name": name, "hidden": meta.hidden, "count": meta.count}
                hidden = [t for t in tables.values() if t["hidden"]]
                return [t for t in tables.values() if t not in hidden]
            """, why="comprehension-of-dicts-stored-in-the-scope-is-unhashable"),
        Valid("""
            def excluded(exclude, grantable, fields):
                excl = list(exclude)
                excl.extend(f for f in fields if f not in grantable and f not in excl)
                return excl
            """, why="list-grown-by-the-consumer-of-the-generator"),
        Valid("""
            def remove_unknown(items, wanted):
                dont_remove = []
                for artist, album in wanted:
                    for item in items:
                        if artist == item["artist"] and album == item["album"]:
                            dont_remove.append(item)
                return [item for item in items if item not in dont_remove]
            """, why="list-of-rows-read-as-mappings-cannot-be-a-set"),
        Valid("""
            def ordered_set(iterable):
                seen = []  # Do not use set since the items can be unhashable
                for x in iterable:
                    if x not in seen:
                        seen.append(x)
                        yield x
            """, why="comment-says-the-items-may-be-unhashable"),
        Valid("""
            def formats(assets):
                for asset in assets:
                    urls = [u.strip() for u in asset.urls]
                    for source in ("download", "stream", "hls"):
                        if source in urls:
                            yield asset, source
            """, why="list-rebuilt-per-outer-item-scanned-by-a-few-literal-items"),
    ]
    INVALID = [
        Invalid("""\
            def active(users, rows):
                banned = [r.user_id for r in rows]
                return [u for u in users if u.id not in banned]
        """, why="comprehension-filter", line=3, message="set(banned)"),
        Invalid("""\
            def f(xs, ys):
                order = list(ys)
                for x in xs:
                    if x in order:
                        print(x)
        """, why="for-loop-membership", line=4),
        Invalid("""\
            def f(xs, ys):
                order = sorted(ys)
                return [order.index(x) for x in xs]
        """, why="index-in-a-comprehension", line=3, message="enumerate"),
        Invalid("""\
            def f(xs, ys):
                pool = [y.key for y in ys]
                total = 0
                for x in xs:
                    total += pool.count(x)
                return total
        """, why="count-in-a-loop", line=5, message="Counter"),
        Invalid("""\
            KNOWN = [
                'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i',
            ]

            def f(xs):
                return [x for x in xs if x in KNOWN]
        """, why="long-module-level-literal", line=6),
        Invalid("""\
            def f(xs, ys):
                keep = []
                for y in ys:
                    keep.append(y)
                for x in xs:
                    if x not in keep:
                        yield x
        """, why="list-built-before-the-loop", line=6),
        Invalid("""
            def unique_columns(columns):
                seen = []
                for column in columns:
                    if column not in seen:
                        seen.append(column)
                return seen
            """, why="dedupe-loop-grows-the-list-it-scans", line=5, message="keep a set beside it"),
        Invalid("""
            def suggest(columns, configs):
                already_enabled = [c["config"]["simple"] for c in configs]
                suggested = []
                for column in columns:
                    if column in already_enabled:
                        continue
                    suggested.append(column)
                return suggested
            """, why="continue-after-the-test-still-scans-every-item", line=6, message="set(already_enabled)"),
        Invalid("""
            def formats(assets):
                processed_urls = []
                for asset in assets:
                    for source in ("download", "progressive", "dynamic", "adaptive"):
                        video_url = asset.find(source)
                        if not video_url or video_url in processed_urls:
                            continue
                        processed_urls.append(video_url)
                        yield video_url
            """, why="dedupe-in-a-literal-inner-loop-of-a-real-loop", line=7, message="`processed_urls`"),
        Invalid("""
            def coordinates(self, words, maxlength):
                cutlength = 1
                coords = []
                while cutlength <= maxlength:
                    pair = self.truncation(words, cutlength)
                    if pair not in coords:
                        coords.append(pair)
                    cutlength += 1
                return coords
            """, why="dedupe-in-a-while-loop", line=7, message="`coords`"),
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
        if not self._is_list(bindings, _grown(owner, name), owner) or appends_unhashable(owner, name):
            return
        if says_unhashable(owner):
            return  # the author says the items may be unhashable
        if isinstance(probe, (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)):
            return  # unhashable probe
        if isinstance(probe, cst.Tuple) and not all(_literal(e.value) for e in probe.elements):
            return  # a tuple of values of unknown type: a set of such tuples may not be buildable
        loop = loops[-1]
        # The loops that repeat the test over one and the same list: those around the test but not around
        # the list's binding. A few literal items in each is a few scans (``for src in ("a", "b"):``).
        rebinding = {id(outer) for b in bindings for outer in (b.loops or ())}
        repeating = [outer for outer in loops if id(outer) not in rebinding] or [loop]
        if all(small_literal_loop(outer) for outer in repeating) or few_named_items(loop, scope, module) \
                or grown_by_consumer(loop, name, scope):
            return
        if _changed_in(loop, name):
            if advice != "set" or not dedupe_loop(loop, name, probe) or decided_once(loop, node):
                return
            advice = "dedupe"
        elif decided_once(loop, node):
            return  # ``if x not in names: break``: decided once
        if owner is not scope and (owner.kind != "module" or not _module_list_is_stable(module, name)):
            return
        if owner is scope and any(b.loops and loop in b.loops for b in bindings):
            return  # rebound inside the loop
        self.report(node, what=what, name=name, advice=_advice(advice, name))

    def _is_list(self, bindings: list[Binding], grown: bool, owner: Scope) -> bool:
        """Every binding visibly builds a list whose size is not a small constant
        (a short list display counts as constant unless something grows it)."""
        sizes: list[int | None] = []
        for binding in bindings:
            if binding.kind not in ("assign", "annassign"):
                return False
            value = binding.value
            if isinstance(value, cst.ListComp):
                if unhashable(value.elt) or copies_unhashable(value, owner):
                    return False
                sizes.append(None)
            elif isinstance(value, cst.List):
                if any(unhashable(e.value) or isinstance(e, cst.StarredElement) for e in value.elements):
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
    if kind == "dedupe":
        return (f"the loop grows `{name}` too; keep a set beside it (add each item to both) and test the set "
                "(items must be hashable)")
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
