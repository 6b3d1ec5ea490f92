"""The calls one file makes to functions that may be the project's own, as
plain facts: recorded from the CPython ``ast`` tree the worker already has
(about a twentieth of libcst's parse), for every file, walked or not.

A call is kept when its callee resolves through the file's imports, its own
module-level ``def``s or ``self.method`` to an absolute dotted name that is
not the standard library's (``pkg.settings.load_settings``,
``pkg.orders.Repo.get``). Which of those names the project really defines is
decided project-wide (``call_index.CallIndex``): no type inference, no
guessing at what an unknown receiver is. Each call records whether it runs
in a loop, whether once per item of a ``for`` loop or comprehension (its
arguments change with the item), what its arguments are and whether its
result is only read where it is used.

It also notes, per function, the first round trip the function makes on
every call (outside its own loops and branches, with an argument that reads
one of the function's parameters): SQL text that reads or writes rows sent
by an ``execute``-style method on any receiver, a catalogued round trip its
imports name (``requests.get``), or a Django manager query
(``Book.objects.get``). Only what the call itself shows counts: a session or
cursor bound earlier is the walk's business (it reports those in loops).
"""

from __future__ import annotations

import ast
import re
import sys
from typing import Any, NamedTuple

from advisor.rules.support.imports import ast_dotted_name as _dotted
from advisor.rules.support.round_trips import DJANGO_TERMINALS, ROUND_TRIPS, is_model_symbol

#: Loop flags of a recorded call.
NOT_IN_LOOP, IN_LOOP, PER_ITEM = 0, 1, 2
#: Argument kinds: no arguments, only constants, anything else.
NO_ARGS, CONSTANT_ARGS, OTHER_ARGS = "none", "const", "var"
#: Result use: only read where it is used, or anything else (kept, returned, mutated).
READ, OTHER = "read", "other"

_STDLIB = frozenset(sys.stdlib_module_names) | {"builtins", "__future__"}
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
#: Methods of a result that only read it.
_READ_METHODS = frozenset({
    "get", "keys", "values", "items", "copy", "count", "index", "startswith", "endswith", "split", "strip",
    "lower", "upper", "format", "join", "match", "search", "fullmatch", "findall", "finditer", "sub",
    "encode", "decode", "replace", "exists", "is_file", "is_dir", "read_text", "read_bytes", "bind",
    "parameters", "pattern", "groups", "group",
})
#: Builtins that only read their argument.
_READERS = frozenset({
    "len", "sorted", "set", "frozenset", "tuple", "list", "dict", "enumerate", "min", "max", "any", "all",
    "sum", "zip", "reversed", "str", "repr", "isinstance", "iter", "bool", "int", "float", "print",
})
_CACHE_WORDS = ("cache", "memoize", "memoized", "lru_cache")

#: (id of the last tree, its facts): both call-following rules ask for the same file in turn.
_LAST: list[Any] = [None, None]


def file_calls(tree: ast.Module, module: str, is_package: bool) -> dict[str, Any]:
    """``{"defs": {qualname: [line, cached]}, "calls": [[caller, target, line,
    loop, args, use], ...], "exports": {name: target}}`` for one file
    (``exports`` only for a package's ``__init__``)."""
    return _collected(tree, module, is_package).facts


def per_item_calls(tree: ast.Module, module: str, is_package: bool) -> list[PerItemCall]:
    """The calls made once per loop item, with their positions: the rule keeps
    those that may be the project's as plain facts (``items``), judged project-wide."""
    return _collected(tree, module, is_package).per_item


def _collected(tree: ast.Module, module: str, is_package: bool) -> "_Collector":
    if _LAST[0] is tree and _LAST[1].module == module:
        return _LAST[1]  # type: ignore[no-any-return]
    collector = _Collector(module, is_package)
    collector.run(tree)
    _LAST[0], _LAST[1] = tree, collector
    return collector


class PerItemCall(NamedTuple):
    """A call made once per loop item: where it is (``ast`` positions: byte columns) and what it calls."""

    caller: str
    target: str
    label: str  #: the callee as written: ``repo.order_lines``
    line: int
    column: int
    end_line: int
    end_column: int


def byte_column(line: str, offset: int) -> int:
    """A character column from an ``ast`` byte offset into ``line``."""
    return len(line.encode("utf-8", "surrogatepass")[:offset].decode("utf-8", "replace"))


