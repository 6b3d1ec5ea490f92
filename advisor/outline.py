"""What one file holds, for ranking: where each function starts and ends,
where its loops are, which names it reads, and how complex it is.

Built with the stdlib ``ast`` (a fraction of libcst's parse time): by the
workers for the files they analyse (``FileResult.outline``), and in the main
process only for files that have none. radon is imported only when a
complexity is needed. ``advisor.rank.callgraph`` joins the outlines into a call graph.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from advisor.source import SourceError, module_name, read_source

#: Node name of a module's own top-level code.
MODULE_CODE = "<module>"


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """One ``def`` (or ``async def``) of the project."""

    path: str
    module: str
    #: Dotted within the module: ``Client.fetch``, ``outer.inner``.
    qualname: str
    #: The first decorator's line: what ``co_firstlineno`` reports.
    first_line: int
    def_line: int
    end_line: int

    @property
    def node(self) -> str:
        return f"{self.module}:{self.qualname}"


@dataclass
class FileIndex:
    """Functions and loops of one file, by line."""

    path: str
    module: str
    functions: list[FunctionInfo] = field(default_factory=list)
    #: (first body line, last line, qualname of the function that owns the loop or "").
    loops: list[tuple[int, int, str]] = field(default_factory=list)
    #: Calls and references: caller qualname (or MODULE_CODE) -> names it mentions.
    mentions: dict[str, set[str]] = field(default_factory=dict)
    #: Local alias -> project-wide dotted name, from the file's imports.
    aliases: dict[str, str] = field(default_factory=dict)
    #: The text, kept only when indexed in this process; an outline from the
    #: result cache reads the file again on the rare call that needs it.
    source: str = ""
    #: (first line with decorators, last line, line, column) of each top-level
    #: statement, from the worker's parse: lets the main process parse only the
    #: statements that hold a finding.
    statements: Sequence[tuple[int, int, int, int]] = ()
    #: Top-level statement number -> its parsed node (dropped by ``release``).
    _nodes: dict[int, ast.stmt] = field(default_factory=dict, repr=False)
    #: The whole file parsed: only without ``statements`` (or when they no longer fit the file).
    _tree: ast.Module | None = field(default=None, repr=False)
    #: Part of a top-level statement (see ``_parts_at``) -> its comprehensions (first, last line, owner).
    _comprehensions: dict[tuple[int, int], list[tuple[int, int, str]]] = field(default_factory=dict, repr=False)
    #: Part of a top-level statement -> def line -> radon complexity.
    _complexities: dict[tuple[int, int], dict[int, int]] = field(default_factory=dict, repr=False)

    def enclosing(self, line: int) -> FunctionInfo | None:
        """The innermost function whose lines (decorators included) hold ``line``."""
        best = None
        for fn in self.functions:
            if fn.first_line <= line <= fn.end_line and (best is None or fn.first_line >= best.first_line):
                best = fn
        return best

    def loop_depth(self, line: int, owner: str) -> int:
        """How many loops (statements and comprehensions) of the same function run the code at ``line``."""
        try:
            comprehensions = self._comprehensions_at(line)
        except _Stale:  # now worked out from the whole file
            comprehensions = self._comprehensions_at(line)
        return sum(1 for start, end, loop_owner in (*self.loops, *comprehensions)
                   if loop_owner == owner and start <= line <= end)

    def _statements_at(self, line: int) -> list[int]:
        """Numbers of the top-level statements whose lines hold ``line``: a
        comprehension or def lies within its statement's lines."""
        if not self.statements:
            self.statements = _statement_spans(self._whole().body)
        return [i for i, (start, end, _, _) in enumerate(self.statements) if start <= line <= end]

    def _whole(self) -> ast.Module:
        if self._tree is None:
            self._tree = ast.parse(self.text())
        return self._tree

    def _statement(self, number: int) -> ast.stmt:
        """One top-level statement, parsed from its own lines (padded so that
        line numbers stay the file's); the whole file if they no longer fit."""
        if number not in self._nodes:
            if self._tree is not None:
                self._nodes[number] = self._tree.body[number]
                return self._nodes[number]
            first, last, line, column = self.statements[number]
            lines = self.text().split("\n")
            try:
                body = ast.parse("\n" * (first - 1) + "\n".join(lines[first - 1:last])).body
            except (SyntaxError, ValueError):
                body = []
            node = next((n for n in body if (n.lineno, n.col_offset) == (line, column) and n.end_lineno == last), None)
            if node is None or _statement_spans([node])[0] != self.statements[number]:
                self._refit()
                raise _Stale(self.path)
            self._nodes[number] = node
        return self._nodes[number]

    def _refit(self) -> None:
        """The file changed since the worker read it: work from the whole file."""
        tree = self._whole()
        self.statements = _statement_spans(tree.body)
        self._nodes, self._comprehensions, self._complexities = {}, {}, {}

    def _parts_at(self, line: int) -> list[tuple[tuple[int, int], list[ast.AST], str | None]]:
        """(key, nodes, class name) of the parts of the top-level statements
        holding ``line`` that can hold it too: a class by its header and the
        body statements holding ``line`` (radon too visits each statement of a
        class body on its own, as a method's), anything else whole."""
        parts: list[tuple[tuple[int, int], list[ast.AST], str | None]] = []
        for number in self._statements_at(line):
            node = self._statement(number)
            if not isinstance(node, ast.ClassDef):
                parts.append(((number, _WHOLE), [node], None))
                continue
            header = [*node.decorator_list, *node.bases, *node.keywords, *getattr(node, "type_params", ())]
            parts.append(((number, _HEADER), header, None))
            for i, (first, last, _, _) in enumerate(_statement_spans(node.body)):
                if first <= line <= last:
                    parts.append(((number, i), [node.body[i]], node.name))
        return parts

    def _comprehensions_at(self, line: int) -> list[tuple[int, int, str]]:
        """Walked only for the parts of statements that hold a finding: expressions are many."""
        found = []
        for key, nodes, _ in self._parts_at(line):
            if key not in self._comprehensions:
                kinds = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
                self._comprehensions[key] = [
                    (node.lineno, node.end_lineno or node.lineno, fn.qualname if fn else "")
                    for top in nodes for node in ast.walk(top) if isinstance(node, kinds)
                    for fn in [self.enclosing(node.lineno)]]
            found += self._comprehensions[key]
        return found

    def release(self) -> None:
        """Drop the parsed statements (the answers worked out from them stay)."""
        self._tree = None
        self._nodes = {}

    def text(self) -> str:
        if not self.source:
            try:
                self.source = read_source(Path(self.path)).text
            except SourceError:
                return ""
        return self.source

    def outline(self) -> "FileIndex":
        """A copy without the text, for the result cache."""
        return FileIndex(self.path, self.module, self.functions, self.loops, self.mentions, self.aliases,
                         statements=self.statements)

    def relabelled(self, path: str) -> "FileIndex":
        """The same outline for a file shown under another path (a scan from elsewhere)."""
        if path == self.path:
            return self
        functions = [FunctionInfo(path, f.module, f.qualname, f.first_line, f.def_line, f.end_line) for f in self.functions]
        return FileIndex(path, self.module, functions, self.loops, self.mentions, self.aliases, self.source,
                         self.statements)

    def function(self, qualname: str) -> FunctionInfo | None:
        return next((fn for fn in self.functions if fn.qualname == qualname), None)

    def complexity(self, fn: FunctionInfo) -> int | None:
        """Radon's cyclomatic complexity of ``fn`` (None if radon cannot tell)."""
        try:
            try:
                return self._complexity(fn.def_line)
            except _Stale:  # now worked out from the whole file
                return self._complexity(fn.def_line)
        except (SyntaxError, ValueError, RecursionError):
            return None

    def _complexity(self, def_line: int) -> int | None:
        for key, nodes, classname in self._parts_at(def_line):
            if key[1] == _HEADER:
                continue  # radon reports no function of a class's decorators or bases
            if key not in self._complexities:
                self._complexities[key] = _radon_complexities(nodes[0], classname)  # type: ignore[arg-type]
            if def_line in self._complexities[key]:
                return self._complexities[key][def_line]
        return None


