"""Line/column positions of a few reported nodes, without libcst's
PositionProvider, which tracks line and column on every token of the file
(measured here: ~6x a plain codegen). Here a codegen pass only counts
characters, then offsets become lines and columns by bisection. Positions
are the same as PositionProvider's (syntactic, whitespace excluded)."""

from __future__ import annotations

import bisect
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from advisor._lazy import lazy_module
from advisor.findings import Span

if TYPE_CHECKING:
    import libcst as cst
else:
    cst = lazy_module("libcst")


def _state_class() -> type:
    from libcst._nodes.internal import CodegenState

    class OffsetCodegenState(CodegenState):  # type: ignore[misc]
        """Counts characters emitted and records each node's [start, end) offsets."""

        def __init__(self, default_indent: str, default_newline: str) -> None:
            super().__init__(default_indent=default_indent, default_newline=default_newline)
            self.offset = 0
            self.spans: dict[int, tuple[int, int]] = {}
            self.stack: list[int] = []

        def add_indent_tokens(self) -> None:
            self.tokens.extend(self.indent_tokens)
            self.offset += sum(len(token) for token in self.indent_tokens)

        def add_token(self, value: str) -> None:
            self.tokens.append(value)
            self.offset += len(value)

        def before_codegen(self, node: Any) -> None:
            self.stack.append(self.offset)

        def after_codegen(self, node: Any) -> None:
            start = self.stack.pop()
            self.spans.setdefault(id(node), (start, self.offset))

        def pop_trailing_newline(self) -> None:
            if self.tokens:
                self.offset -= len(self.tokens.pop())

        @contextmanager
        def record_syntactic_position(self, node: Any, *, start_node: Any = None, end_node: Any = None) -> Iterator[None]:
            start = self.offset
            try:
                yield
            finally:
                end = self.offset
                if start_node is not None and id(start_node) in self.spans:
                    start = self.spans[id(start_node)][0]
                if end_node is not None and id(end_node) in self.spans:
                    end = self.spans[id(end_node)][1]
                self.spans[id(node)] = (start, end)

    return OffsetCodegenState


_STATE: type | None = None


def _new_state(module: "cst.Module", indents: tuple[str, ...] = ()) -> Any:
    """An offset-recording codegen state inside blocks indented by ``indents``."""
    global _STATE
    if _STATE is None:
        _STATE = _state_class()
    state = _STATE(module.default_indent, module.default_newline)
    for indent in indents:
        state.increase_indent(indent)
    return state


def _codegen(node: Any, module: "cst.Module", indents: tuple[str, ...] = ()) -> Any:
    """Codegen ``node`` alone (inside blocks indented by ``indents``), recording offsets."""
    state = _new_state(module, indents)
    node._codegen(state)
    return state


def node_spans(module: "cst.Module", nodes: Iterable[Any], text: str | None = None,
               python_tree: Any = None) -> dict[int, Span]:
    """id(node) -> Span for each of ``nodes`` (nodes of ``module``).

    With the module's ``text``, only the statements that hold the nodes are
    generated: each is placed by the line Python's own parser gives it and
    checked against the text, so a file whose findings sit in its imports
    costs a few lines of codegen, not the whole file. Anything that cannot be
    placed and checked that way falls back to generating the whole module.
    ``python_tree``: the file's ``ast`` tree when the caller already has it."""
    nodes = list(nodes)
    if text is not None:
        spans = _spans_by_statement(module, nodes, text, python_tree)
        if spans is not None:
            return spans
    state = _codegen(module, module)
    return _to_spans(state.spans, nodes, 0, _line_starts("".join(state.tokens)))


def _line_starts(code: str) -> list[int]:
    starts = [0]
    find = code.find
    index = find("\n")
    while index >= 0:
        starts.append(index + 1)
        index = find("\n", index + 1)
    return starts


def _to_spans(recorded: dict[int, tuple[int, int]], nodes: list[Any], base: int, line_starts: list[int]) -> dict[int, Span]:
    def position(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset) - 1
        return line + 1, offset - line_starts[line]

    spans = {}
    for node in nodes:
        found = recorded.get(id(node))
        if found is not None:
            (line, column), (end_line, end_column) = position(base + found[0]), position(base + found[1])
            spans[id(node)] = Span(line, column, end_line, end_column)
    return spans