class _Loop:
    """A loop being walked; what it binds and whether it runs per item, worked out
    on first ask (most loops hold no call of interest)."""

    __slots__ = ("node", "_per_item", "_variant", "_one_each", "values")

    def __init__(self, node: Any, per_item: bool | None = None, variant: set[str] | None = None,
                 values: dict[str, ast.expr] | None = None) -> None:
        self.node, self._per_item, self._variant = node, per_item, variant
        self._one_each: bool | None = None
        self.values = values or {}  #: the function's ``name = value`` assignments so far

    @property
    def one_each(self) -> bool:
        """A loop over things that are each their own round trip and cannot be
        batched (hosts, plugins, tables), or over batches already (chunks, pages)."""
        if self._one_each is None:
            self._one_each = _one_each(self.node, self.values)
        return self._one_each

    @property
    def per_item(self) -> bool:
        if self._per_item is None:
            self._per_item = _per_item(self.node)
        return self._per_item

    @property
    def variant(self) -> set[str]:
        if self._variant is None:
            self._variant = _bound(self.node)
        return self._variant


#: Fields that hold only operator and context singletons: never a call.
_SKIPPED_FIELDS = frozenset({"ctx", "op", "ops"})
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(kind: type) -> tuple[str, ...]:
    found = _FIELDS.get(kind)
    if found is None:
        found = _FIELDS[kind] = tuple(f for f in kind._fields if f not in _SKIPPED_FIELDS)  # type: ignore[attr-defined]
    return found


class _Function:
    """The function being walked: its loops and how its names are used."""

    def __init__(self, qualname: str, owner: str, is_async: bool = False) -> None:
        self.qualname, self.owner = qualname, owner  #: owner: the class of a method, else ""
        self.is_async = is_async
        self.params: set[str] = set()
        #: How many ``if``/``match`` branches hold the statement being walked.
        self.branches = 0
        self.loops: list[_Loop] = []
        #: local name -> how each load of it uses the value; names assigned a call.
        self.uses: dict[str, set[str]] = {}
        self.assigned: dict[str, int] = {}
        self.values: dict[str, ast.expr] = {}  #: name -> the value last assigned to it (one name, one target)
        self.pending: list[tuple[list[Any], str]] = []  #: (call record, name its result went to)


