"""Rule loop-invariant: expensive calls whose arguments never change in the loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from advisor._lazy import lazy_module
from advisor.rule import FileContext, Invalid, Rule, Valid

from advisor.rules.support.loop_copies import (
    COPIES, VIEWS, ends_loop, first_item_guard, may_copy_in_loop, result_escapes, retry_loop, runs_once, source_of,
    stable_source,
)
from advisor.rules.support.frames import READ_METHODS, Loop, LoopWalkMixin, names_read, short_code
from advisor.rules.support.round_trips import roots

if TYPE_CHECKING:
    import libcst as cst

    from advisor.first_pass import FirstPass
else:
    cst = lazy_module("libcst")


@dataclass(frozen=True)
class Costly:
    """An expensive, deterministic call."""

    #: Returns a mutable object: hoisting would share it between iterations.
    mutable: bool = False
    #: Reads a file: may legitimately change between iterations of a polling loop.
    io: bool = False
    #: Accepts a stream too: only a string literal argument is safe to hoist.
    literal_only: bool = False
    #: Reads a container: only a local name no call in the loop receives (nor a
    #: module attribute such as ``sys.modules``, which imports change) is safe.
    container_arg: bool = False


_IMMUTABLE, _MUTABLE = Costly(), Costly(mutable=True)
_READ, _READ_MUTABLE = Costly(io=True), Costly(mutable=True, io=True)
COSTLY: dict[str, Costly] = {
    "re.compile": _IMMUTABLE, "regex.compile": _IMMUTABLE, "struct.Struct": _IMMUTABLE,
    "string.Template": _IMMUTABLE, "jinja2.Template": _IMMUTABLE, "inspect.signature": _IMMUTABLE,
    "datetime.datetime.strptime": _IMMUTABLE, "time.strptime": _IMMUTABLE,
    # A whole regex operation on arguments the loop does not change: the same scan every time.
    "re.search": _IMMUTABLE, "re.match": _IMMUTABLE, "re.fullmatch": _IMMUTABLE, "re.sub": _IMMUTABLE,
    "re.subn": _IMMUTABLE, "re.findall": _MUTABLE, "re.split": _MUTABLE,
    "json.loads": _MUTABLE, "tomllib.loads": _MUTABLE, "tomli.loads": _MUTABLE, "toml.loads": _MUTABLE,
    "ast.literal_eval": _MUTABLE, "ast.parse": _MUTABLE,
    **{symbol: Costly(mutable=mutable, container_arg=True) for symbol, mutable in COPIES.items()},
    "xml.etree.ElementTree.fromstring": _MUTABLE, "lxml.etree.fromstring": _MUTABLE,
    "yaml.safe_load": Costly(mutable=True, literal_only=True), "yaml.load": Costly(mutable=True, literal_only=True),
    "pathlib.Path().read_text": _READ, "pathlib.Path().read_bytes": _READ, "inspect.getsource": _READ,
    "pandas.read_csv": _READ_MUTABLE, "pandas.read_json": _READ_MUTABLE, "pandas.read_parquet": _READ_MUTABLE,
    "pandas.read_excel": _READ_MUTABLE, "numpy.loadtxt": _READ_MUTABLE, "numpy.load": _READ_MUTABLE,
}
#: The modules of COSTLY (advisor/first_pass.py): a file importing none of them
#: can only call the builtins that copy a container (COPIES).
COSTLY_ROOTS = roots(COSTLY)
#: The last part of each costly call -> the modules it comes from (``compile`` -> re, regex).
COSTLY_NAMES: dict[str, frozenset[str]] = {}
for _symbol in COSTLY:
    _last = _symbol.rsplit(".", 1)[-1]
    COSTLY_NAMES[_last] = COSTLY_NAMES.get(_last, frozenset()) | {_symbol.split(".")[0]}
#: Calls that may appear inside the arguments of a hoistable call.
PURE = frozenset({
    "builtins.str", "builtins.int", "builtins.float", "builtins.bytes", "builtins.tuple",
    "builtins.frozenset", "builtins.len", "builtins.repr", "os.path.join", "os.path.dirname",
    "os.fspath", "pathlib.Path", "re.escape",
})
#: Calls that only read their arguments (a mutable result passed to them is safe to share).
CONSUMERS = frozenset({
    "builtins.len", "builtins.list", "builtins.set", "builtins.tuple", "builtins.frozenset",
    "builtins.enumerate", "builtins.zip", "builtins.any", "builtins.all", "builtins.sum",
    "builtins.min", "builtins.max", "builtins.sorted", "builtins.print", "builtins.str",
    "builtins.repr", "builtins.bool", "builtins.isinstance", "builtins.reversed",
})
#: Calls in a loop that may change a file read by the loop.
WRITERS = frozenset({
    "write", "write_text", "write_bytes", "writelines", "dump", "to_csv", "to_parquet", "unlink",
    "rename", "replace", "touch", "mkdir", "makedirs", "remove", "rmtree", "save", "truncate",
    "copy", "copyfile", "move", "open", "run", "call", "check_call", "system",
})
_STRINGS = ("SimpleString", "ConcatenatedString", "FormattedString")
#: What each copying builtin builds, for the message.
_COPY_NAMES = frozenset(symbol.removeprefix("builtins.") for symbol in COPIES)
_KINDS = {"set": "set", "list": "list", "dict": "dict", "sorted": "sorted list", "dir": "list of names",
          "tuple": "tuple", "frozenset": "frozenset"}


@dataclass(frozen=True)
class LoopInvariantOptions:
    #: Also report test files.
    include_tests: bool = False


class LoopInvariant(LoopWalkMixin, Rule):
    """An expensive call whose arguments do not change inside the loop.

    ## What it does
    Finds calls to known-expensive, deterministic functions inside a loop
    body or comprehension when every argument is a literal or a name the
    loop neither rebinds nor mutates: `re.compile(PATTERN)`,
    `json.loads(TEMPLATE)`, `datetime.strptime(START, FMT)`,
    `Path(CONFIG).read_text()`, `pd.read_csv(PATH)`,
    `inspect.signature(func)`, `struct.Struct(FMT)`, a whole regex
    operation on unchanged arguments (`re.findall(PATTERN, page)`,
    `re.search`, `re.sub`) and the like; and
    copies of a container the loop does not change: `set(names)`,
    `list(d.keys())`, `sorted(self.allowed)`, `tuple(x)`, `frozenset(x)`,
    `dict(x)`, `dir(obj)`.

    ## Why it matters
    The loop pays the same cost on every iteration for the same answer.
    Measured per call on a busy two-core machine (timeit): `json.loads` of
    a 1.3 KB document ~190 µs, `Path.read_text` of a small file ~120 µs,
    `datetime.strptime` ~65 µs, and even `re.compile`, which hits the `re`
    module's cache, ~3 µs. Times the loop's iteration count, that is
    seconds for 100,000 items; hoisted, it is paid once.

    ## Example
    ```python
    def valid(emails):
        return [e for e in emails if re.compile(r"[^@]+@[^@]+").fullmatch(e)]
    ```

    ## Use instead
    ```python
    EMAIL = re.compile(r"[^@]+@[^@]+")

    def valid(emails):
        return [e for e in emails if EMAIL.fullmatch(e)]
    ```

    ## Fix safety
    No automatic fix yet: hoisting is a suggestion. It is equivalent only
    when nothing in the loop changes what the call reads; for calls that
    return a mutable object (`json.loads`, `sorted`), the rule reports only
    when the loop reads the result without changing it.

    ## Known limits
    Stays silent when an argument depends on a loop variable or on a name
    assigned or mutated in the loop (any method call other than a known
    read-only one counts as a mutation), when an argument contains another
    call that is not known to be pure (so `time.time()`, `random.*` and
    `uuid4()` keep it silent), for file reads in `while` loops and in loops
    that write files or run commands, for lazy initialisation inside
    `if x is None:` or `if i == 0:`, over literal tuples and lists, in
    retry loops (`for attempt in range(3)`, `for retry in RetryManager()`:
    they run once unless something fails), and in test files. A call in
    the test of an `if` runs on every iteration and is checked like any
    other; a branch guarded by a test of the item itself (`if s not in
    seen:`) runs once per new item, not once, and is checked too. A copy (`set(x)`, `list(x)`, ...) is reported only when `x`
    is a name or attribute chain (or its `keys()`/`values()`/`items()`)
    that the loop does not rebind, mutate (any method other than a known
    read, `del`, `+=`, item or attribute assignment), pass to a call, or
    change through its root (`self.register()` may change `self.plugins`);
    not when `x` is consumed once (a generator, `iter()`, a file, a
    `csv.reader`), a module global some function of the module changes, in
    `while` loops, in loops that end in `break`/`return`, in a branch that
    raises, returns or breaks (it runs once), nor when the copy is changed,
    stored, yielded or handed on (each iteration needs its own). A global
    changed by a function of another module is not seen.

    ## Options
    `include-tests` (default false): also report test files.
    """

    id = "loop-invariant"
    message = "`{call}` computes the same result on every iteration (its arguments do not change in the loop); hoist it above the loop"
    kind = "runtime"
    fix = "none"
    Options = LoopInvariantOptions

    VALID = [
        Valid("""\
            import re

            def match(patterns, s):
                return [re.compile(p).match(s) for p in patterns]
        """,
              why="argument-is-the-loop-variable"),
        Valid("""\
            import re

            def build(words):
                for w in words:
                    pattern = r'\\b' + w
                    yield re.compile(pattern)
        """,
              why="argument-assigned-in-the-loop"),
        Valid("""\
            import json, time

            def stamps(n):
                return [json.loads(str(time.time())) for _ in range(n)]
        """,
              why="argument-is-time-based"),
        Valid("""\
            import json

            def rows(ids):
                out = []
                for i in ids:
                    row = json.loads(TEMPLATE)
                    row['id'] = i
                    out.append(row)
                return out
        """,
              why="mutable-result-is-changed-per-iteration"),
        Valid("""\
            import json

            def docs(ids):
                return [dict(json.loads(TEMPLATE), id=i) for i in ids]
        """,
              why="mutable-result-passed-to-an-unknown-consumer"),
        Valid("""\
            from pathlib import Path
            import time

            def wait_ready(path):
                while True:
                    if Path(path).read_text() == 'ready':
                        return
                    time.sleep(1)
        """,
              why="file-polled-in-a-while-loop"),
        Valid("""\
            from pathlib import Path

            def append_all(path, lines):
                for line in lines:
                    text = Path(path).read_text()
                    Path(path).write_text(text + line)
        """,
              why="loop-writes-the-file-it-reads"),
        Valid("""\
            def ordered(items, extra):
                for x in extra:
                    items.append(x)
                    print(sorted(items))
        """,
              why="sorted-argument-mutated-in-the-loop"),
        Valid("""\
            import re

            def scan(lines):
                pattern = None
                for line in lines:
                    if pattern is None:
                        pattern = re.compile(PATTERN)
                    pattern.match(line)
        """,
              why="lazy-initialisation-runs-once"),
        Valid("""\
            import re

            def items(block, tag):
                items = []
                for line in block.split('\\n'):
                    if not items and tag == 'ol':
                        start = re.compile(r'(\\d+)').match(line)
                    items.append(line)
                return items
        """,
              why="first-iteration-only-branch-guarded-by-loop-state"),
        Valid("""\
            import re

            def scan(lines):
                for line in lines:
                    re.compile(make_pattern()).match(line)
        """,
              why="argument-calls-an-unknown-function"),
        Valid("""\
            import re

            for flag in (re.I, re.M):
                re.compile('x', flag)
        """,
              why="literal-iterable"),
        Valid("""\
            import sys

            def load(things):
                for thing in things:
                    found = import_all(thing)
                    for name in sorted(sys.modules, key=len):
                        print(found, name)
        """,
              why="sorted-of-module-state-that-imports-in-the-loop-change"),
        Valid("""\
            def plan(steps, done):
                for step in steps:
                    run(step, done)
                    print(sorted(done))
        """,
              why="sorted-argument-passed-to-a-call-in-the-loop"),
        Valid("""\
            import re

            def f(lines):
                for line in lines:
                    re.compile(P).match(line)
        """, why="test-files-are-skipped", path="tests/test_re.py"),
        Valid("""
            def mark(self, nodes, consumed):
                for node in nodes:
                    consumed.remove(node)
                    if node in set(consumed):
                        self.dupes.append(node)
            """, why="copied-list-mutated-by-a-method-in-the-loop"),
        Valid("""
            def rows(table, data):
                it = iter(data)
                for column in table.columns:
                    column.values = list(it)
            """, why="iterator-consumed-by-the-first-copy"),
        Valid("""
            def gather(fn, kwargs):
                parameters = inspect.signature(fn).parameters.keys()
                for parameter in parameters:
                    if parameter not in kwargs:
                        raise TypeError(f"missing: {set(parameters) - set(kwargs.keys())}")
            """, why="copy-in-a-branch-that-raises-runs-once"),
        Valid("""
            def duplicate(li, links):
                for link in li:
                    if link.get("class") == "footnote-backref":
                        el = list(li)[-1]
                        el.extend(links)
                        break
            """, why="copy-in-a-branch-that-breaks-runs-once"),
        Valid("""
            def header(rows, names):
                for i, row in enumerate(rows):
                    if i == 0:
                        columns = list(names)
                    print(row, columns)
            """, why="first-iteration-branch"),
        Valid("""
            def widgets(forms, defaults):
                out = []
                for form in forms:
                    attrs = dict(defaults)
                    attrs["id"] = form.id
                    out.append(attrs)
                return out
            """, why="copy-changed-and-kept-per-iteration"),
        Valid("""
            def reset(forms, defaults):
                return [dict(defaults) for form in forms]
            """, why="comprehension-builds-one-fresh-copy-per-item"),
        Valid("""
            def drain(pending):
                while pending:
                    batch = list(pending)
                    pending.clear()
                    handle(batch)
            """, why="while-loop-changes-what-it-copies"),
        Valid("""
            class Registry:
                def load(self, names):
                    for name in names:
                        self.register(name)
                        print(sorted(self.plugins))
            """, why="method-call-on-self-may-change-the-attribute"),
        Valid("""
            SEEN = []

            def record(item):
                SEEN.append(item)

            def walk(items):
                for item in items:
                    record(item)
                    print(sorted(SEEN))
            """, why="module-list-changed-by-a-function-of-the-module"),
        Valid("""
            def lines(path, keys):
                with open(path) as handle:
                    for key in keys:
                        print(key, list(handle))
            """, why="file-object-is-read-once"),
        Valid("""
            import re

            def episodes(items):
                for item in items:
                    info = {}
                    for key in ("title", "synopsis"):
                        info[key] = item.get(key)
                    found = re.search(r"^S(\\d+)\\s+E(\\d+)", info["title"])
                    yield found
            """, why="regex-on-a-dict-the-loop-changes"),
        Valid("""
            import re

            def fields(rows, header):
                for row in rows:
                    names = re.split(",", header)
                    names.append(row.id)
                    print(names)
            """, why="regex-split-result-changed-per-iteration"),
        Valid("""
            def entries(self, user):
                seen_ids = set()
                for page in itertools.count(1):
                    for retry in self.RetryManager():
                        batch = sorted(self.download(user, page))
                        if batch and batch == sorted(seen_ids):
                            retry.error = ValueError("the same page again")
                    seen_ids.update(batch)
            """, why="retry-loop-runs-once-unless-it-fails"),
    ]
    INVALID = [
        Invalid("""\
            import re

            def valid(emails):
                return [e for e in emails if re.compile(r'[^@]+@[^@]+').fullmatch(e)]
        """,
                why="re-compile-constant-in-a-comprehension", line=4, message="`re.compile()` computes the same result on every iteration"),
        Invalid("""\
            import json

            def keys(rows):
                for row in rows:
                    if row['k'] in json.loads(ALLOWED):
                        yield row
        """,
                why="json-loads-constant-read-only", line=5, message="`json.loads()`"),
        Invalid("""\
            from datetime import datetime

            def late(events):
                return [e for e in events if e.when > datetime.strptime('2024-01-01', '%Y-%m-%d')]
        """,
                why="strptime-of-constants", line=4, message="datetime.strptime()"),
        Invalid("""\
            from pathlib import Path

            def tag(items, config):
                for item in items:
                    item.header = Path(config).read_text()
        """,
                why="path-read-text-of-an-invariant-name", line=5, message="read_text()"),
        Invalid("""\
            def show(rows, allowed):
                for row in rows:
                    for name in sorted(allowed):
                        print(row, name)
        """,
                why="sorted-of-an-unchanged-name-in-an-inner-loop", line=3, message="`sorted(allowed)` builds the same sorted list"),
        Invalid("""\
            import re

            def words(rows):
                for row in rows:
                    if row.kind == 'text':
                        yield re.compile(r'\\w+').findall(row.body)
        """,
                why="branch-on-the-loop-item-still-repeats", line=6, message="`re.compile()`"),
        Invalid("""\
            import pandas as pd

            def score(models):
                for m in models:
                    frame = pd.read_csv('data.csv')
                    m.fit(frame.values)
        """,
                why="read-csv-of-a-constant-path", line=5, message="pd.read_csv()"),
        Invalid("""
            class NamesConsumer:
                def mark_as_consumed(self, name, consumed_nodes):
                    unconsumed = [n for n in self.to_consume[name] if n not in set(consumed_nodes)]
                    self.consumed[name] = consumed_nodes
                    return unconsumed
            """, why="set-of-a-parameter-in-a-comprehension-filter", line=4,
                message="`set(consumed_nodes)` builds the same set on every iteration"),
        Invalid("""
            def fix_suffixes(genfiles, source_suffix):
                ext = list(source_suffix)
                return [g + ("" if g.endswith(tuple(ext)) else ext[0]) for g in genfiles]
            """, why="tuple-of-a-local-list-per-item", line=4, message="`tuple(ext)`"),
        Invalid("""
            def changed(rows, options):
                for row in rows:
                    for key in list(options.keys()):
                        if row.get(key) != options[key]:
                            yield row
            """, why="list-of-dict-keys-in-an-inner-loop", line=4, message="`list(options.keys())`"),
        Invalid("""
            REGISTERED = {"d": 1, "e": 2}

            def parse(spec):
                for ch in reversed(spec):
                    if ch in list(REGISTERED.keys()) + ["~"]:
                        return ch
            """, why="list-of-module-dict-keys-in-a-test", line=6, message="`list(REGISTERED.keys())`"),
        Invalid("""
            def public(objects, module):
                return [o for o in objects if o.__name__ in dir(module)]
            """, why="dir-of-an-unchanged-object", line=3, message="`dir(module)`"),
        Invalid("""
            class Form:
                def clean(self, values):
                    for value in values:
                        if value not in sorted(self.allowed):
                            raise ValueError(value)
            """, why="sorted-attribute-in-a-loop-that-raises-only-on-a-bad-item", line=5,
                message="`sorted(self.allowed)`"),
        Invalid("""
            import re

            def links(candidates, player_params):
                for title, html in candidates:
                    attrs = parse(html)
                    if any(c in attrs.get("class", "") for c in re.findall(r'\\.not\\("\\.([^"]+)', player_params)):
                        continue
                    yield title
            """, why="regex-findall-in-the-test-of-an-if-on-loop-state", line=7, message="`re.findall()`"),
        Invalid("""
            def sanitize_choices(choices, choices_all):
                seen = set()
                res = []
                for s in choices:
                    if s not in seen:
                        if s in list(choices_all):
                            res.append(s)
                    seen.add(s)
                return res
            """, why="copy-under-a-test-of-the-item-against-a-growing-set", line=7,
                message="`list(choices_all)`"),
    ]

    @classmethod
    def may_report(cls, first_pass: "FirstPass", context: FileContext, options: LoopInvariantOptions) -> bool:
        """A call in a loop to a costly API: a builtin that copies (``set(x)``, ``sorted(self.x)``, called by
        its name in the per-item part of a loop: ``may_copy_in_loop``), or a call ending in
        a costly name of a module the file imports (``compile`` and ``re``),
        or a call of an alias, in a file that imports one of the modules."""
        if not first_pass.loop or not cls.runs_on(context, options):
            return False
        called = first_pass.called_in_loop
        if not called.isdisjoint(_COPY_NAMES) and (first_pass.tree is None or may_copy_in_loop(
                first_pass.tree, _COPY_NAMES)):
            return True
        if any(first_pass.mentions(COSTLY_NAMES[name]) for name in called.intersection(COSTLY_NAMES)):
            return True
        return first_pass.calls_alias_in_loop() and first_pass.mentions(COSTLY_ROOTS)

    def __init__(self, context: FileContext, options: LoopInvariantOptions) -> None:
        super().__init__(context, options)
        self.init_walk()
        self.enabled = self.runs_on(context, options)
        #: id(expression) of values used read-only, or assigned to a name (-> that name).
        self.readonly: set[int] = set()
        self.assigned: dict[int, str] = {}
        self.if_tests: list[set[str]] = []
        #: The tests of the enclosing ``if`` statements (``if i == 0:`` runs once).
        self.guards: list[Any] = []
        self.module: Any = None
        #: (frame, loop depth) of each enclosing block that leaves the loop when it ends
        #: (``raise``/``return`` statements, ``if`` bodies ending in one): it runs once.
        self.exiting: list[tuple[int, int]] = []

    # -- contexts, recorded on the way down ---------------------------------------------

    def visit_For(self, node: "cst.For") -> None:
        self.readonly.add(id(node.iter))

    def visit_CompFor(self, node: "cst.CompFor") -> None:
        self.readonly.add(id(node.iter))

    def visit_Comparison(self, node: "cst.Comparison") -> None:
        self.readonly.add(id(node.left))
        self.readonly.update(id(c.comparator) for c in node.comparisons)

    def visit_Subscript(self, node: "cst.Subscript") -> None:
        self.readonly.add(id(node.value))

    def visit_BinaryOperation(self, node: "cst.BinaryOperation") -> None:
        self.readonly.update((id(node.left), id(node.right)))  # ``list(a) + b`` makes a new object

    def visit_Assign(self, node: "cst.Assign") -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.assigned[id(node.value)] = node.targets[0].target.value

    def visit_Module(self, node: "cst.Module") -> None:
        self.module = node

    def visit_If_body(self, node: "cst.If") -> None:
        # The body only: a call in the test itself runs on every iteration.
        self.if_tests.append(names_read(node.test))
        self.guards.append(node.test)
        self._enter_exit(node)

    def leave_If_body(self, node: "cst.If") -> None:
        self.if_tests.pop()
        self.guards.pop()
        self._leave_exit(node)

    def _enter_exit(self, node: Any) -> None:
        self.exiting.append((id(self.frame), len(self.frame.loops)) if ends_loop(node) else (0, -1))

    def _leave_exit(self, node: Any) -> None:
        self.exiting.pop()

    visit_Else = visit_Return = visit_Raise = _enter_exit
    leave_Else = leave_Return = leave_Raise = _leave_exit

    # -- findings ---------------------------------------------------------------------------

    def visit_Call(self, node: "cst.Call") -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in READ_METHODS:
            self.readonly.add(id(func.value))
        symbol = self.resolve(func)
        if symbol in CONSUMERS:
            self.readonly.update(id(arg.value) for arg in node.args)
        costly = COSTLY.get(symbol)
        loops = self.frame.loops
        if costly is None or not loops or not self.enabled or not self._hoistable(node, costly, loops[-1]):
            return
        levels = sum(1 for _ in _while_invariant(self, node, loops))
        call = f"{short_code(func)}()"
        message = None
        if costly.container_arg:
            source, kind = short_code(source_of(node)), symbol.removeprefix("builtins.")
            message = (f"`{kind}({short_code(node.args[0].value)})` builds the same {_KINDS[kind]} on every "
                       f"iteration (the loop does not change `{source}`); build it once above the loop")
        self.report(node, message, call=call, loop_depth=len(loops), hoist_levels=levels, api=symbol)

    def _hoistable(self, node: "cst.Call", costly: Costly, loop: Loop) -> bool:
        if loop.literal_iter or retry_loop(loop):
            return False  # a few literal items; a retry loop runs once unless something fails
        if costly.io and (loop.kind == "while" or any(c.rsplit(".", 1)[-1] in WRITERS for c in loop.facts.callees)):
            return False
        if costly.literal_only and not all(type(a.value).__name__ in _STRINGS for a in node.args):
            return False
        if costly.container_arg and not self._stable_copy(node, loop):
            return False
        if not self._invariant(node, loop):
            return False
        targets = names_read(loop.node.target) if isinstance(loop.node, (cst.For, cst.CompFor)) else set()
        if any(first_item_guard(test, targets) for test in self.guards):
            return False  # ``if i == 0:``: runs once
        target = self.assigned.get(id(node))
        if target is not None and any(target in names for names in self.if_tests):
            return False  # lazy initialisation: runs once
        changing = (loop.variant | loop.facts.stored) - names_read(getattr(loop.node, "target", cst.Name("_")))
        if any(names & changing and not names & targets for names in self.if_tests):
            return False  # guarded by state the loop changes (``if not items:``): a first-time-only branch;
            # a test of the item itself (``if s not in seen:``) runs once per new item, not once
        if costly.mutable and id(node) not in self.readonly:
            return target is not None and target not in loop.facts.mutated and not _escapes(target, loop)
        return True

    def _stable_copy(self, node: "cst.Call", loop: Loop) -> bool:
        """A copy of a container nothing in a loop that repeats can change (rules/_loop_copies.py)."""
        if loop.kind == "while" or runs_once(loop) or (id(self.frame), len(self.frame.loops)) in self.exiting:
            return False
        source = source_of(node)
        function = next((f.node for f in reversed(self.frames) if f.kind == "function"), None)
        return source is not None and stable_source(source, loop, function, self.module)

    def _invariant(self, node: "cst.Call", loop: Loop) -> bool:
        names = names_read(node)
        if names & loop.variant or (names & loop.facts.mutated) - self.imported:
            return False
        return all(self._pure(call) for call in _inner_calls(node))

    def _pure(self, call: Any) -> bool:
        if not isinstance(call, cst.Call):
            return False  # a lambda or an await
        func = call.func
        if isinstance(func, cst.Attribute) and type(func.value).__name__ in _STRINGS:
            return func.attr.value in READ_METHODS
        if isinstance(func, cst.Attribute) and func.attr.value in VIEWS and not call.args:
            return True  # ``d.keys()``: a view of a mapping the caller checked is unchanged
        return self.resolve(func) in PURE


def _escapes(target: str, loop: Loop) -> bool:
    """A mutable result assigned in the loop is stored, yielded or handed on."""
    return not hasattr(loop.node, "body") or result_escapes(target, loop)


def _while_invariant(rule: LoopInvariant, node: "cst.Call", loops: list[Loop]) -> Any:
    """Yield once per enclosing loop (innermost first) the call is invariant in."""
    for loop in reversed(loops):
        if not rule._invariant(node, loop):
            return
        yield loop


def _inner_calls(node: "cst.Call") -> list[Any]:
    """Calls (and lambdas, awaits) nested in ``node``'s arguments and receiver."""
    found: list[Any] = []

    def walk(child: Any) -> None:
        if isinstance(child, cst.Call):
            found.append(child)
        if isinstance(child, (cst.Lambda, cst.Await)):
            found.append(child)  # never pure: keeps the call in place
            return
        for grandchild in child.children:
            walk(grandchild)

    for child in node.children:
        walk(child)
    return found
