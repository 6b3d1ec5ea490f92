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


def node_spans(module: "cst.Module", nodes: Iterable[Any]) -> dict[int, Span]:
    """id(node) -> Span for each of ``nodes`` (nodes of ``module``)."""
    global _STATE
    if _STATE is None:
        _STATE = _state_class()
    state = _STATE(module.default_indent, module.default_newline)
    module._codegen(state)
    code = "".join(state.tokens)
    line_starts = [0]
    for index, char in enumerate(code):
        if char == "\n":
            line_starts.append(index + 1)

    def position(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset) - 1
        return line + 1, offset - line_starts[line]

    spans = {}
    for node in nodes:
        found = state.spans.get(id(node))
        if found is not None:
            (line, column), (end_line, end_column) = position(found[0]), position(found[1])
            spans[id(node)] = Span(line, column, end_line, end_column)
    return spans
