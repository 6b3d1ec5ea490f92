"""Rule missing-cache: a deterministic function that redoes expensive work on every call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from advisor._lazy import lazy_module
from advisor.findings import Finding
from advisor.rule import PER_FILE_CACHES, FileContext, Invalid, Rule, Valid, WithoutTree
from advisor.rules.support.call_index import CallIndex
from advisor.rules.support.calls import file_calls
from advisor.rules.support.repeated_calls import called_repeatedly
from advisor.rules.support.scopes import Scope, ScopeRecorder, call_name, descendants, walk
from advisor.rules.support.purity import READ_METHODS, Purity, HASHABLE_ANNOTATIONS

if TYPE_CHECKING:
    import libcst as cst

    from advisor.evidence.profile import Evidence
    from advisor.first_pass import FirstPass
    from advisor.project import Project
else:
    cst = lazy_module("libcst")


@dataclass(frozen=True)
class MissingCacheOptions:
    #: Call sites (outside loops, inside functions) that make a function "called repeatedly".
    min_call_sites: int = 3
    #: With runtime evidence (advisor profile): a function called at least this often...
    observed_min_calls: int = 10
    #: ...with at most this share of distinct argument tuples...
    observed_max_distinct_share: float = 0.2
    #: ...whose repeated calls took more than this many milliseconds is reported.
    observed_min_ms: float = 50.0


class MissingCache(Rule):
    """Cache deterministic functions that redo expensive work on every call.

    ## What it does
    Finds a module-level function (or a method that never reads `self`)
    that reads and parses a file, compiles
    several regular expressions, walks a directory, reads package metadata
    or builds a constant table, whose result depends only on hashable
    arguments, and that the project calls repeatedly: inside a loop or
    comprehension, or from several call sites. Calls are followed across
    modules: a loader defined in `settings.py`, called once by
    `pricing.price()`, which a loop in `orders.py` calls per item, is
    called in a loop.

    ## Why it matters
    Measured on CPython 3.11: reading and parsing a 50-key JSON file takes
    ~60 µs, `importlib.metadata.version()` ~1.2 ms, walking a 30-file
    directory ~220 µs; a cached call costs ~0.1 µs. In a loop of 10,000
    items that is 0.6 s to 12 s spent recomputing one answer. (`re.compile`
    keeps its own cache of recent patterns, ~0.75 µs a call: it matters
    only together with other work or beyond 512 patterns.)

    ## Example
    ```python
    def load_settings():
        with open(SETTINGS_PATH) as f:
            return json.load(f)

    def total(items):
        return sum(i.base * load_settings()["vat"] for i in items)
    ```

    ## Use instead
    ```python
    @functools.cache
    def load_settings():
        with open(SETTINGS_PATH) as f:
            return json.load(f)
    ```
    Use `functools.lru_cache(maxsize=N)` when arguments vary widely, and
    return immutable values (tuples, frozensets, `MappingProxyType`) when
    callers could mutate a shared result.

    ## Fix safety
    No automatic fix: caching is a judgement that the answer never changes
    while the process runs (a file edited meanwhile is not re-read). This
    is a suggestion.

    ## Known limits
    Module-level functions are checked, and methods that never read `self`
    (a method that reads `self` may depend on state that changes; caching one
    with `functools.cache` would also keep every instance alive, so the
    advice is a cached `@staticmethod`). A function is treated as pure only when every call
    in it is to a known side-effect-free builtin or standard-library
    function, to another such function of the module, or a read-only method;
    it must not read mutable module globals, time, randomness or the
    environment. A file or directory read whose path comes from a parameter
    is not reported (the caller's file may change between calls).
    Unannotated parameters count as hashable only when every call site
    passes constants. A mutable result (list, dict) is accepted only when
    every caller only reads it (`load()["key"]`, or a name only read
    afterwards). Calls from other modules are followed through imports
    (`from pkg.settings import load`, `import pkg.settings as s`, a package
    `__init__` that re-exports the function) and up to three functions above
    a loop; calls on other receivers (`obj.load()`), functions passed as
    values and calls from test files are not counted.

    ## Options
    `min-call-sites` (default 3): how many call sites outside loops make a
    function count as called repeatedly (one call inside a loop always does).
    `observed-min-calls` (default 10), `observed-max-distinct-share` (default
    0.2) and `observed-min-ms` (default 50): with runtime evidence from
    `advisor profile`, a project function called at least this often, with
    at most this share of distinct argument tuples, equal results for equal
    arguments and more than this many milliseconds spent in its repeated
    calls is reported even where the static check could not prove it pure
    (see docs/runtime-evidence.md).
    """

    id = "missing-cache"
    message = "`{function}()` {work} on every call and is called {how}: cache it with `@functools.cache`"
    kind = "runtime"
    fix = "none"
    Options = MissingCacheOptions
    shared = (ScopeRecorder,)

    VALID = [
        Valid("""\
            import re

            def patterns():
                print('compiling')
                return re.compile('a+b'), re.compile('c+')

            def f(xs):
                return [patterns()[0].match(x) for x in xs]
        """, why="side-effect-print"),
        Valid("""\
            import json, time

            def load():
                with open('c.json') as f:
                    data = json.load(f)
                data['at'] = time.time()
                return data

            def f(xs):
                return [load()['k'] for x in xs]
        """, why="reads-the-clock"),
        Valid("""\
            import re

            PATTERNS = []

            def compiled():
                return tuple(re.compile(p) for p in PATTERNS)

            def f(xs):
                return [len(compiled()) for x in xs]
        """, why="reads-a-mutable-global"),
        Valid("""\
            import re

            def matcher(words: list):
                return re.compile('|'.join(words)), re.compile(' '.join(words))

            def f(xs, ws):
                return [matcher(ws)[0].match(x) for x in xs]
        """, why="unhashable-list-argument"),
        Valid("""\
            import os

            def files():
                return [os.path.join(d, f) for d, _, fs in os.walk('src') for f in fs]

            def f(xs):
                for x in xs:
                    found = files()
                    found.append(x)
        """, why="result-mutated-by-caller"),
        Valid("""\
            import functools, re

            @functools.cache
            def patterns():
                return re.compile('a+b'), re.compile('c+')

            def f(xs):
                return [patterns()[0].match(x) for x in xs]
        """, why="already-cached"),
        Valid("""\
            import os

            def walk():
                for d, _, fs in os.walk('src'):
                    yield from fs

            def f(xs):
                return [list(walk()) for x in xs]
        """, why="generator"),
        Valid("""\
            import re

            class Parser:
                def patterns(self):
                    return re.compile(self.expr), re.compile(self.sep)

                def run(self, xs):
                    return [self.patterns()[0].match(x) for x in xs]
        """, why="method-with-mutable-self"),
        Valid("""\
            import json

            def load():
                with open('state.json') as f:
                    return json.load(f)

            def save(state):
                with open('state.json', 'w') as f:
                    json.dump(state, f)

            def run(xs):
                for x in xs:
                    save({'n': load()['n'] + 1})
        """, why="module-writes-files"),
        Valid("""\
            import re

            def patterns():
                return re.compile('a+b'), re.compile('c+')

            def f(x):
                return patterns()[0].match(x)
        """, why="called-once"),
        Valid("""\
            import os, re

            def tokens():
                return re.compile(os.environ['TOKEN_RE']), re.compile('c+')

            def f(xs):
                return [tokens()[0].match(x) for x in xs]
        """, why="reads-the-environment"),
        Valid("""\
            import re

            def patterns(word):
                return re.compile(word + '+'), re.compile(word + '*')

            def f(xs):
                return [patterns(x)[0].match(x) for x in xs]
        """, why="argument-of-unknown-type"),
        Valid("""\
            import re

            def word_re():
                return re.compile(r'\\w+')

            def f(xs):
                return [word_re().findall(x) for x in xs]
        """, why="one-regex-compile-is-cached-by-re"),
        Valid("""\
            import json

            def load(path: str):
                with open(path) as f:
                    return json.load(f)

            def f(xs):
                return [load('a.json')['k'] for x in xs]
        """, why="reads-a-path-the-caller-passes"),
        Valid("""\
            import json
            from app.util import check

            def load():
                with open('c.json') as f:
                    return check(json.load(f))

            def f(xs):
                return [load()['k'] for x in xs]
        """, why="calls-an-unknown-function"),
    ]
    INVALID = [
        Invalid("""\
            import json

            def load_settings():
                with open('settings.json') as f:
                    return json.load(f)

            def vat(region):
                return load_settings()['vat'][region]

            def totals(orders):
                return [o.amount * (1 + vat(o.region)) for o in orders]
        """, why="called-once-by-a-function-that-a-loop-calls", line=3, message="through `vat()`"),
        Invalid("""\
            import json
            import os

            class Catalog:
                def products(self):
                    with open(os.path.join(os.path.dirname(__file__), 'products.json')) as f:
                        return json.load(f)

                def names(self, skus):
                    return [self.products()[s]['name'] for s in skus]
        """, why="method-that-never-reads-self-called-in-a-loop", line=5, message="make it a `@staticmethod`"),
        Invalid("""\
            import json

            def load_settings():
                with open('settings.json') as f:
                    return json.load(f)

            def price(items):
                return [i * load_settings()['vat'] for i in items]
        """, why="reads-and-parses-a-file-in-a-loop", line=3, message="reads and parses a file"),
        Invalid("""\
            import re

            def tokenizers(lang: str):
                words = r'\\w+' if lang == 'en' else r'\\S+'
                return re.compile(words), re.compile(r'\\d+'), re.compile(r'\\s+')

            def count(texts):
                n = 0
                for t in texts:
                    n += len(tokenizers('en')[0].findall(t))
                return n
        """, why="compiles-regexes-with-a-str-argument", line=3, message="compiles regular expressions"),
        Invalid("""\
            import os

            def sources():
                return tuple(os.path.join(d, f) for d, _, fs in os.walk('src') for f in fs)

            def a():
                return len(sources())

            def b():
                return sorted(sources())

            def c():
                return 'x.py' in sources()
        """, why="walks-a-directory-from-three-call-sites", line=3, message="from 3 call sites"),
        Invalid("""\
            ALPHABET = 'abcdefghijklmnopqrstuvwxyz'

            def table():
                return {c: i for i, c in enumerate(ALPHABET)}

            def encode(text):
                return [table()[c] for c in text]
        """, why="builds-a-constant-table", line=3, message="builds a constant table"),
        Invalid("""\
            import json
            from app.errors import ConfigError

            def load():
                with open('c.json') as f:
                    data = json.load(f)
                if 'k' not in data:
                    raise ConfigError('no k')
                return data

            def f(xs):
                return [load()['k'] + x for x in xs]
        """, why="raising-an-exception-is-not-a-side-effect", line=4),
        Invalid("""\
            from importlib.metadata import version

            def agent():
                return 'tool/' + version('tool')

            def send(reqs):
                for r in reqs:
                    r.headers['User-Agent'] = agent()
        """, why="reads-package-metadata", line=3, message="package metadata"),
    ]

    @classmethod
    def may_report(cls, first_pass: "FirstPass", context: FileContext, options: MissingCacheOptions) -> bool:
        """Only a plain top-level function that may do costly work (called here,
        or by other modules: their calls are counted project-wide)."""
        return first_pass.cached_work_candidate(called_here=False)

    @classmethod
    def from_tree(cls, first_pass: "FirstPass", context: FileContext, options: MissingCacheOptions) -> WithoutTree:
        """Every file's calls of functions that may be the project's (not test
        files': a test calling a loader ten times says nothing about the program)."""
        if context.is_test or first_pass.tree is None:
            return WithoutTree()
        return WithoutTree(facts={"calls": file_calls(first_pass.tree, context.module, context.path.endswith("__init__.py"))})

    def finish(self) -> None:
        scope = self.shared_state(ScopeRecorder).module
        if scope is None:
            return
        purity = Purity(scope)
        called = _called_names(scope)
        for child in scope.children:
            node = child.node
            if child.kind == "class":
                called_on_self = {call_name(c).partition(".")[2] for m in child.children for c, _ in m.calls
                                  if call_name(c).startswith(("self.", "cls."))}
                for method in child.children:
                    if _self_free_method(method) and method.node.name.value in called_on_self:
                        self._consider(method, purity, False, owner=node.name.value)
                continue
            if child.kind != "function" or node.decorators or node.asynchronous is not None:
                continue
            if child.generator or child.awaits or len(scope.bindings.get(node.name.value, ())) != 1:
                continue
            self._consider(child, purity, node.name.value in called)

    def _consider(self, function: Scope, purity: Purity, called_here: bool, owner: str = "") -> None:
        work = purity.work_done(function)
        if not work or not purity.is_pure(function):
            return
        if "reads and parses a file" in work or "walks a directory" in work:
            if purity.module_writes_files:
                return
        if _reads_a_parameter_path(function):
            return  # a path the caller supplies: the file may differ, or change, between calls
        if (owner or not called_here) and not LASTING_WORK.intersection(work):
            return  # followed across modules only for lasting work (as the first pass looks)
        name = f"{owner}.{function.node.name.value}" if owner else function.node.name.value
        sites = call_sites(purity, function) if called_here else []
        if sites is None:
            return  # a call site passes unknown arguments or mutates the result
        in_loop = sum(1 for s in sites if s.in_loop)
        data: dict[str, Any] = {"function": name, "work": " and ".join(work)}
        if owner:
            data["method"] = True  # its calls (``self.name()``) are all judged project-wide
        if in_loop:
            how = "in a loop" if in_loop == 1 else f"in {in_loop} loops"
        elif len(sites) >= self.options.min_call_sites:
            how = f"from {len(sites)} call sites"
        else:  # maybe called repeatedly from other modules: decided project-wide (refine)
            self.report(function.node.name, how="(pending)", pending=True, local_sites=len(sites),
                        immutable=purity.returns_immutable(function),
                        hashable=_hashable_parameters(function, skip_self=bool(owner)), **data)
            return
        self.report(function.node.name, how=how, **data)

    @classmethod
    def refine(cls, findings: list[Finding], project: "Project", options: MissingCacheOptions,
               evidence: "Evidence | None") -> Iterable[Finding]:
        """Candidates not called repeatedly in their own module are kept when the
        project calls them repeatedly: from a loop (a level or more up, in any
        module) or from enough call sites."""
        index: CallIndex | None = None
        for finding in findings:
            if not finding.data.get("pending"):
                yield finding
                continue
            if index is None:
                index = CallIndex.of(project, cls.id)
            decided = called_repeatedly(finding, index, project.module_of(finding.path), options.min_call_sites)
            if decided is not None:
                how, via = decided
                data = {k: v for k, v in finding.data.items() if k not in _PENDING_KEYS}
                message = cls.message.format(how=how, **data)
                if data.get("method"):  # functools.cache on a method would keep every instance alive
                    message = message.replace("cache it with `@functools.cache`",
                                              "it never reads `self`: make it a `@staticmethod` cached with `@functools.cache`")
                yield finding.with_(message=message, data={**data, "how": how, "via": via})


_PENDING_KEYS = ("pending", "local_sites", "immutable", "hashable", "how")
#: Work worth following a function across modules for (first_pass.LASTING_WORK_CALLS finds its calls).
LASTING_WORK = frozenset({"reads and parses a file", "walks a directory", "reads package metadata",
                          "inspects source code"})


def _self_free_method(method: Scope) -> bool:
    """A plain method (no decorator, not async, not a generator, not a dunder)
    that never reads ``self``: its result depends on its arguments alone. (Its
    class must call it as ``self.name()``: the first pass looks no further.)"""
    if method.kind != "function":
        return False  # a nested class (Django's ``class Meta``)
    node = method.node
    params = [*node.params.posonly_params, *node.params.params]
    if node.decorators or node.asynchronous is not None or not params:
        return False
    if method.generator or method.awaits or node.name.value.startswith("__"):
        return False
    this = params[0].name.value
    return all(n.value != this for scope in (method, *method.children) for n, _ in scope.names)


def _hashable_parameters(function: Scope, skip_self: bool = False) -> bool:
    """Every parameter (but a method's ``self``) is annotated with a hashable type
    (so any argument can key a cache)."""
    params = function.node.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params][1 if skip_self else 0:]
    return all(_hashable_annotation(p.annotation) for p in every)


_FILE_READS = frozenset({"open", "read_text", "read_bytes", "load", "safe_load", "reader", "DictReader", "listdir",
                         "scandir", "walk", "glob", "iglob", "rglob", "iterdir", "Path"})


def _reads_a_parameter_path(function: Scope) -> bool:
    """A file or directory read whose path comes from a parameter (``open(path)``,
    ``Path(folder).iterdir()``): a user-supplied path that may change between calls."""
    params = {n for n, bs in function.bindings.items() if any(b.kind == "param" for b in bs)}
    if not params:
        return False
    for scope in (function, *function.children):
        for call, _ in scope.calls:
            if call_name(call).rsplit(".", 1)[-1] not in _FILE_READS and not (
                    isinstance(call.func, cst.Attribute) and call.func.attr.value in _FILE_READS):
                continue
            parts = [a.value for a in call.args] + ([call.func.value] if isinstance(call.func, cst.Attribute) else [])
            if any(isinstance(n, cst.Name) and n.value in params for part in parts for n in descendants(part)):
                return True
    return False


def _called_names(module: Scope) -> set[str]:
    """Every callee name in the module, whole and by its last part."""
    names: set[str] = set()
    todo = [module]
    while todo:
        scope = todo.pop()
        todo.extend(scope.children)
        for call, _ in scope.calls:
            dotted = call_name(call)
            names.add(dotted)
            names.add(dotted.rpartition(".")[2])
    return names


@dataclass(frozen=True)
class Site:
    """One call of the candidate function."""

    in_loop: bool


_READ_RESULT_METHODS = READ_METHODS | {"pattern", "flags", "parameters", "return_annotation"}
_READERS = frozenset({"len", "sorted", "set", "frozenset", "tuple", "list", "dict", "enumerate", "min", "max",
                      "any", "all", "sum", "zip", "reversed", "str", "repr", "isinstance", "iter", "bool", "int"})
_SCOPE_NODES = ("FunctionDef", "Lambda", "ClassDef")


def call_sites(purity: Purity, function: Scope) -> list[Site] | None:
    """Every call of ``function`` in the module, or None when one of them passes
    arguments of unknown hashability, could mutate a shared result, or the
    function is used as a value (a callback, a key function)."""
    node = function.node
    name = node.name.value
    immutable = purity.returns_immutable(function)
    sites = []
    for current, ancestors in _names_in_module(purity).get(name, ()):
        if any(a is node for a in ancestors):
            continue
        parent = ancestors[-1] if ancestors else None
        if parent is node or isinstance(parent, cst.ImportAlias) or (
                isinstance(parent, cst.Attribute) and parent.value is not current):
            continue  # its own name, ``x.name`` or ``from m import name as y``: not this function
        if not isinstance(parent, cst.Call) or parent.func is not current:
            return None  # referenced as a value: called with arguments we cannot see
        if not _arguments_ok(purity, function, parent):
            return None
        if not immutable and not _result_read_only(parent, ancestors[:-1]):
            return None
        inside_function = any(type(a).__name__ in _SCOPE_NODES for a in ancestors)
        looping = _in_loop(parent, ancestors[:-1])
        if inside_function or looping:
            sites.append(Site(looping))
    return sites


#: id(module node) -> (module node, name -> [(Name node, its ancestors)]): one walk
#: of the module serves every candidate (a walk per candidate was quadratic: 30 s
#: on pip's 8,000-line idna table). Emptied after every file.
_NAME_INDEX: dict[int, tuple[Any, dict[str, list[tuple[Any, tuple[Any, ...]]]]]] = {}
PER_FILE_CACHES.append(_NAME_INDEX)


def _names_in_module(purity: Purity) -> dict[str, list[tuple[Any, tuple[Any, ...]]]]:
    module = purity.module.node
    cached = _NAME_INDEX.get(id(module))
    if cached is not None and cached[0] is module:
        return cached[1]
    index: dict[str, list[tuple[Any, tuple[Any, ...]]]] = {}
    for current, ancestors in walk(module):
        if isinstance(current, cst.Name):
            index.setdefault(current.value, []).append((current, ancestors))
    _NAME_INDEX[id(module)] = (module, index)
    return index


def _arguments_ok(purity: Purity, function: Scope, call: Any) -> bool:
    """Every argument is hashable: a constant, or for a parameter annotated
    with a hashable type, anything."""
    params = function.node.params
    positional = [*params.posonly_params, *params.params]
    by_name = {p.name.value: p for p in (*positional, *params.kwonly_params)}
    for index, arg in enumerate(call.args):
        if arg.star:
            return False
        if arg.keyword is not None:
            param = by_name.get(arg.keyword.value)
        else:
            param = positional[index] if index < len(positional) else None
        if param is None:
            return False
        if not _hashable_annotation(param.annotation) and not purity.immutable(arg.value):
            return False
    return True


def _hashable_annotation(annotation: Any) -> bool:
    if annotation is None:
        return False
    names = {n.value for n in descendants(annotation.annotation) if isinstance(n, cst.Name)}
    return bool(names) and names <= HASHABLE_ANNOTATIONS


def _result_read_only(node: Any, ancestors: tuple[Any, ...]) -> bool:
    """The call's result is only read where it is used (so sharing it is safe)."""
    if not ancestors:
        return False
    parent = ancestors[-1]
    grand = ancestors[-2] if len(ancestors) > 1 else None
    if isinstance(parent, cst.Attribute) and parent.value is node:
        return parent.attr.value in _READ_RESULT_METHODS and isinstance(grand, cst.Call) or (
            parent.attr.value in _READ_RESULT_METHODS and not isinstance(grand, cst.Call))
    if isinstance(parent, cst.Subscript) and parent.value is node:
        return not isinstance(grand, (cst.AssignTarget, cst.AugAssign, cst.Del)) and _result_read_only(parent, ancestors[:-1]) or (
            not isinstance(grand, (cst.AssignTarget, cst.AugAssign, cst.Del, cst.Attribute)))
    if isinstance(parent, (cst.ComparisonTarget, cst.Comparison, cst.BinaryOperation, cst.FormattedStringExpression)):
        return True
    if isinstance(parent, (cst.For, cst.CompFor)):
        return parent.iter is node
    if isinstance(parent, cst.Arg) and isinstance(grand, cst.Call):
        return call_name(grand) in _READERS
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
        return _name_read_only(parent.targets[0].target.value, ancestors)
    return False


def _name_read_only(name: str, ancestors: tuple[Any, ...]) -> bool:
    """Every use of ``name`` in the enclosing function (or module) only reads it."""
    scope = next((a for a in reversed(ancestors) if type(a).__name__ in ("FunctionDef", "Module")), None)
    if scope is None:
        return False
    for node, above in walk(scope):
        if not isinstance(node, cst.Name) or node.value != name or not above:
            continue
        parent = above[-1]
        if isinstance(parent, cst.AssignTarget):
            continue  # (re)binding the name itself
        if isinstance(parent, (cst.Attribute, cst.Param, cst.Arg)) and getattr(parent, "value", None) is not node and not isinstance(parent, cst.Arg):
            continue  # an attribute or parameter that merely shares the name
        if not _result_read_only(node, above):
            return False
    return True


def _in_loop(node: Any, ancestors: tuple[Any, ...]) -> bool:
    """Is ``node`` evaluated once per iteration of a loop in its own function?"""
    chain = (*ancestors, node)
    start = max((i for i, a in enumerate(chain[:-1]) if type(a).__name__ in _SCOPE_NODES), default=-1) + 1
    for outer, inner in zip(chain[start:-1], chain[start + 1:]):
        if isinstance(outer, cst.For) and inner is outer.body:
            return True
        if isinstance(outer, cst.While) and inner in (outer.body, outer.test):
            return True
        if isinstance(outer, (cst.ListComp, cst.SetComp, cst.GeneratorExp)) and inner is outer.elt:
            return True
        if isinstance(outer, cst.DictComp) and inner in (outer.key, outer.value):
            return True
        if isinstance(outer, cst.CompFor) and (inner is outer.inner_for_in or inner in outer.ifs):
            return True
    return False