_WHOLE, _HEADER = -2, -1


class _Stale(Exception):
    """A file's statements no longer fit its text: they were worked out again."""


def _statement_spans(body: list[ast.stmt]) -> list[tuple[int, int, int, int]]:
    """(first line with decorators, last line, line, column) of each statement."""
    return [(min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))]),
             node.end_lineno or node.lineno, node.lineno, node.col_offset) for node in body]


def _radon_complexities(statement: ast.stmt, classname: str | None = None) -> dict[int, int]:
    """def line -> cyclomatic complexity of every function and method radon
    reports in one top-level statement, or with ``classname`` in one statement
    of that top-level class's body, visited as radon's visit_ClassDef visits
    each (the same as in the whole file: radon carries nothing over from one
    top-level statement, or one statement of a class body, to the next)."""
    try:
        from radon.complexity import cc_visit_ast
        from radon.visitors import ComplexityVisitor

        if classname is None:
            blocks = cc_visit_ast(ast.Module(body=[statement], type_ignores=[]))
        else:
            visitor = ComplexityVisitor(True, classname, off=False)
            visitor.visit(statement)
            blocks = visitor.functions
    except (ImportError, SyntaxError, ValueError, RecursionError):
        return {}
    found = {}
    todo = list(blocks)
    while todo:
        block = todo.pop()
        todo.extend(getattr(block, "methods", None) or [])
        todo.extend(getattr(block, "closures", None) or [])
        if not hasattr(block, "methods"):  # a function, not a class
            found[int(block.lineno)] = int(block.complexity)
    return found


def index_file(path: Path, display: str | None = None) -> FileIndex | None:
    """Index one file; None when it cannot be read or parsed."""
    try:
        source = read_source(path).text
    except SourceError:
        return None
    return index_text(source, display or str(path), module_name(path))


