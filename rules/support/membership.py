"""quadratic-membership's finer questions about one list and one loop, each a
false positive or a missed shape seen on real applications (issue 17):

- elements known to be unhashable (``rows.append({...})``): ``set(rows)``
  would raise TypeError;
- a test whose branch leaves the loop (``if x not in names: break``), or a
  test inside a branch that does: it decides once, the scan does not repeat;
- a loop over a name bound to a few literal items (``for p in REQUIRED:``);
- a list that a comprehension's consumer grows (``xs.extend(f for f in fs
  if f not in xs)``): the test sees the growing list;
- the de-duplication loop (``if x not in seen: seen.append(x)``): the list
  grows, the scan is quadratic, and the fix is a set kept beside the list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from advisor._lazy import lazy_module

from advisor.rules.support.loop_copies import ends_loop
from advisor.rules.support.scopes import Scope, call_name, descendants, walk

if TYPE_CHECKING:
    import libcst as cst
else:
    cst = lazy_module("libcst")

_UNHASHABLE_DISPLAYS = ("List", "Dict", "Set", "ListComp", "DictComp", "SetComp")
_UNHASHABLE_CALLS = frozenset({"dict", "list", "set", "defaultdict", "OrderedDict", "Counter", "bytearray"})
#: Uses of a de-duplication list inside its loop other than the test itself.
_DEDUPE_OK = frozenset({"append"})


def unhashable(value: Any) -> bool:
    """A display or constructor call whose result cannot go in a set."""
    if type(value).__name__ in _UNHASHABLE_DISPLAYS:
        return True
    return isinstance(value, cst.Call) and call_name(value).rsplit(".", 1)[-1] in _UNHASHABLE_CALLS


def appends_unhashable(scope: Scope, name: str) -> bool:
    """``name.append({...})`` / ``name.extend([{...}])`` / ``name.insert(i, [...])`` somewhere in the
    scope, or ``name.append(item)`` of an ``item`` the scope reads as a mapping (``item["artist"]``)."""
    mappings: set[str] | None = None
    for call, _ in scope.calls:
        func = call.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == name):
            continue
        values = [a.value for a in call.args]
        if func.attr.value == "append" and values and unhashable(values[-1]):
            return True
        if func.attr.value == "append" and values and isinstance(values[-1], cst.Name):
            mappings = _read_as_mappings(scope) if mappings is None else mappings
            if values[-1].value in mappings:
                return True
        if func.attr.value == "insert" and len(values) == 2 and unhashable(values[1]):
            return True
        if func.attr.value == "extend" and values and isinstance(values[0], (cst.List, cst.Tuple)):
            if any(unhashable(e.value) for e in values[0].elements):
                return True
    return False


def _read_as_mappings(scope: Scope) -> set[str]:
    """Names the scope subscripts with a string key (``item["artist"]``): dict-like rows."""
    found: set[str] = set()
    for node in descendants(scope.node):
        if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name) and len(node.slice) == 1:
            index = node.slice[0].slice
            if isinstance(index, cst.Index) and isinstance(index.value, (cst.SimpleString, cst.FormattedString)):
                found.add(node.value.value)
    return found


def says_unhashable(scope: Scope) -> bool:
    """A comment in the scope says its items may be unhashable ("do not use set since
    the items can be unhashable"): the author already chose the list."""
    stack = [scope.node]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Comment) and "hashable" in node.value.lower():
            return True
        stack.extend(node.children)
    return False


def copies_unhashable(comprehension: Any, scope: Scope) -> bool:
    """``[t for t in tables.values() if ...]`` where the scope stores dicts,
    lists or sets into ``tables`` (``tables[k] = {...}``, ``tables.append({...})``):
    the comprehension keeps those elements, which a set cannot hold."""
    comp = comprehension.for_in
    if not (isinstance(comprehension.elt, cst.Name) and isinstance(comp.target, cst.Name)
            and comprehension.elt.value == comp.target.value):
        return False
    source = comp.iter
    if isinstance(source, cst.Call) and isinstance(source.func, cst.Attribute) and source.func.attr.value == "values":
        source = source.func.value
    if not isinstance(source, cst.Name):
        return False
    if appends_unhashable(scope, source.value):
        return True
    for node in descendants(scope.node):
        if isinstance(node, cst.Assign) and unhashable(node.value) and any(
                isinstance(t.target, cst.Subscript) and isinstance(t.target.value, cst.Name)
                and t.target.value.value == source.value for t in node.targets):
            return True
    return False


def path_to(loop: Any, node: Any) -> tuple[Any, ...] | None:
    """The ancestors of ``node`` under ``loop`` (nearest last), or None."""
    for current, ancestors in walk(loop):
        if current is node:
            return ancestors
    return None


def decided_once(loop: Any, node: Any) -> bool:
    """The test is the condition of an ``if`` whose body leaves the loop right
    away (``if x not in names: break``), or it sits in a branch that ends by
    leaving the loop: either way the loop stops scanning after it decides."""
    ancestors = path_to(loop, node)
    if not ancestors:
        return False
    chain = (*ancestors, node)
    for index, ancestor in enumerate(chain[:-1]):
        child = chain[index + 1]
        if isinstance(ancestor, cst.If) and child is ancestor.test and _only_exit(ancestor.body):
            return True
        if isinstance(ancestor, (cst.If, cst.Else)) and child is ancestor.body and ends_loop(ancestor.body):
            return True
        if isinstance(ancestor, (cst.Return, cst.Raise)):
            return True
    return False


def _only_exit(body: Any) -> bool:
    statements = getattr(body, "body", ())
    return len(statements) == 1 and ends_loop(body)


def few_named_items(loop: Any, scope: Scope, module: Scope) -> bool:
    """``for p in REQUIRED:`` where ``REQUIRED`` is bound once to a literal of a few items."""
    if not isinstance(loop, cst.For) or not isinstance(loop.iter, cst.Name):
        return False
    name = loop.iter.value
    for owner in (scope, module):
        bindings = owner.bindings.get(name)
        if bindings:
            value = bindings[0].value if len(bindings) == 1 and bindings[0].kind in ("assign", "annassign") else None
            return isinstance(value, (cst.Tuple, cst.List, cst.Set)) and len(value.elements) <= 5
    return False


def grown_by_consumer(loop: Any, name: str, scope: Scope) -> bool:
    """``name.extend(<comprehension>)`` / ``name += <comprehension>``: the
    comprehension tests a list its own consumer grows while it runs."""
    for call, _ in scope.calls:
        func = call.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == name:
            if any(node is loop for arg in call.args for node in descendants(arg.value)):
                return True
    return False


def dedupe_loop(loop: Any, name: str, probe: Any) -> bool:
    """Inside ``loop``, ``name`` is only tested and grown with ``append(probe)``:
    the classic de-duplication of a list that keeps the first occurrence."""
    if not isinstance(loop, (cst.For, cst.While)):
        return False
    grown = False
    for current, ancestors in walk(loop.body):
        if not (isinstance(current, cst.Name) and current.value == name and ancestors):
            continue
        parent = ancestors[-1]
        if isinstance(parent, cst.ComparisonTarget):
            continue
        grand = ancestors[-2] if len(ancestors) > 1 else None
        if isinstance(parent, cst.Attribute) and parent.value is current and parent.attr.value in _DEDUPE_OK \
                and isinstance(grand, cst.Call) and len(grand.args) == 1 and grand.args[0].value.deep_equals(probe):
            grown = True
            continue
        return False
    return grown