class _Collector:
    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.is_package = is_package
        self.imports: dict[str, str] = {}
        self.local: set[str] = set()
        self.defs: dict[str, list[int]] = {}
        self.calls: list[list[Any]] = []
        self.exports: dict[str, str] = {}
        self.per_item: list[PerItemCall] = []
        #: qualname -> [line, the call, what one costs, the batch form]: the function's first round trip.
        self.trips: dict[str, list[Any]] = {}

    @property
    def facts(self) -> dict[str, Any]:
        facts: dict[str, Any] = {"defs": self.defs, "calls": self.calls}
        if self.exports:
            facts["exports"] = self.exports
        if self.trips:
            facts["trips"] = self.trips
        return facts

    def run(self, tree: ast.Module) -> None:
        for node in tree.body:
            if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
                self.local.add(node.name)
        self._statements(tree.body, _Function("", ""), "")

    # -- statements ------------------------------------------------------------

    def _statements(self, body: list[ast.stmt], function: _Function, scope: str) -> None:
        for node in body:
            if isinstance(node, _FUNCTIONS):
                self._function(node, function, scope)
            elif isinstance(node, ast.ClassDef):
                for expr in (*node.decorator_list, *node.bases):
                    self._expression(expr, function)
                inner = f"{scope}{node.name}."
                self._statements(node.body, _Function(function.qualname, function.owner), inner)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                self._import(node, top=not function.qualname and not scope)
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                self._expression(node.iter, function)
                function.loops.append(_Loop(node, values=function.values))
                self._expression(node.target, function)
                self._statements(node.body, function, scope)
                function.loops.pop()
                self._statements(node.orelse, function, scope)
            elif isinstance(node, (ast.If, ast.Match)):
                self._expression(node.test if isinstance(node, ast.If) else node.subject, function, node)
                function.branches += 1
                for block in ([node.body, node.orelse] if isinstance(node, ast.If) else [c.body for c in node.cases]):
                    self._statements(block, function, scope)
                function.branches -= 1
            elif isinstance(node, ast.While):
                function.loops.append(_Loop(node, False, set()))
                self._expression(node.test, function)
                self._statements(node.body, function, scope)
                function.loops.pop()
                self._statements(node.orelse, function, scope)
            else:
                self._simple(node, function, scope)

    def _simple(self, node: ast.stmt, function: _Function, scope: str) -> None:
        """Any other statement: its expressions, then its nested blocks."""
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            function.assigned[name] = function.assigned.get(name, 0) + 1
            function.values[name] = node.value
        for name in _fields(type(node)):
            value = getattr(node, name)
            items = value if type(value) is list else [value]
            if items and isinstance(items[0], ast.stmt):
                self._statements(items, function, scope)
                continue
            for item in items:
                if isinstance(item, (ast.ExceptHandler, ast.match_case)):
                    self._statements(item.body, function, scope)
                elif isinstance(item, ast.AST):
                    self._expression(item, function, node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, outer: _Function, scope: str) -> None:
        qualname = f"{scope}{node.name}" if not outer.qualname else f"{outer.qualname}.{node.name}"
        decorators = [_dotted(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list]
        cached = any(word in d.rsplit(".", 1)[-1].lower() for d in decorators for word in _CACHE_WORDS)
        self.defs[qualname] = [node.lineno, int(cached)]
        for expr in (*node.decorator_list, *node.args.defaults, *node.args.kw_defaults):
            if expr is not None:
                self._expression(expr, outer)
        static = "staticmethod" in decorators
        owner = scope[:-1] if scope and not outer.qualname and not static else ""
        inner = _Function(qualname, owner, isinstance(node, ast.AsyncFunctionDef))
        arguments = node.args
        positional = [*arguments.posonlyargs, *arguments.args]
        # a method's ``self``: the same on every call of one instance, not what changes per item
        inner.params = {a.arg for a in (*positional[1 if owner else 0:], *arguments.kwonlyargs)}
        self._statements(node.body, inner, "")
        for record, name in inner.pending:
            if inner.assigned.get(name) == 1 and inner.uses.get(name, {OTHER}) <= {READ}:
                record[5] = READ

    def _import(self, node: ast.Import | ast.ImportFrom, top: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.imports[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    self.imports[head] = head
            return
        base = _absolute(self.package, node.module or "", node.level)
        for alias in node.names:
            if alias.name == "*":
                continue
            target = f"{base}.{alias.name}" if base else alias.name
            self.imports[alias.asname or alias.name] = target
            if top and self.is_package and target.split(".")[0] not in _STDLIB:
                self.exports[alias.asname or alias.name] = target

    # -- expressions -------------------------------------------------------------

    def _expression(self, root: ast.AST, function: _Function, statement: ast.stmt | None = None) -> None:
        stack: list[tuple[ast.AST, Any, Any, int]] = [(root, statement, None, len(function.loops))]
        pop, push, watched = stack.pop, stack.append, function.assigned
        while stack:
            node, parent, grand, depth = pop()
            kind = type(node)
            if kind is ast.Name:
                if node.id in watched and type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
                    function.uses.setdefault(node.id, set()).add(_use(node, parent, grand))  # type: ignore[attr-defined]
                continue
            if kind is ast.Constant or kind is ast.Lambda:
                continue  # a lambda's body runs later, or never: not this function's call
            if kind is ast.Call:
                self._call(node, parent, grand, function, depth)  # type: ignore[arg-type]
            elif kind in _COMPREHENSIONS:
                self._comprehension(node, parent, function, depth, stack)
                continue
            for name in _fields(kind):
                value = getattr(node, name)
                if type(value) is list:
                    for item in value:
                        if isinstance(item, ast.AST):
                            push((item, node, parent, depth))
                elif isinstance(value, ast.AST):
                    push((value, node, parent, depth))

    def _comprehension(self, node: Any, parent: Any, function: _Function, depth: int,
                       stack: list[tuple[ast.AST, Any, Any, int]]) -> None:
        """The first iterable runs once; the rest once per item (a loop of its own)."""
        generators = node.generators
        stack.append((generators[0].iter, generators[0], node, depth))
        variant = {n.id for g in generators for n in ast.walk(g.target) if type(n) is ast.Name}
        literal = isinstance(generators[0].iter, (ast.List, ast.Tuple, ast.Set, ast.Dict))
        function.loops.append(_Loop(generators[0], not literal, variant, function.values))
        inner = len(function.loops)
        parts = [node.key, node.value] if type(node) is ast.DictComp else [node.elt]
        parts += [expr for g in generators for expr in g.ifs] + [g.iter for g in generators[1:]]
        # walked at once (not pushed): the comprehension's loop is on the stack only now
        for part in parts:
            self._expression(part, function, None)
        del function.loops[inner - 1:]

    def _call(self, node: ast.Call, parent: Any, grand: Any, function: _Function, depth: int) -> None:
        target = self._target(node.func, function)
        if function.qualname and not depth and not function.branches and not function.is_async and (
                function.qualname not in self.trips) and _mentions(node, function.params):
            trip = _round_trip(node, target)
            if trip is not None:
                self.trips[function.qualname] = [node.lineno, *trip]
        if not target or target.split(".")[0] in _STDLIB:
            return
        loops = function.loops[:depth]
        loop = NOT_IN_LOOP
        if loops:
            loop = IN_LOOP
            innermost = loops[-1]
            names = {n.id for arg in (*node.args, *(k.value for k in node.keywords)) for n in ast.walk(arg)
                     if type(n) is ast.Name}
            if innermost.per_item and names & set().union(*(lp.variant for lp in loops)) and not innermost.one_each:
                loop = PER_ITEM
        record = [function.qualname, target, node.lineno, loop, _arguments(node), _use(node, parent, grand)]
        self.calls.append(record)
        if loop == PER_ITEM:
            self.per_item.append(PerItemCall(function.qualname, target, _dotted(node.func), node.lineno, node.col_offset,
                                             node.end_lineno or node.lineno, node.end_col_offset or 0))
        if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
            function.pending.append((record, parent.targets[0].id))

    def _target(self, func: ast.expr, function: _Function) -> str:
        """The absolute dotted name a callee refers to ("" when unknown)."""
        dotted = _dotted(func)
        if not dotted:
            return ""
        head, _, rest = dotted.partition(".")
        if head in ("self", "cls") and function.owner and rest and "." not in rest:
            return f"{self.module}.{function.owner}.{rest}"
        if head in self.imports:
            return f"{self.imports[head]}.{rest}" if rest else self.imports[head]
        if head in self.local and self.module:
            return f"{self.module}.{dotted}"  # a function of the module, or ``Class.method``
        return ""


def _round_trip(call: ast.Call, target: str) -> tuple[str, str, str] | None:
    """(the call as written, what one costs, the batch form) when the call itself
    shows a round trip; None otherwise."""
    from advisor.rules.support.sql_text import SQL_METHODS, batched_sql, is_row_sql  # deferred: scans itself clean

    func = call.func
    if target in ROUND_TRIPS:
        trip = ROUND_TRIPS[target]
        return f"{_dotted(func)}()", trip.what, trip.batch
    if type(func) is not ast.Attribute:
        return None
    if func.attr in SQL_METHODS:
        text = _literal_text(_sql_argument(call))
        if is_row_sql(text) and not batched_sql(text):
            trip = ROUND_TRIPS["dbapi.Cursor().execute"]
            return f"{_short(func)}()", trip.what, trip.batch
        return None
    manager = func.value
    if func.attr in DJANGO_TERMINALS and type(manager) is ast.Attribute and manager.attr in ("objects", "_default_manager"):
        model = target.rsplit(".", 2)[0] if target else ""
        if model and is_model_symbol(model):
            return f"{_dotted(func)}()", "query", DJANGO_TERMINALS[func.attr]
    return None


def _mentions(call: ast.Call, names: set[str]) -> bool:
    """An argument of the call reads one of ``names`` (the function's parameters):
    the round trip asks for something else on each call (the rule's stance on a
    statement that is the same every time: not a per-item query)."""
    return bool(names) and any(type(n) is ast.Name and n.id in names
                               for arg in (*call.args, *(k.value for k in call.keywords)) for n in ast.walk(arg))


def _sql_argument(call: ast.Call) -> ast.AST | None:
    from advisor.rules.support.sql_text import SQL_KEYWORDS

    for keyword in call.keywords:
        if keyword.arg in SQL_KEYWORDS:
            return keyword.value
    return call.args[0] if call.args and type(call.args[0]) is not ast.Starred else None


def _literal_text(node: ast.AST | None) -> str | None:
    """The text of a string literal, f-string (``{}`` per field), ``"..." % x`` or ``"...".format(x)``."""
    if type(node) is ast.Constant:
        return node.value if isinstance(node.value, str) else None
    if type(node) is ast.JoinedStr:
        return "".join(str(v.value) if type(v) is ast.Constant else "{}" for v in node.values)
    if type(node) is ast.BinOp and type(node.op) is ast.Mod:
        return _literal_text(node.left)
    if type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr == "format":
        return _literal_text(node.func.value)
    return None


def _short(func: ast.Attribute) -> str:
    """``conn.execute``, ``self.db.execute``; ``....execute`` for a receiver that is not a name."""
    dotted = _dotted(func)
    return dotted if dotted else f"....{func.attr}"


def _per_item(loop: ast.For | ast.AsyncFor) -> bool:
    """A loop that runs per item: not over a literal, and it neither breaks nor returns."""
    if isinstance(loop.iter, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return False
    todo: list[ast.AST] = list(loop.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Break, ast.Return)):
            return False
        if not isinstance(node, (*_FUNCTIONS, ast.ClassDef, ast.Lambda, ast.For, ast.AsyncFor, ast.While)):
            todo.extend(ast.iter_child_nodes(node))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            todo.extend(n for n in ast.walk(node) if isinstance(n, ast.Return))  # a return anywhere leaves the loop
    return True


def _bound(loop: ast.For | ast.AsyncFor) -> set[str]:
    """Names that change between iterations: the targets and names bound in the body."""
    names = {n.id for n in ast.walk(loop.target) if type(n) is ast.Name}
    for statement in loop.body:
        for node in ast.walk(statement):
            if type(node) is ast.Name and type(node.ctx) is ast.Store:
                names.add(node.id)
    return names


def _arguments(call: ast.Call) -> str:
    values = [*call.args, *(k.value for k in call.keywords)]
    if not values:
        return NO_ARGS
    return CONSTANT_ARGS if all(_constant(v) for v in values) else OTHER_ARGS


def _constant(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Tuple):
        return all(_constant(e) for e in node.elts)
    return isinstance(node, ast.Name) and node.id.isupper()


def _use(node: ast.AST, parent: Any, grand: Any) -> str:
    """READ when the value of ``node`` is only read by what holds it."""
    kind = type(parent)
    if kind is ast.Subscript and parent.value is node:
        return READ if type(parent.ctx) is ast.Load and not (type(grand) is ast.Call and grand.func is parent) else OTHER
    if kind is ast.Attribute and parent.value is node:
        return READ if parent.attr in _READ_METHODS else OTHER
    if kind in (ast.Compare, ast.BinOp, ast.FormattedValue, ast.JoinedStr, ast.BoolOp, ast.UnaryOp, ast.If,
                ast.IfExp, ast.Assert):
        return READ
    if kind in (ast.For, ast.AsyncFor, ast.comprehension) and parent.iter is node:
        return READ
    if kind is ast.Call and node in parent.args and type(parent.func) is ast.Name and parent.func.id in _READERS:
        return READ
    if kind is ast.Expr:
        return READ  # the result is thrown away
    return OTHER


def _absolute(package: str, target: str, level: int) -> str:
    if not level:
        return target
    parts = package.split(".") if package else []
    base = parts[:max(len(parts) - level + 1, 0)]
    return ".".join([*base, target] if target else base)


#: Words naming things a loop visits one by one because each is its own round
#: trip (a configured host, a plugin, a table) or already a batch (a chunk, a page).
ONE_EACH_WORDS = frozenset({
    "config", "configs", "conf", "configuration", "configurations", "settings", "host", "hosts", "hostname",
    "hostnames", "server", "servers", "instance", "instances", "plugin", "plugins", "backend", "backends",
    "table", "tables", "endpoint", "endpoints", "database", "databases", "shard", "shards", "cluster",
    "clusters", "chunk", "chunks", "chunked", "batch", "batches", "batched", "page", "pages", "paginate",
    "paginated", "paginator", "grouper",
})
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def _one_each(loop: Any, values: dict[str, ast.expr]) -> bool:
    """The loop's target, or what its iterable is named (``chunks(ids, 50)``,
    ``self.config.hosts``, or the value its iterable name was assigned), is
    named for hosts, plugins, tables, chunks, pages, ... (``ONE_EACH_WORDS``)."""
    iterable = loop.iter
    names = [n.id for n in ast.walk(loop.target) if type(n) is ast.Name]
    sources = [iterable]
    if type(iterable) is ast.Name and iterable.id in values:
        sources.append(values[iterable.id])
    for source in sources:
        while isinstance(source, (ast.Call, ast.Subscript)):
            source = source.func if isinstance(source, ast.Call) else source.value
        names.extend(_dotted(source).split("."))
    return any(not ONE_EACH_WORDS.isdisjoint(w.lower() for w in _WORD.findall(name)) for name in names if name)
