"""lazy-imports' name-usage analysis and its reports, from CPython's ``ast``:
where each module-level name is read (at import time, inside a function,
only in annotations, and whether something reads those annotations at run
time), and for each top-level import the rule's decision (``rule.decide``).

This is the rule's one analysis. A scan runs it on the tree the worker
already has (``LazyImports.without_tree``); the rule's libcst walk (code
the first pass skips) runs it on the same text (``LazyImports.finish``);
the fix summary's reasons (``explain.py``) read the same decisions. Spans
are those ``advisor.engine.positions.node_spans`` gives for the libcst
import node, so a finding is at the same place whichever path made it.

No scope analysis: a local that shadows an import counts as a use, which
can only make the rule quieter, never wrong. Stdlib only.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass
from typing import Any, Iterator

from advisor.findings import Span
from advisor.rules.lazy_imports.facts import _HANDLERS, _NAME_STRINGS, _Walker
from advisor.rules.support.imports import ImportTarget, ast_dotted_name as _dotted
from advisor.rules.lazy_imports.usage import _IDENTIFIER, ANNOTATION_READERS, PASSIVE_BASES, PASSIVE_DECORATORS, SIGNATURE_READERS, Use


@dataclass(frozen=True)
class Report:
    """One pre-refine lazy-imports report: where, what it says, its data."""

    span: Span
    message: str
    data: dict[str, Any]
    #: The top-level import statement and the node reported (it, or one alias of it).
    statement: Any = None
    node: Any = None


def lazy_reports(tree: ast.Module, module: str, is_package: bool, text: str, is_test: bool,
                 options: Any, config: Any) -> tuple[dict[str, Any], list[Report]]:
    """(``facts["imports"]`` for the project step, the reports before ``refine``).

    ``module``/``is_package``/``is_test`` as in the rule's FileContext,
    ``options`` its LazyImportsOptions, ``config`` the Config. The facts
    carry ``deferrable`` (the statements reported) except on dynamic files
    and skipped test files. Raises RecursionError on a tree too deep to walk."""
    from advisor.rules.lazy_imports.rule import LazyImports

    walker = walk(tree, module, is_package, text)
    facts = walker.facts()
    reports: list[Report] = []
    if walker.dynamic or (is_test and not options.include_tests):
        return facts, reports
    deferrable: list[str] = []
    for node, at, target, decision in decisions(walker, options, is_package):
        if decision.data is not None:
            reports.append(Report(walker.span(at, node), LazyImports.message.format(**decision.data), decision.data, node, at))
            deferrable.append(target.statement)
    facts["deferrable"] = deferrable
    return facts, reports


def walk(tree: ast.Module, module: str | None, is_package: bool, text: str) -> "_ReportWalker":
    """The analysis of one module: run it once, then read ``decisions`` (and ``facts()``)."""
    walker = _ReportWalker(module, is_package, text)
    walker.run(tree)
    walker.finish_uses()
    return walker


def decisions(walker: "_ReportWalker", options: Any, is_package: bool) -> Iterator[tuple[Any, Any, ImportTarget, Any]]:
    """(top-level import node, the node a report points at, target, ``rule.Decision``)
    for every target of every top-level import, in source order."""
    from advisor.rules.lazy_imports.rule import decide

    for node, targets in walker.top_level:
        for target in targets:
            decision = decide(target, walker, walker.parameters, options, is_package and bool(getattr(node, "level", 0)))
            yield node, (node if len(targets) == 1 else _alias_node(node, target)), target, decision


class _ReportWalker(_Walker):
    """The facts walker, also recording where each name is read, the
    parameters of each function, ``__all__``, annotation readers and calls in loops."""

    def __init__(self, module: str | None, is_package: bool, text: str) -> None:
        super().__init__(module, is_package, text)
        self.uses: Any = None  # filled by finish_uses
        self._by_use: dict[tuple[Any, ...], set[str]] = {}
        self.current: set[str] = set()
        self.strings = False  # a str/bytes constant seen in the annotation being walked
        self.dunder_all: set[str] = set()
        self.reads_annotations = False
        self.value_refs: set[str] = set()
        self.called_in_loop: set[str] = set()
        self.imported_names: set[str] = set()  # names the module's top-level imports bind
        self.decorators_at_import: set[str] = set()  # this module's names applied as decorators while it is imported
        self.parameters: dict[str, set[str]] = {}
        self.top_level: list[tuple[Any, list[ImportTarget]]] = []
        self.stack: list[tuple[str, str, bool]] = []  # (kind, qualname, its annotations are read at run time) of open defs/classes
        self.outer_function = ""
        self.loop_depth = 0
        self._refresh()

    def run(self, tree: ast.Module) -> None:
        for statement in tree.body:
            if type(statement) is ast.ImportFrom and statement.module == "__future__":
                continue
            if type(statement) in (ast.Import, ast.ImportFrom):
                targets = self.targets(statement)
                if targets:
                    self.top_level.append((statement, targets))
        self.imported_names = {name for _, targets in self.top_level for target in targets for name in target.bound}
        self.decorators_at_import = set(_decorators_at_import(tree.body))
        super().run(tree)

    def targets(self, node: Any) -> list[ImportTarget]:
        """What an ``ast`` import statement loads and binds (``support.imports.targets_of``'s answer)."""
        if type(node) is ast.Import:
            return [ImportTarget(module=a.name, bound=(a.asname or a.name.split(".")[0],)) for a in node.names]
        module = self._absolute(node)
        if not module:
            return []
        return [ImportTarget(module=module, names=tuple(a.name for a in node.names),
                             bound=tuple(a.asname or a.name for a in node.names))]

    # -- uses ------------------------------------------------------------------------
    # Names are collected per Use (``self.current``: the names read under the
    # Use that holds here), and inverted to name -> uses once, after.

    def _refresh(self) -> None:
        """Point ``self.current`` at the names read under the Use that holds here."""
        if self.body_depth:
            key: tuple[Any, ...] = ("function", self.outer_function, False)
        elif self.annotation and self.stack:
            key = ("annotation", self.stack[-1][1], self.stack[-1][2])
        elif self.annotation and self.future:
            key = ("annotation", "", False)
        else:
            key = ("module", "", False)
        self.current = self._names_of(key)

    def _names_of(self, key: tuple[Any, ...]) -> set[str]:
        found = self._by_use.get(key)
        if found is None:
            found = self._by_use[key] = set()
        return found

    def finish_uses(self) -> None:
        """``self.uses``: name -> its Uses, for the few names the rule asks about."""
        wanted = {name for _, targets in self.top_level for target in targets for name in target.bound}
        self.uses = _Uses(self._by_use, wanted)

    def name(self, node: ast.Name) -> None:
        name = node.id
        self.current.add(name)
        self.value_refs.add(name)

    def identifiers(self, node: Any) -> None:
        for field in _NAME_STRINGS[type(node)]:
            value = getattr(node, field)
            names = [value] if isinstance(value, str) else value or ()
            self.current.update(names)
            self.value_refs.update(names)
        _Walker.identifiers(self, node)

    def global_(self, node: ast.Global) -> None:
        self._names_of(("module", "", False)).update(node.names)  # ``global x``: x is rebound from a function, a module use
        self.current.update(node.names)
        self.value_refs.update(node.names)
        _Walker.global_(self, node)

    def _annotation(self, node: Any) -> None:
        if self.body_depth:  # a function use, whatever the annotation
            _Walker._annotation(self, node)
            return
        outer, self.annotation = self.annotation, True
        self._refresh()
        self.strings = False
        self.visit(node)
        if self.strings:
            for token in self._strings(node):  # names in a string annotation are annotation uses (an f-string holds a Constant too)
                self.current.update(_IDENTIFIER.findall(token[1:]))
        self.annotation = outer
        self._refresh()

    def constant(self, node: ast.Constant) -> None:
        if self.annotation and type(node.value) in (str, bytes):
            self.strings = True

    def _strings(self, node: Any) -> list[str]:
        """The plain (not f-) string tokens of ``node``'s source."""
        segment = self._segment(node)
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO("(" + segment + ")").readline))
        except (tokenize.TokenError, SyntaxError):
            return []
        return [t.string for t in tokens if t.type == tokenize.STRING
                and "f" not in t.string[:t.string.find(t.string[-1])].lower()]

    # -- scopes --------------------------------------------------------------------------

    def function(self, node: Any) -> None:
        if self.body_depth:
            self._parameters(node.args, self.outer_function)
            _Walker.function(self, node)
            return
        qualname = f"{self.stack[-1][1]}.{node.name}" if self.stack else node.name
        self.stack.append(("function", qualname, _function_runtime(node)))
        self._parameters(node.args, qualname)
        _Walker.function(self, node)
        self.stack.pop()

    def _body(self, body: list[Any]) -> None:
        if not self.body_depth:
            self.outer_function = self.stack[-1][1]
            self.body_depth += 1
            self._refresh()
            self.visit_all(body)
            self.body_depth -= 1
            self._refresh()
        else:
            _Walker._body(self, body)

    def lambda_(self, node: ast.Lambda) -> None:
        owner = self.outer_function if self.body_depth else (
            self.stack[-1][1] if self.stack and self.stack[-1][0] == "function" else "")
        self._parameters(node.args, owner)
        _Walker.lambda_(self, node)

    def _parameters(self, args: ast.arguments, owner: str) -> None:
        """LazyImports.visit_Param: the parameter names of ``owner``."""
        if not owner:
            return
        names = [a.arg for a in (*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg) if a is not None]
        if names:
            self.parameters.setdefault(owner, set()).update(names)

    def class_(self, node: ast.ClassDef) -> None:
        if self.body_depth:
            _Walker.class_(self, node)
            return
        qualname = f"{self.stack[-1][1]}.{node.name}" if self.stack else node.name
        self.stack.append(("class", qualname, _class_runtime(node)))
        _Walker.class_(self, node)
        self.stack.pop()

    def loop(self, node: Any) -> None:
        self.loop_depth += 1
        self.children(node)
        self.loop_depth -= 1

    # -- calls and __all__ ----------------------------------------------------------------

    def call(self, node: ast.Call) -> None:
        called = self.call_facts(node)
        last = called.rpartition(".")[2]
        if called in ANNOTATION_READERS or last in ("get_type_hints", "get_annotations"):
            self.reads_annotations = True
        if self.loop_depth and last and called.partition(".")[0] not in self.imported_names:
            self.called_in_loop.add(last)  # (``linter.run()`` in a loop is another module's run(), not this one's)
        # (LazyImports.visit_Call's ``globals()`` in a function: call_facts marks it dynamic)
        func = node.func
        if type(func) is ast.Name:  # a called name is a use, but no value reference
            self.current.add(func.id)
        else:
            self.visit(func)
        self.visit_all(node.args)
        self.visit_all(node.keywords)

    def assign(self, node: Any) -> None:
        targets = node.targets if type(node) is ast.Assign else [node.target]
        if not self.body_depth and type(node.value) in (ast.List, ast.Tuple, ast.Set) and any(
                type(t) is ast.Name and t.id == "__all__" for t in targets):
            for element in node.value.elts:
                if type(element) is ast.Constant and type(element.value) is str and self._simple_string(element):
                    self.dunder_all.add(element.value)
        _Walker.assign(self, node)

    # -- positions -----------------------------------------------------------------------

    def _lines(self) -> list[str]:
        if self.text_lines is None:  # numbered as ast numbers them
            self.text_lines = (self.text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return self.text_lines

    def _segment(self, node: Any) -> str:
        lines = self._lines()[node.lineno - 1:node.end_lineno]
        lines[-1] = lines[-1].encode()[:node.end_col_offset].decode(errors="replace")
        lines[0] = lines[0].encode()[node.col_offset:].decode(errors="replace")
        return "\n".join(lines)

    def span(self, node: Any, statement: Any) -> Span:
        """``node``'s Span (in top-level ``statement``) as node_spans gives it
        for the libcst node: columns in characters (ast counts UTF-8 bytes),
        lines counted by "\\n" only (a bare "\\r" ends a line for ast, not
        there), and libcst drops the whitespace (a form feed) that may open a
        module-level line."""
        lines = self._lines()
        line, end_line = node.lineno, node.end_lineno
        column = _column(lines[line - 1], node.col_offset)
        end_column = _column(lines[end_line - 1], node.end_col_offset)
        first = lines[statement.lineno - 1]
        head = first[:_column(first, statement.col_offset)]
        if head and head.isspace():
            if line == statement.lineno:
                column -= len(head)
            if end_line == statement.lineno:
                end_column -= len(head)
        text = self.text or ""
        if "\r" in text and text.count("\r") != text.count("\r\n"):
            return _by_newlines(text, lines, line, column, end_line, end_column)
        return Span(line, column, end_line, end_column)


def _by_newlines(text: str, lines: list[str], *position: int) -> Span:
    """Re-count ast's (line, column) pairs with only "\\n" ending a line."""
    starts: list[int] = []
    offset = 0
    for line in lines:  # where each of ast's lines starts in ``text``
        starts.append(offset)
        offset += len(line)
        offset += 2 if text.startswith("\r\n", offset) else 1
    found: list[int] = []
    for row, column in (position[:2], position[2:]):
        at = starts[row - 1] + column
        begin = text.rfind("\n", 0, at) + 1
        found += [text.count("\n", 0, begin) + 1, at - begin]
    return Span(*found)


class _Uses(dict[str, list[Use]]):
    """Name -> its Uses, for the names the top-level imports
    bind only: the rule asks about nothing else."""

    def __init__(self, by_use: dict[tuple[Any, ...], set[str]], wanted: set[str]) -> None:
        super().__init__()
        for key, names in by_use.items():
            found = wanted.intersection(names)
            if found:
                use = Use(*key)
                for name in found:
                    self.setdefault(name, []).append(use)


def _column(line: str, offset: int) -> int:
    return offset if line.isascii() else len(line.encode()[:offset].decode(errors="replace"))


def _alias_node(node: Any, target: ImportTarget) -> Any:
    """rules/lazy_imports._alias_node: the first alias naming the target's module."""
    for alias in node.names:
        if alias.name == target.module:
            return alias
    return node


def _function_runtime(node: Any) -> bool:
    """Whether something may read this function's annotations at run time (a decorator, FastAPI/typer defaults)."""
    for decorator in node.decorator_list:
        name = _dotted(decorator)
        if name not in PASSIVE_DECORATORS and not name.endswith((".setter", ".getter", ".deleter")):
            return True
    args = node.args
    for default in (*args.defaults, *args.kw_defaults):
        if type(default) is ast.Call and _dotted(default.func).split(".")[-1] in SIGNATURE_READERS:
            return True
    return False


def _class_runtime(node: ast.ClassDef) -> bool:
    """Whether something may read this class's annotations at run time (decorators, keywords, a base class)."""
    if node.decorator_list or node.keywords:
        return True
    for base in node.bases:
        value = base.value if type(base) is ast.Subscript else base
        if _dotted(value) not in PASSIVE_BASES:
            return True
    return False


def _decorators_at_import(body: list[Any]) -> Iterator[str]:
    """Names applied as decorators while the module is imported (``@name`` or
    ``@name(...)`` on a module-level def or class, or on a method of a
    module-level class): the function they name runs then, so an import it
    uses is used at import time (sqlite-utils' ``@output_options``)."""
    for node in body:
        if type(node) in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            for decorator in node.decorator_list:
                called = decorator.func if type(decorator) is ast.Call else decorator
                if type(called) is ast.Name:
                    yield called.id
            if type(node) is ast.ClassDef:
                yield from _decorators_at_import(node.body)
        elif type(node) in (ast.If, ast.Try, ast.With):
            for block in (node.body, getattr(node, "orelse", []), getattr(node, "finalbody", []),
                          *(h.body for h in getattr(node, "handlers", []))):
                yield from _decorators_at_import(block)


_ReportWalker.handlers = {
    **_HANDLERS,
    ast.Name: _ReportWalker.name, ast.Global: _ReportWalker.global_, ast.Call: _ReportWalker.call,
    ast.FunctionDef: _ReportWalker.function, ast.AsyncFunctionDef: _ReportWalker.function,
    ast.Lambda: _ReportWalker.lambda_, ast.ClassDef: _ReportWalker.class_,
    ast.Constant: _ReportWalker.constant, ast.Assign: _ReportWalker.assign, ast.AugAssign: _ReportWalker.assign,
    **{kind: _ReportWalker.loop for kind in (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp,
                                             ast.DictComp, ast.GeneratorExp)},
    **{kind: _ReportWalker.identifiers for kind in _NAME_STRINGS},
}
