"""Rule concat-in-loop: a string, bytes or list rebuilt by concatenation in a loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from advisor._lazy import lazy_module
from advisor.rule import FileContext, Invalid, Rule, Valid
from advisor.rules.support.scopes import (
    Binding, Scope, ScopeRecorder, call_name, descendants, post_order, small_literal_loop, target_names,
)

if TYPE_CHECKING:
    import libcst as cst

    from advisor.first_pass import FirstPass
else:
    cst = lazy_module("libcst")

#: Calls whose result is a str whatever the arguments.
_STR_CALLS = frozenset({"str", "repr", "format", "chr", "ascii"})
_STR_METHODS = frozenset({"join", "format", "strip", "lstrip", "rstrip", "lower", "upper", "replace", "title"})


@dataclass(frozen=True)
class ConcatInLoopOptions:
    #: Also report plain `s += x` on a local str (linear on CPython, quadratic on PyPy).
    include_str: bool = True


class ConcatInLoop(Rule):
    """Build bytes and strings with `join()` and lists with `append`, not by concatenation in a loop.

    ## What it does
    Finds a variable that starts as a bytes, string or list literal and
    grows by concatenation inside a loop, in the forms that copy everything
    built so far on every iteration: `data += chunk` on bytes,
    `items = items + [x]`, `s = s + a + b` and `s = a + s` on strings, and
    any string concatenation on a module-level name; and, unless
    `include-str` is off, plain `s += x` on a local string.

    ## Why it matters
    Each such step copies the whole value, so n iterations copy O(n²)
    bytes. Measured on CPython 3.11, 100,000 steps of 8 bytes:
    `data += chunk` on bytes 2.0 s, `s = s + "abcd" + "efgh"` 32 s, a
    module-level `s += "abcdefgh"` 20 s; collecting parts and joining
    once takes about 10 ms. CPython extends a str in place for `s += x` /
    `s = s + x` on a local variable nothing else refers to (16 ms for the
    same loop): that form is quadratic on PyPy and whenever another
    reference exists, and its message says so; `include-str = false`
    silences it.

    ## Example
    ```python
    def read_all(sock):
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        return data
    ```

    ## Use instead
    ```python
    def read_all(sock):
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
        return b"".join(chunks)
    ```
    Or a `bytearray` (`buf += chunk` extends it in place); for strings
    `"".join(parts)`; for lists `items.append(x)` or `items += [x]`.

    ## Fix safety
    No automatic fix: rewriting changes the variable's type between
    iterations (code in the loop may read the partial value). This is a
    suggestion.

    ## Known limits
    Only names whose every assignment in the function (or module) is
    visibly a bytes, str or list value (a literal, an f-string, `str()`,
    `"".join()`, ...; `s = s.strip()` and the like keep its type) are
    checked; attributes (`self.buf += x`) and
    parameters are not. A loop over a literal of a few items or
    `range(<small constant>)` is skipped, as is a concatenation followed by
    `break`/`return` in the same block and a variable reset inside the
    loop (bounded chunks). The number of iterations is unknown: a loop over
    three headers is reported like a loop over a whole file. One finding is
    made per variable and loop.

    ## Options
    `include-str` (default true): report plain `s += x` and `s = s + x` on
    a local str, which CPython usually extends in place but PyPy and other
    interpreters copy; set it to false for CPython-only code.
    """

    id = "concat-in-loop"
    message = "`{target}` in a loop {verb}: {advice}"
    kind = "runtime"
    fix = "none"
    Options = ConcatInLoopOptions
    shared = (ScopeRecorder,)

    VALID = [
        Valid("""\
            def count(xs):
                n = 0
                for x in xs:
                    n += 1
                return n
        """, why="int-counter"),
        Valid("""\
            def flat(xss):
                out = []
                for xs in xss:
                    out += xs
                return out
        """, why="list-augmented-assignment-is-in-place"),
        Valid("""\
            def render(rows):
                out = ''
                for row in rows:
                    out += f'<tr>{row}</tr>'
                return out
        """, why="local-str-plus-equals-with-include-str-false", options={"include-str": False}),
        Valid("""\
            def join(parts, sep):
                for p in parts:
                    sep = sep + p + ','
                return sep
        """, why="parameter-of-unknown-type"),
        Valid("""\
            def f(a, b):
                s = b''
                s += a
                s += b
                return s
        """, why="not-in-a-loop"),
        Valid("""\
            def f(items):
                s = b''
                for x in items:
                    if x.ok:
                        s += x.name
                        break
                return s
        """, why="concatenation-then-break-runs-once"),
        Valid("""\
            def f(rows):
                out = []
                for row in rows:
                    line = b''
                    line += row.a
                    line += row.b
                    out.append(line)
                return out
        """, why="reset-every-iteration"),
        Valid("""\
            def f(x):
                s = b''
                for part in (b'a', b'b', b'c'):
                    s += part
                return s
        """, why="loop-over-a-few-literal-items"),
        Valid("""\
            def f(values):
                total = b''
                total = compute()
                for v in values:
                    total += v
                return total
        """, why="rebound-to-an-unknown-type"),
        Valid("""\
            class A:
                def f(self, xs):
                    for x in xs:
                        self.buf += x
        """, why="attribute-of-unknown-type"),
        Valid("""\
            def f(xs):
                s = b''
                for x in xs:
                    s += x
                    if len(s) > 100:
                        yield s
                        s = b''
        """, why="bounded-chunks-reset-in-the-loop"),
        Valid("""\
            def f(xs):
                s = 0.0
                for x in xs:
                    s = s + x + 1.0
                return s
        """, why="float-sum"),
        Valid("""\
            def b36(i):
                out = ''
                while i:
                    i, n = divmod(i, 36)
                    out = '0123456789abcdefghijklmnopqrstuvwxyz'[n] + out
                return out
        """, why="digit-loop-runs-once-per-digit"),
        Valid("""\
            def f(xs):
                global s
                s = b''
                for x in xs:
                    s += x
        """, why="global-of-unknown-type-elsewhere"),
    ]
    INVALID = [
        Invalid("""\
            def read(sock):
                data = b''
                while True:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                return data
        """, why="bytes-built-in-a-while-loop", line=7, message="b\"\".join"),
        Invalid("""\
            def f(xs):
                acc = []
                for x in xs:
                    acc = acc + [x * 2]
                return acc
        """, why="list-rebuilt-with-plus", line=4, message="append"),
        Invalid("""\
            def f(xs):
                s = ''
                for x in xs:
                    s = s + str(x) + ','
                return s
        """, why="string-rebuilt-with-chained-plus", line=4, message="`s = s + ... + ...`"),
        Invalid("""\
            def f(xs):
                s = ''
                for x in xs:
                    s = x.name + s
                return s
        """, why="string-prepended", line=4, message="`s = ... + s`"),
        Invalid("""\
            def f(rows):
                text = b''
                for row in rows:
                    for cell in row:
                        text += cell
                    text += b'\\n'
                return text
        """, why="nested-loops", line=5),
        Invalid("""\
            out = ''
            for i in range(1000):
                out += str(i)
        """, why="module-level-str", line=3, message="only local variables"),
        Invalid("""\
            def render(rows):
                out = ''
                for row in rows:
                    out += f'<tr>{row}</tr>'
                return out
        """, why="local-str-plus-equals", line=4, message="quadratic on PyPy"),
        Invalid("""
            def info(self):
                result = "an instance of "
                for klass in self.klasses:
                    if isinstance(klass, str):
                        result += klass
                    else:
                        result += describe("a", klass)
                    result += " or "
                result = result.strip(" or ")
                return result
            """, why="string-tidied-with-its-own-method-after-the-loop", line=6, message="`result += ...` in a loop"),
    ]

    @classmethod
    def may_report(cls, first_pass: "FirstPass", context: FileContext, options: ConcatInLoopOptions) -> bool:
        """Only a name grown in a loop (``x += ...``, ``x = x + ...``) that some
        assignment gives a value of visible str, bytes or list type."""
        return not first_pass.grown_in_loop.isdisjoint(first_pass.maybe_sequence)

    def finish(self) -> None:
        module = self.shared_state(ScopeRecorder).module
        for scope in post_order(module) if module is not None else ():
            if scope.kind in ("function", "module"):
                self._check_scope(scope)

    def _check_scope(self, scope: Scope) -> None:
        for name, bindings in scope.bindings.items():
            if name in scope.declared or name in scope.escaped:
                continue
            kind = _variable_kind(name, bindings)
            if kind is None:
                continue
            reported = set()  # one finding per variable and loop, at its first growth step
            for binding in bindings:
                form = _form(name, binding)
                if not binding.loops or form is None or binding.loops[-1] in reported:
                    continue
                verb = self._verb(kind, form, scope.kind == "module")
                if verb and not self._bounded(name, binding, bindings):
                    reported.add(binding.loops[-1])
                    self.report(binding.statement, target=_SHOWN[form].format(name=name), verb=verb,
                                advice=_ADVICE[kind], name=name, type=kind, form=form)

    def _verb(self, kind: str, form: str, module_level: bool) -> str | None:
        """What the growth costs, or None when it is cheap enough not to report."""
        if kind == "list":
            return None if form == "inplace-aug" else "copies the list built so far on every iteration"
        if kind == "bytes":
            return "copies the bytes built so far on every iteration"
        if form in ("chain", "prepend"):
            return "copies the string built so far on every iteration (CPython extends in place only `s += x`)"
        if module_level:
            return "copies the string built so far on every iteration (CPython extends only local variables in place)"
        if self.options.include_str:
            return "builds a string piece by piece (linear on CPython, quadratic on PyPy)"
        return None

    def _bounded(self, name: str, binding: Binding, bindings: list[Binding]) -> bool:
        """True when the growth cannot add up across iterations."""
        loop = binding.loops[-1]
        if small_literal_loop(loop) or _logarithmic_loop(loop):
            return True
        if any(loop in other.loops and _form(name, other) is None for other in bindings if other is not binding):
            return True  # reset inside the loop: bounded chunks
        return binding.line is not None and id(binding.line) in self._exiting

    # Blocks whose last statement leaves the loop or function: a statement in
    # them runs once per exit, not once per iteration.
    _exiting: set[int] = set()

    def visit_Module(self, node: "cst.Module") -> None:
        self._exiting = set()

    def visit_IndentedBlock(self, node: "cst.IndentedBlock") -> None:
        last = node.body[-1] if node.body else None
        if isinstance(last, cst.SimpleStatementLine) and any(
            isinstance(s, (cst.Break, cst.Return, cst.Raise)) for s in last.body
        ):
            self._exiting.update(id(statement) for statement in node.body)


_VERB = {
    "str": "builds a string piece by piece",  # CPython may extend a lone local str in place: no "copy" claim
    "bytes": "copies the bytes built so far on every iteration",
    "list": "copies the list built so far on every iteration",
}
_ADVICE = {
    "str": 'collect the parts in a list and `"".join()` them once',
    "bytes": 'collect the chunks in a list and `b"".join()` them once (or use a bytearray)',
    "list": "use `append`/`extend` (or `+=`), which grow the list in place",
}


def _logarithmic_loop(loop: Any) -> bool:
    """``while n: n, digit = divmod(n, base)`` (or ``n //= base``): the loop runs
    once per digit, so what it builds stays short."""
    if not isinstance(loop, cst.While):
        return False
    tested = {n.value for n in descendants(loop.test) if isinstance(n, cst.Name)}
    for node in descendants(loop.body):
        if isinstance(node, cst.AugAssign) and isinstance(node.operator, (cst.FloorDivideAssign, cst.RightShiftAssign)):
            if isinstance(node.target, cst.Name) and node.target.value in tested:
                return True
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Call) and call_name(node.value) == "divmod":
            first = node.value.args[0].value if node.value.args else None
            bound = {n for t in node.targets for n in target_names(t.target)}
            if isinstance(first, cst.Name) and first.value in tested and first.value in bound:
                return True
    return False


_SHOWN = {
    "inplace-aug": "{name} += ...",
    "inplace": "{name} = {name} + ...",
    "chain": "{name} = {name} + ... + ...",
    "prepend": "{name} = ... + {name}",
}


def _operands(node: Any) -> list[Any]:
    """The operands of a chain of ``+`` (left-associative), in order."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        return [*_operands(node.left), node.right]
    return [node]


def _form(name: str, binding: Binding) -> str | None:
    """How a binding grows ``name``: "inplace-aug" (``x += y``), "inplace"
    (``x = x + y``), "chain" (``x = x + y + z``), "prepend" (``x = y + x``),
    or None when it is not a growth step."""
    if binding.kind == "aug":
        return "inplace-aug" if isinstance(binding.statement.operator, cst.AddAssign) else None
    if binding.kind != "assign":
        return None
    operands = _operands(binding.value)
    if len(operands) < 2:
        return None
    is_name = [isinstance(o, cst.Name) and o.value == name for o in operands]
    if is_name[0] and not any(is_name[1:]):
        return "inplace" if len(operands) == 2 else "chain"
    if is_name[-1] and not any(is_name[:-1]):
        return "prepend"
    return None


def _variable_kind(name: str, bindings: list[Binding]) -> str | None:
    """"str", "bytes" or "list" when every binding visibly has that type and at
    least one plain assignment (not a growth step) sets it."""
    kinds: set[str | None] = set()
    initialised = False
    for binding in bindings:
        form = _form(name, binding)
        if binding.kind == "aug" and form is None:
            return None
        if form == "inplace-aug":
            continue
        if binding.kind not in ("assign", "annassign"):
            return None
        if form is not None:
            operands = _operands(binding.value)
            kinds.update(_expression_kind(o) for o in operands if not (isinstance(o, cst.Name) and o.value == name))
            continue
        if _tidies(name, binding.value):
            continue  # ``s = s.strip(" or ")``: a str method keeps the type of what it is called on
        kind = _expression_kind(binding.value)
        if kind in (None, "any"):
            return None
        kinds.add(kind)
        initialised = True
    known = kinds - {"any"}
    if not initialised or len(known) != 1:
        return None
    return known.pop()


def _tidies(name: str, value: Any) -> bool:
    """``name.strip(...)``/``name.replace(...)``: a str method called on the variable itself."""
    func = value.func if isinstance(value, cst.Call) else None
    return (isinstance(func, cst.Attribute) and func.attr.value in _STR_METHODS - {"join", "format"}
            and isinstance(func.value, cst.Name) and func.value.value == name)


def _expression_kind(node: Any) -> str | None:
    """The visible type of an expression: "str", "bytes", "list", "any" (could be
    either, e.g. a bare name on the right of ``x = x + y``) or None (other)."""
    if isinstance(node, cst.SimpleString):
        return "bytes" if "b" in node.prefix.lower() else "str"
    if isinstance(node, cst.FormattedString):
        return "str"
    if isinstance(node, cst.ConcatenatedString):
        return _expression_kind(node.left)
    if isinstance(node, (cst.List, cst.ListComp)):
        return "list"
    if isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Name) and func.value in _STR_CALLS:
            return "str"
        if isinstance(func, cst.Name) and func.value == "list":
            return "list"
        if isinstance(func, cst.Attribute) and func.attr.value in _STR_METHODS:
            return _expression_kind(func.value) if isinstance(func.value, (cst.SimpleString, cst.FormattedString)) else None
        return "any"
    if isinstance(node, cst.BinaryOperation):
        if isinstance(node.operator, cst.Modulo):
            return _expression_kind(node.left) if isinstance(node.left, (cst.SimpleString, cst.ConcatenatedString)) else None
        if isinstance(node.operator, cst.Add):
            sides = {_expression_kind(node.left), _expression_kind(node.right)} - {"any"}
            return sides.pop() if len(sides) == 1 else ("any" if not sides else None)
        return None
    if isinstance(node, (cst.Name, cst.Attribute, cst.Subscript)):
        return "any"
    return None
