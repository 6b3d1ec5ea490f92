"""Small libcst helpers for codemods: where a body starts, inserting
statements there, quoting an annotation, the names a subtree reads.

libcst is imported lazily (advisor must stay light to import)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from advisor._lazy import lazy_module

if TYPE_CHECKING:
    import libcst as cst
else:
    cst = lazy_module("libcst")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EMPTY_MODULE: Any = None


def code_of(node: Any) -> str:
    """Source code of one node, rendered with default formatting context."""
    global _EMPTY_MODULE
    if _EMPTY_MODULE is None:
        _EMPTY_MODULE = cst.Module(body=[])
    return str(_EMPTY_MODULE.code_for_node(node))


def is_docstring(statement: Any) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


IMPORT_TYPES: tuple[str, ...] = ("Import", "ImportFrom", "LazyImport", "LazyImportFrom")


def is_import(small: Any) -> bool:
    """Any import node, eager or PEP 810 lazy."""
    return type(small).__name__ in IMPORT_TYPES


def is_import_line(statement: Any) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(is_import(s) for s in statement.body)


def is_future_import(statement: Any) -> bool:
    return is_import_line(statement) and any(
        isinstance(s, cst.ImportFrom) and s.module is not None and code_of(s.module) == "__future__" for s in statement.body
    )


def insert_at_top(function: Any, lines: Sequence[Any]) -> Any:
    """``function`` with ``lines`` at the top of its body, after the docstring.

    Lines already among the body's leading imports are not repeated, so
    applying the same fix twice changes nothing. A one-line body
    (``def f(): return x``) becomes an indented block.
    """
    body = function.body
    if isinstance(body, cst.SimpleStatementSuite):
        rest = cst.SimpleStatementLine(body=list(body.body), trailing_whitespace=body.trailing_whitespace)
        body = cst.IndentedBlock(body=[rest])
    statements = list(body.body)
    start = 1 if statements and is_docstring(statements[0]) else 0
    present: set[str] = set()
    for statement in statements[start:]:
        if not is_import_line(statement):
            break
        present.update(code_of(s).strip().rstrip(";").strip() for s in statement.body)
    new = [line for line in lines if code_of(line.body[0]).strip() not in present]
    if not new:
        return function.with_changes(body=body) if body is not function.body else function
    if start < len(statements) and not is_import_line(statements[start]):
        following = statements[start]
        if not following.leading_lines or following.leading_lines[0].comment is not None:
            statements[start] = following.with_changes(leading_lines=[cst.EmptyLine(indent=False), *following.leading_lines])
    statements[start:start] = new
    return function.with_changes(body=body.with_changes(body=statements))


def quoted(expression: Any) -> Any | None:
    """The annotation ``expression`` as a string literal, or None if that is
    not possible without changing its meaning (comments, mixed quotes)."""
    if isinstance(expression, (cst.SimpleString, cst.ConcatenatedString)):
        return expression
    code = code_of(expression).strip()
    if "#" in code or "\\" in code:
        return None
    if "\n" in code:
        if "'" in code or '"' in code:
            return None
        code = " ".join(code.split())
    for quote in ('"', "'"):
        if quote not in code:
            return cst.SimpleString(f"{quote}{code}{quote}")
    return None


def names_read(node: Any, strings: bool = False) -> set[str]:
    """Identifiers ``node`` reads: Name nodes, except attribute names,
    keyword names, parameter names and what imports bind; with ``strings``,
    identifiers inside string literals too (string annotations)."""
    found: set[str] = set()
    for child in _walk(node):
        if isinstance(child, cst.Name):
            found.add(child.value)
        elif strings and isinstance(child, cst.SimpleString):
            found.update(_IDENTIFIER.findall(child.value[1:]))
    return found


def _walk(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        if is_import(current):
            continue
        yield current
        if isinstance(current, cst.Attribute):
            stack.append(current.value)
        elif isinstance(current, cst.Arg):
            stack.append(current.value)
        elif isinstance(current, cst.Param):
            stack.extend(n for n in (current.annotation, current.default) if n is not None)
        elif isinstance(current, (cst.FunctionDef, cst.ClassDef)):
            stack.extend(c for c in current.children if c is not current.name)
        else:
            stack.extend(current.children)