def _spans_by_statement(module: "cst.Module", nodes: list[Any], text: str,
                        python_tree: Any = None) -> dict[int, Span] | None:
    if python_tree is None:  # parsing with ast costs more than a short prefix: try that first
        prefix = _spans_from_prefix(module, nodes, text)
        if prefix is not None:
            return prefix
    import ast

    tree = python_tree
    if tree is None:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    placer = _Placer(module, text, {id(node) for node in nodes})
    if not placer.place(module.body, tree.body, ()) or placer.wanted:
        return _spans_from_prefix(module, nodes, text) if python_tree is not None else None
    spans: dict[int, Span] = {}
    for recorded, base in placer.placed:
        spans.update(_to_spans(recorded, nodes, base, placer.line_starts))
    return spans


def _spans_from_prefix(module: "cst.Module", nodes: list[Any], text: str) -> dict[int, Span] | None:
    """Generate the module's statements in order until every node is seen
    (imports at the top are found at once); None past a quarter of the file,
    where parsing with ``ast`` to place statements is cheaper."""
    wanted = {id(node) for node in nodes}
    state = _new_state(module)
    budget = len(text) // 4
    for part in (*module.header, *module.body):
        part._codegen(state)
        if wanted <= state.spans.keys():
            break
        if state.offset > budget:
            return None
    else:
        return None
    if not _matches(text, "".join(state.tokens), 0, module):
        return None
    return _to_spans(state.spans, nodes, 0, _line_starts(text))


class _Placer:
    """Finds, level by level, the statements that hold the wanted nodes and
    generates only those (descending into class and function bodies)."""

    def __init__(self, module: "cst.Module", text: str, wanted: set[int]) -> None:
        self.module, self.text, self.wanted = module, text, wanted
        self.line_starts = _line_starts(text)
        self.placed: list[tuple[dict[int, tuple[int, int]], int]] = []

    def place(self, statements: Any, ast_statements: list[Any], indents: tuple[str, ...]) -> bool:
        """Place the wanted nodes under ``statements``; False when the two parsers disagree."""
        paired = _pair(statements, ast_statements)
        if paired is None:
            return False
        for statement, ast_statement in paired:
            inside = _ids_under(statement, self.wanted)
            if not inside:
                continue
            block = _indented_body(statement)
            if block is not None and ast_statement is not None:
                indent = self.module.default_indent if block.indent is None else block.indent
                if not self.place(block.body, ast_statement.body, (*indents, indent)):
                    return False
                if not inside & self.wanted:
                    continue
            if not self._generate(statement, ast_statement, indents):
                return False
            if not self.wanted:
                break
        return True

    def _generate(self, statement: Any, ast_statement: Any, indents: tuple[str, ...]) -> bool:
        first = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else statement
        line = (ast_statement[0] if isinstance(ast_statement, list) else ast_statement).lineno
        state = _codegen(statement, self.module, indents)
        code = "".join(state.tokens)
        start = state.spans.get(id(first))
        if start is None:
            return False
        first_line = line - code.count("\n", 0, start[0])
        if not 1 <= first_line <= len(self.line_starts):
            return False
        base = self.line_starts[first_line - 1]
        if not _matches(self.text, code, base, self.module):
            return False
        self.placed.append((state.spans, base))
        self.wanted -= set(state.spans)
        return True


def _matches(text: str, code: str, base: int, module: "cst.Module") -> bool:
    """Is ``code`` the text at ``base``? (The file may lack its last newline.)"""
    if text.startswith(code, base):
        return True
    newline = module.default_newline
    return (not module.has_trailing_newline and code.endswith(newline)
            and base + len(code) - len(newline) == len(text) and text.startswith(code[:-len(newline)], base))


def _pair(statements: Any, ast_statements: list[Any]) -> list[tuple[Any, Any]] | None:
    """libcst statements with their ast counterparts (a list for ``a; b`` lines)."""
    paired, index = [], 0
    for statement in statements:
        if isinstance(statement, cst.SimpleStatementLine):
            count = len(statement.body)
            group = ast_statements[index:index + count]
            if len(group) != count:
                return None
            paired.append((statement, group))
            index += count
        else:
            if index >= len(ast_statements):
                return None
            paired.append((statement, ast_statements[index]))
            index += 1
    return paired if index == len(ast_statements) else None


def _indented_body(statement: Any) -> Any:
    if isinstance(statement, (cst.ClassDef, cst.FunctionDef)) and isinstance(statement.body, cst.IndentedBlock):
        return statement.body
    return None


def _ids_under(node: Any, wanted: set[int]) -> set[int]:
    from advisor.cstnodes import children

    found, stack = set(), [node]
    while stack:
        current = stack.pop()
        if id(current) in wanted:
            found.add(id(current))
        stack.extend(children(current))
    return found