def index_text(source: str, display: str, module: str, tree: ast.Module | None = None) -> FileIndex | None:
    """Index decoded source (None if Python cannot parse it); ``tree``: its
    ``ast`` tree when the caller already parsed it."""
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    index = FileIndex(display, module, source=source, statements=_statement_spans(tree.body))
    try:
        _index_statements(index, tree.body, "", "")
        _index_mentions(index, tree)
    except RecursionError:
        return None
    return index


def _index_statements(index: FileIndex, body: list[ast.stmt], scope: str, owner: str) -> None:
    """Functions, statement loops and imports: statements only, so
    that indexing a whole project stays cheap (expressions are never walked)."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            qualname = f"{scope}.{node.name}" if scope else node.name
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            index.functions.append(FunctionInfo(index.path, index.module, qualname, first, node.lineno, node.end_lineno or node.lineno))
            if owner:
                index.mentions.setdefault(owner, set()).add(node.name)  # a nested def: assume it runs
            _index_statements(index, node.body, qualname, qualname)
            continue
        if isinstance(node, ast.ClassDef):
            _index_statements(index, node.body, f"{scope}.{node.name}" if scope else node.name, owner)
            continue
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            start = node.lineno if isinstance(node, ast.While) else node.body[0].lineno
            index.loops.append((start, max(s.end_lineno or s.lineno for s in node.body), owner))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                head = alias.name.split(".")[0]
                index.aliases[alias.asname or head] = alias.name if alias.asname else head
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(index.module, node.module or "", node.level, index.path.endswith("__init__.py"))
            for alias in node.names:
                index.aliases[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.excepthandler, ast.match_case)):
                _index_statements(index, child.body, scope, owner)
        for field_name in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(node, field_name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                _index_statements(index, block, scope, owner)


def _index_mentions(index: FileIndex, tree: ast.Module) -> None:
    """Names each function reads (globals and attributes), from its compiled code
    objects: the compiler walks expressions in C, far faster than a visitor."""
    try:
        code = compile(tree, index.path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError):
        return
    starts = {(fn.first_line, fn.qualname.rsplit(".", 1)[-1]): fn.qualname for fn in index.functions}
    todo = [code]
    while todo:
        current = todo.pop()
        todo.extend(c for c in current.co_consts if hasattr(c, "co_names"))
        owner = starts.get((current.co_firstlineno, current.co_name))
        if owner is None and current is not code:
            fn = index.enclosing(current.co_firstlineno)  # a comprehension, lambda or class body
            owner = fn.qualname if fn else None
        names = index.mentions.setdefault(owner or MODULE_CODE, set())
        names.update(current.co_names if owner else _loaded_names(current))


def _loaded_names(code: Any) -> set[str]:
    """Names module or class-body code reads (globals, attributes, imports,
    locals): its stores are the definitions themselves (every ``def`` stores
    its name), which would reach everything. Decoded straight from the
    bytecode: ``dis.get_instructions`` costs more than compiling the file."""
    table = _name_ops()
    names = code.co_names
    raw = code.co_code
    found: set[str] = set()
    extended = 0
    for offset in range(0, len(raw), 2):
        op, arg = raw[offset], raw[offset + 1] | extended
        if op == _EXTENDED_ARG:
            extended = arg << 8
            continue
        extended = 0
        entry = table.get(op)
        if entry is None:
            continue
        if entry[0]:
            found.add(names[arg >> entry[1]])
        else:
            found.add(code._varname_from_oparg(arg))  # what dis itself uses for locals and cells
    return found


_EXTENDED_ARG = 144
_NAME_OPS: dict[int, tuple[bool, int]] = {}


def _name_ops() -> dict[int, tuple[bool, int]]:
    """opcode -> (indexes co_names?, bits to shift the argument) for this Python."""
    if not _NAME_OPS:
        import dis
        import sys

        global _EXTENDED_ARG
        _EXTENDED_ARG = dis.opmap["EXTENDED_ARG"]
        shifts = {"LOAD_GLOBAL": 1, "LOAD_ATTR": 1 if sys.version_info >= (3, 12) else 0, "LOAD_SUPER_ATTR": 2}
        for name, op in dis.opmap.items():
            if name in ("LOAD_NAME", "LOAD_GLOBAL", "LOAD_ATTR", "LOAD_METHOD", "IMPORT_NAME", "IMPORT_FROM",
                        "LOAD_FROM_DICT_OR_GLOBALS", "LOAD_SUPER_ATTR"):
                _NAME_OPS[op] = (True, shifts.get(name, 0))
            elif name in ("LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_AND_CLEAR", "LOAD_DEREF", "LOAD_CLOSURE",
                          "LOAD_CLASSDEREF", "LOAD_FROM_DICT_OR_DEREF"):
                _NAME_OPS[op] = (False, 0)
    return _NAME_OPS


def _absolute(module: str, target: str, level: int, is_package: bool) -> str:
    if not level:
        return target
    parts = module.split(".") if module else []
    keep = len(parts) - level + (1 if is_package else 0)
    base = parts[:max(keep, 0)]
    return ".".join([*base, target] if target else base)
