"""Rule loop-invariant: expensive calls whose arguments never change in the loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from advisor._lazy import lazy_module
from advisor.rule import FileContext, Invalid, Rule, Valid

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
    "json.loads": _MUTABLE, "tomllib.loads": _MUTABLE, "tomli.loads": _MUTABLE, "toml.loads": _MUTABLE,
    "ast.literal_eval": _MUTABLE, "ast.parse": _MUTABLE,
    "builtins.sorted": Costly(mutable=True, container_arg=True),
    "xml.etree.ElementTree.fromstring": _MUTABLE, "lxml.etree.fromstring": _MUTABLE,
    "yaml.safe_load": Costly(mutable=True, literal_only=True), "yaml.load": Costly(mutable=True, literal_only=True),
    "pathlib.Path().read_text": _READ, "pathlib.Path().read_bytes": _READ, "inspect.getsource": _READ,
    "pandas.read_csv": _READ_MUTABLE, "pandas.read_json": _READ_MUTABLE, "pandas.read_parquet": _READ_MUTABLE,
    "pandas.read_excel": _READ_MUTABLE, "numpy.loadtxt": _READ_MUTABLE, "numpy.load": _READ_MUTABLE,
}
#: The modules of COSTLY (advisor/first_pass.py): a file importing none of them
#: can only call the builtin ``sorted``.
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
    `Path(CONFIG).read_text()`, `sorted(ALLOWED)`, `pd.read_csv(PATH)`,
    `inspect.signature(func)`, `struct.Struct(FMT)` and the like.

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
    `if x is None:`, over literal tuples and lists, and in test files. A
    global changed by a function the loop calls is not seen.

    ## Options
    `include-tests` (default false): also report test files.
    """

    id = "loop-invariant"
    message = "`{call}` computes the same result on every iteration (its arguments do not change in the loop); hoist it above the loop"
    kind = "runtime"
    fix = "none"
    Options = LoopInvariantOptions

    VALID = [
        Valid("import re\n\ndef match(patterns, s):\n    return [re.compile(p).match(s) for p in patterns]\n",
              why="argument-is-the-loop-variable"),
        Valid("import re\n\ndef build(words):\n    for w in words:\n        pattern = r'\\b' + w\n        yield re.compile(pattern)\n",
              why="argument-assigned-in-the-loop"),
        Valid("import json, time\n\ndef stamps(n):\n    return [json.loads(str(time.time())) for _ in range(n)]\n",
              why="argument-is-time-based"),
        Valid("import json\n\ndef rows(ids):\n    out = []\n    for i in ids:\n        row = json.loads(TEMPLATE)\n        row['id'] = i\n        out.append(row)\n    return out\n",
              why="mutable-result-is-changed-per-iteration"),
        Valid("import json\n\ndef docs(ids):\n    return [dict(json.loads(TEMPLATE), id=i) for i in ids]\n",
              why="mutable-result-passed-to-an-unknown-consumer"),
        Valid("from pathlib import Path\nimport time\n\ndef wait_ready(path):\n    while True:\n        if Path(path).read_text() == 'ready':\n            return\n        time.sleep(1)\n",
              why="file-polled-in-a-while-loop"),
        Valid("from pathlib import Path\n\ndef append_all(path, lines):\n    for line in lines:\n        text = Path(path).read_text()\n        Path(path).write_text(text + line)\n",
              why="loop-writes-the-file-it-reads"),
        Valid("def ordered(items, extra):\n    for x in extra:\n        items.append(x)\n        print(sorted(items))\n",
              why="sorted-argument-mutated-in-the-loop"),
        Valid("import re\n\ndef scan(lines):\n    pattern = None\n    for line in lines:\n        if pattern is None:\n            pattern = re.compile(PATTERN)\n        pattern.match(line)\n",
              why="lazy-initialisation-runs-once"),
        Valid("import re\n\ndef items(block, tag):\n    items = []\n    for line in block.split('\\n'):\n        if not items and tag == 'ol':\n            start = re.compile(r'(\\d+)').match(line)\n        items.append(line)\n    return items\n",
              why="first-iteration-only-branch-guarded-by-loop-state"),
        Valid("import re\n\ndef scan(lines):\n    for line in lines:\n        re.compile(make_pattern()).match(line)\n",
              why="argument-calls-an-unknown-function"),
        Valid("import re\n\nfor flag in (re.I, re.M):\n    re.compile('x', flag)\n",
              why="literal-iterable"),
        Valid("import sys\n\ndef load(things):\n    for thing in things:\n        found = import_all(thing)\n        for name in sorted(sys.modules, key=len):\n            print(found, name)\n",
              why="sorted-of-module-state-that-imports-in-the-loop-change"),
        Valid("def plan(steps, done):\n    for step in steps:\n        run(step, done)\n        print(sorted(done))\n",
              why="sorted-argument-passed-to-a-call-in-the-loop"),
        Valid("import re\n\ndef f(lines):\n    for line in lines:\n        re.compile(P).match(line)\n", why="test-files-are-skipped", path="tests/test_re.py"),
    ]
    INVALID = [
        Invalid("import re\n\ndef valid(emails):\n    return [e for e in emails if re.compile(r'[^@]+@[^@]+').fullmatch(e)]\n",
                why="re-compile-constant-in-a-comprehension", line=4, message="`re.compile()` computes the same result on every iteration"),
        Invalid("import json\n\ndef keys(rows):\n    for row in rows:\n        if row['k'] in json.loads(ALLOWED):\n            yield row\n",
                why="json-loads-constant-read-only", line=5, message="`json.loads()`"),
        Invalid("from datetime import datetime\n\ndef late(events):\n    return [e for e in events if e.when > datetime.strptime('2024-01-01', '%Y-%m-%d')]\n",
                why="strptime-of-constants", line=4, message="datetime.strptime()"),
        Invalid("from pathlib import Path\n\ndef tag(items, config):\n    for item in items:\n        item.header = Path(config).read_text()\n",
                why="path-read-text-of-an-invariant-name", line=5, message="read_text()"),
        Invalid("def show(rows, allowed):\n    for row in rows:\n        for name in sorted(allowed):\n            print(row, name)\n",
                why="sorted-of-an-unchanged-name-in-an-inner-loop", line=3, message="`sorted()`"),
        Invalid("import re\n\ndef words(rows):\n    for row in rows:\n        if row.kind == 'text':\n            yield re.compile(r'\\w+').findall(row.body)\n",
                why="branch-on-the-loop-item-still-repeats", line=6, message="`re.compile()`"),
        Invalid("import pandas as pd\n\ndef score(models):\n    for m in models:\n        frame = pd.read_csv('data.csv')\n        m.fit(frame.values)\n",
                why="read-csv-of-a-constant-path", line=5, message="pd.read_csv()"),
    ]

    @classmethod
    def may_report(cls, first_pass: "FirstPass", context: FileContext, options: LoopInvariantOptions) -> bool:
        """A call in a loop to a costly API: ``sorted``, or a call ending in
        a costly name of a module the file imports (``compile`` and ``re``),
        or a call of an alias, in a file that imports one of the modules."""
        if not first_pass.loop or not cls.runs_on(context, options):
            return False
        called = first_pass.called_in_loop
        if "sorted" in called:
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

    def visit_Assign(self, node: "cst.Assign") -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.assigned[id(node.value)] = node.targets[0].target.value

    def visit_If(self, node: "cst.If") -> None:
        self.if_tests.append(names_read(node.test))

    def leave_If(self, original_node: "cst.If") -> None:
        self.if_tests.pop()

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
        self.report(node, call=f"{short_code(func)}()", loop_depth=len(loops), hoist_levels=levels, api=symbol)

    def _hoistable(self, node: "cst.Call", costly: Costly, loop: Loop) -> bool:
        if loop.literal_iter:
            return False
        if costly.io and (loop.kind == "while" or any(c.rsplit(".", 1)[-1] in WRITERS for c in loop.facts.callees)):
            return False
        if costly.literal_only and not all(type(a.value).__name__ in _STRINGS for a in node.args):
            return False
        if costly.container_arg and not _unshared_container(node, loop):
            return False
        if not self._invariant(node, loop):
            return False
        target = self.assigned.get(id(node))
        if target is not None and any(target in names for names in self.if_tests):
            return False  # lazy initialisation: runs once
        changing = (loop.variant | loop.facts.stored) - names_read(getattr(loop.node, "target", cst.Name("_")))
        if any(names & changing for names in self.if_tests):
            return False  # guarded by state the loop changes (``if not items:``): a first-time-only branch
        if costly.mutable and id(node) not in self.readonly:
            return target is not None and target not in loop.facts.mutated
        return True

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
        return self.resolve(func) in PURE


def _unshared_container(node: "cst.Call", loop: Loop) -> bool:
    """The container argument is a literal, or a name no call in the loop is given."""
    if not node.args:
        return False
    value = node.args[0].value
    if isinstance(value, (cst.List, cst.Tuple, cst.Set, cst.Dict)):
        return True
    return isinstance(value, cst.Name) and value.value not in loop.facts.passed


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
