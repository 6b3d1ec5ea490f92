"""The cheap first pass: syntax facts about one file, from the CPython ``ast``
tree the worker already has, that tell whether a rule can report there at all.

libcst's parse is most of a scan's cost (CPython's ``ast`` costs a tenth of
it), yet most files hold nothing any rule reports. Each rule answers
``may_report(first_pass, context, options)`` from these facts; when no rule
can, the worker skips the libcst parse and the walk (design.md: "found by a
cheap first pass").

Every fact here over-approximates: a fact that is true whenever a rule's
trigger is present, never the reverse, so a rule may be asked to walk a file
it ends up silent on but is never kept from one it would report on. The
evidence is ``benchmarks/first_pass.py``, which scans a corpus with and
without the first pass and compares the findings, and the rule examples,
which run through it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

#: Functions that, called in a module-level function, make missing-cache look
#: at it: the last part of every pattern in ``rules/_purity.py`` ``_WORK``.
WORK_CALLS = frozenset({
    "load", "safe_load", "reader", "DictReader", "parse", "compile", "walk", "listdir", "scandir",
    "glob", "iglob", "rglob", "iterdir", "signature", "getsource", "getmembers", "get_type_hints",
    "open", "read_text", "read_bytes",
})
#: The work a function not called in its own module must do to be followed
#: across modules: parse a file, list a directory, read package metadata,
#: inspect code (missing-cache's ``LASTING_WORK``).
LASTING_WORK_CALLS = frozenset({
    "load", "safe_load", "reader", "DictReader", "walk", "listdir", "scandir", "glob", "iglob", "rglob",
    "iterdir", "signature", "getsource", "getmembers", "get_type_hints",
})
#: Modules whose every function counts as work for missing-cache (prefix patterns).
WORK_MODULES = ("importlib", "importlib_metadata")
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_FOR = (ast.For, ast.AsyncFor)


@dataclass
class FirstPass:
    """What one walk over a file's ``ast`` tree found (all over-approximations).

    "In a loop" means anywhere under a ``for``, ``while`` or comprehension
    node, its iterable and nested ``def`` bodies included."""

    #: The file defines an ``async def``.
    async_def: bool = False
    #: An ``await`` anywhere (CPython's parser accepts one at module level).
    awaits: bool = False
    #: A ``for`` loop (sync or async) or a comprehension.
    for_loop: bool = False
    #: Any loop: ``for``, ``while`` or a comprehension.
    loop: bool = False
    #: Every word of every import: module path parts, imported names, aliases.
    import_words: set[str] = field(default_factory=set)
    #: Names bound by ``as`` in an import (they can stand for any function).
    import_aliases: set[str] = field(default_factory=set)
    #: Names bound by imports from ``importlib`` / ``importlib_metadata``.
    work_roots: set[str] = field(default_factory=set)
    #: Names and ``.attr`` names bound to a name, an attribute or an awaited one
    #: (``c = re.compile``, ``self.get = session.get``, ``with a.b as c``): the
    #: rules' resolver follows such aliases, so a call of one may be any call.
    aliases: set[str] = field(default_factory=set)
    #: Every ``.attr`` name read or written.
    attributes: set[str] = field(default_factory=set)
    #: The last part of every callee (``f`` of ``a.b.f()``).
    called: set[str] = field(default_factory=set)
    #: The last part of every callee in a loop.
    called_in_loop: set[str] = field(default_factory=set)
    #: Names grown in a loop: ``x += ...``, ``x = x + ...``, ``x = ... + x``.
    grown_in_loop: set[str] = field(default_factory=set)
    #: Names assigned a value that may be a str, bytes or list (concat-in-loop's types).
    maybe_sequence: set[str] = field(default_factory=set)
    #: Names assigned a list display, a list comprehension, ``list(...)`` or ``sorted(...)``.
    list_built: set[str] = field(default_factory=set)
    #: Names searched in a loop: ``... in x``, ``x.index()``, ``x.count()``.
    searched_in_loop: set[str] = field(default_factory=set)
    #: Module-scope ``def`` statements without decorators (missing-cache's candidates).
    plain_functions: list[ast.FunctionDef] = field(default_factory=list)
    #: The tree and text these facts come from, for rules that need a closer look.
    tree: ast.Module | None = None
    text: str = ""

    @classmethod
    def of(cls, tree: ast.Module, text: str = "") -> "FirstPass":
        facts = cls(tree=tree, text=text)
        facts.plain_functions = _module_functions(tree.body)
        _walk(tree, facts)
        return facts

    def mentions(self, words: frozenset[str] | set[str]) -> bool:
        """Some import of the file has one of ``words`` (a module path part, a name or an alias)."""
        return not words.isdisjoint(self.import_words)

    def may_call_in_loop(self, last_names: frozenset[str] | set[str]) -> bool:
        """A call in a loop whose callee ends in one of ``last_names``, or is a
        name an import alias or an assignment may have bound to one."""
        return not self.called_in_loop.isdisjoint(last_names) or self.calls_alias_in_loop()

    def calls_alias_in_loop(self) -> bool:
        """A call in a loop of a name an import alias or an assignment may have bound to anything."""
        called = self.called_in_loop
        return not (called.isdisjoint(self.import_aliases) and called.isdisjoint(self.aliases))

    def _may_call_lasting_work(self) -> bool:
        """Some call in the file may be lasting work (a cheap test before looking at each function)."""
        return not self.called.isdisjoint(LASTING_WORK_CALLS | self.import_aliases | self.work_roots) or bool(
            self.work_roots)

    def cached_work_candidate(self, called_here: bool = True) -> bool:
        """A plain top-level function, called by name in the module, that calls
        something that may be costly work or builds a table (missing-cache).
        Without ``called_here``, also one not called here, or a plain method of
        a top-level class called as ``x.name()`` here, that may do lasting work
        (``LASTING_WORK_CALLS``: what other modules' calls are followed for)."""
        for function in self.plain_functions:
            if function.name in self.called and _may_do_work(function, self):
                return True
            if not called_here and self._may_call_lasting_work() and _may_do_lasting_work(function, self):
                return True
        if called_here or self.tree is None or not self._may_call_lasting_work():
            return False
        methods = (m for c in self.tree.body if type(c) is ast.ClassDef for m in c.body
                   if type(m) is ast.FunctionDef and not m.decorator_list)
        return any(m.name in self.attributes and _may_do_lasting_work(m, self) for m in methods)


def _module_functions(body: list[ast.stmt]) -> list[ast.FunctionDef]:
    """Undecorated ``def`` statements of the module's own scope, also those
    nested in ``if``/``try``/``with``/loop blocks (``if PY2: def load(): ...``)."""
    found: list[ast.FunctionDef] = []
    todo = list(body)
    while todo:
        statement = todo.pop()
        kind = type(statement)
        if kind is ast.FunctionDef:
            if not statement.decorator_list:  # type: ignore[attr-defined]
                found.append(statement)  # type: ignore[arg-type]
        elif kind is not ast.AsyncFunctionDef and kind is not ast.ClassDef:
            for name in ("body", "orelse", "finalbody", "handlers", "cases"):
                for child in getattr(statement, name, ()):
                    todo.extend(child.body if type(child) in (ast.ExceptHandler, ast.match_case) else [child])
    return found


_LOOPS = (ast.For, ast.AsyncFor, ast.While, *_COMPREHENSIONS)
#: Values whose type concat-in-loop may see as str, bytes or list (a str or
#: bytes constant, an f-string, a list, a call, a ``+`` or ``%``).
_SEQUENCE_VALUES = frozenset({ast.Constant, ast.JoinedStr, ast.List, ast.ListComp, ast.Call, ast.BinOp})


def _walk(tree: ast.Module, facts: FirstPass) -> None:
    """One pass over every node, dispatching on the exact type (no visitor overhead)."""
    called, called_in_loop = facts.called, facts.called_in_loop
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    pop, push = stack.pop, stack.append
    while stack:
        node, in_loop = pop()
        kind = type(node)
        if kind is ast.Name:
            continue  # a leaf for every rule's question (its one child is the context)
        if kind is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            last = func.id if type(func) is ast.Name else func.attr if type(func) is ast.Attribute else ""
            called.add(last)
            if in_loop:
                called_in_loop.add(last)
                if last in ("index", "count") and type(func) is ast.Attribute and type(func.value) is ast.Name:
                    facts.searched_in_loop.add(func.value.id)
        elif kind is ast.Attribute:
            facts.attributes.add(node.attr)  # type: ignore[attr-defined]
        elif kind in _LOOPS:
            facts.loop = in_loop = True
            if kind is not ast.While:
                facts.for_loop = True
        elif kind is ast.AsyncFunctionDef:
            facts.async_def = True
        elif kind is ast.Await:
            facts.awaits = True
        elif kind is ast.Compare:
            if in_loop:
                for operator, right in zip(node.ops, node.comparators):  # type: ignore[attr-defined]
                    if type(operator) in (ast.In, ast.NotIn) and type(right) is ast.Name:
                        facts.searched_in_loop.add(right.id)
        elif kind is ast.Assign or kind is ast.AnnAssign:
            _record_assignment(node, in_loop, facts)  # type: ignore[arg-type]
        elif kind is ast.NamedExpr:
            _record_alias([node.target], node.value, facts)  # type: ignore[attr-defined]
        elif kind is ast.withitem:
            if node.optional_vars is not None:  # type: ignore[attr-defined]
                _record_alias([node.optional_vars], node.context_expr, facts)  # type: ignore[attr-defined]
        elif kind is ast.AugAssign:
            target = node.target  # type: ignore[attr-defined]
            if in_loop and type(node.op) is ast.Add and type(target) is ast.Name:  # type: ignore[attr-defined]
                facts.grown_in_loop.add(target.id)
        elif kind is ast.Import or kind is ast.ImportFrom:
            _record_import(node, facts)  # type: ignore[arg-type]
            continue
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        push((item, in_loop))
            elif isinstance(value, ast.AST):
                push((value, in_loop))


def _record_assignment(node: ast.Assign | ast.AnnAssign, in_loop: bool, facts: FirstPass) -> None:
    """What concat-in-loop and quadratic-membership read from ``x = value``."""
    value = node.value
    if value is None:
        return
    targets = node.targets if type(node) is ast.Assign else [node.target]  # type: ignore[union-attr]
    _record_alias(targets, value, facts)
    named = [t.id for t in targets if type(t) is ast.Name]
    if not named:
        return
    kind = type(value)
    constant = getattr(value, "value", None) if kind is ast.Constant else ""
    if kind in _SEQUENCE_VALUES and type(constant) in (str, bytes):
        facts.maybe_sequence.update(named)
    callee = getattr(value, "func", None)
    if kind is ast.List or kind is ast.ListComp or (
            kind is ast.Call and type(callee) is ast.Name and callee.id in ("list", "sorted")):
        facts.list_built.update(named)
    if in_loop and kind is ast.BinOp and type(node) is ast.Assign:
        operands = _added(value)
        ends = {o.id for o in (operands[0], operands[-1]) if type(o) is ast.Name}
        if len(operands) > 1:
            facts.grown_in_loop.update(ends.intersection(named))


def _record_alias(targets: list[ast.expr], value: ast.expr, facts: FirstPass) -> None:
    """``x = a.b`` / ``self.x = a`` / ``x = await a.b``: ``x`` may stand for what the value names."""
    if type(value) is ast.Await:
        value = value.value
    if type(value) is not ast.Name and type(value) is not ast.Attribute:
        return
    for target in targets:
        if type(target) is ast.Name:
            facts.aliases.add(target.id)
        elif type(target) is ast.Attribute:
            facts.aliases.add(target.attr)


def _added(node: ast.AST) -> list[ast.AST]:
    """The operands of a chain of ``+`` (left-associative), in order; a loop,
    not recursion: generated code can chain thousands of terms."""
    rights = []
    while type(node) is ast.BinOp and type(node.op) is ast.Add:
        rights.append(node.right)
        node = node.left
    return [node, *reversed(rights)]


def _record_import(node: ast.Import | ast.ImportFrom, facts: FirstPass) -> None:
    words = facts.import_words
    module = getattr(node, "module", None) or ""
    words.update(module.split("."))
    from_work = module.split(".")[0] in WORK_MODULES
    for alias in node.names:
        words.update(alias.name.split("."))
        bound = alias.asname or alias.name.split(".")[0]
        if alias.asname:
            words.add(alias.asname)
            facts.import_aliases.add(alias.asname)
        if from_work or alias.name.split(".")[0] in WORK_MODULES:
            facts.work_roots.add(bound)


def _may_do_work(function: ast.FunctionDef, facts: FirstPass) -> bool:
    """Calls a work function (by its last name, an import alias or an importlib
    name), or may build a table: a display of 16+ items, or a ``for`` or a
    comprehension over names none of which is a parameter or a local of the
    function (missing-cache's ``_builds_table``, less its finer checks)."""
    roots = facts.import_aliases | facts.work_roots
    loops = []
    for node in ast.walk(function):
        kind = type(node)
        if kind is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            last = func.id if type(func) is ast.Name else getattr(func, "attr", "")
            if last in WORK_CALLS or _root(func) in roots:
                return True
        elif kind in _FOR:
            loops.append(node.iter)  # type: ignore[attr-defined]
        elif kind in _COMPREHENSIONS:
            loops.append(node.generators[0].iter)  # type: ignore[attr-defined]
        elif kind in (ast.Dict, ast.List, ast.Set):
            items = node.keys if kind is ast.Dict else node.elts  # type: ignore[attr-defined]
            if len(items) >= 16:
                return True
    if not loops:
        return False
    local = _parameters(function) | _function_stores(function)
    for iterable in loops:
        used = {n.id for n in ast.walk(iterable) if type(n) is ast.Name}
        if used and used.isdisjoint(local):
            return True
    return False


#: Calls that read a file or list a directory (missing-cache's ``_FILE_READS``).
_FILE_READS = frozenset({"open", "read_text", "read_bytes", "load", "safe_load", "reader", "DictReader", "listdir",
                         "scandir", "walk", "glob", "iglob", "rglob", "iterdir", "Path"})


def _may_do_lasting_work(function: ast.FunctionDef, facts: FirstPass) -> bool:
    """Calls a lasting-work function by its last name, an import alias, or an
    importlib name, and reads no file or directory a parameter names (the rule
    never reports those: the path may differ between calls)."""
    aliases, roots = facts.import_aliases, facts.work_roots
    params = _parameters(function)
    found = False
    for node in ast.walk(function):
        if type(node) is ast.Call:
            func = node.func
            last = func.id if type(func) is ast.Name else getattr(func, "attr", "")
            if last in _FILE_READS and params and _reads_name(node, params):
                return False
            if last in LASTING_WORK_CALLS or last in aliases or _root(func) in roots:
                found = True
    return found


def _reads_name(call: ast.Call, names: set[str]) -> bool:
    """An argument of the call, or its receiver, reads one of ``names``."""
    parts: list[ast.AST] = [*call.args, *(k.value for k in call.keywords)]
    if type(call.func) is ast.Attribute:
        parts.append(call.func.value)
    return any(type(n) is ast.Name and n.id in names for part in parts for n in ast.walk(part))


def _parameters(function: ast.FunctionDef) -> set[str]:
    arguments = function.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
    return {a.arg for a in every if a is not None}


def _function_stores(function: ast.FunctionDef) -> set[str]:
    """Names the function's own scope assigns (not those of nested scopes:
    comprehension targets, nested defs' locals), an under-approximation of
    the bindings missing-cache sees, so that the check above stays loose."""
    stores: set[str] = set()
    todo: list[ast.AST] = list(function.body)
    while todo:
        node = todo.pop()
        kind = type(node)
        if kind is ast.Name:
            if type(node.ctx) is ast.Store:  # type: ignore[attr-defined]
                stores.add(node.id)  # type: ignore[attr-defined]
            continue
        if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda) or kind in _COMPREHENSIONS:
            continue
        todo.extend(ast.iter_child_nodes(node))
    return stores


def _root(func: ast.AST) -> str:
    while type(func) is ast.Attribute:
        func = func.value
    return func.id if type(func) is ast.Name else ""
