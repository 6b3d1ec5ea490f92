"""The shape of an import statement the lazy-imports codemod writes somewhere
else (into a function, under ``if TYPE_CHECKING:``).

Why: a project formatted by black or ruff must still pass ``black --check``
and ``ruff format --check`` after ``advisor fix``. So a wrapped
``from x import (\\n    a,\\n    b,\\n)`` keeps its own nodes (its line breaks,
trailing comma and comments; libcst re-indents them for the new block), and
a one-line import that would grow past the project's line length once
indented is wrapped the way both formatters wrap imports: one name per line
and a trailing comma.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from advisor._lazy import lazy_module
from advisor.rules.lazy_imports.cstutil import code_of
from advisor.rules.support.imports import dotted_name

if TYPE_CHECKING:
    import libcst as cst
else:
    cst = lazy_module("libcst")


def moved_import(small: Any, names: Sequence[str] | None, depth: int, line_length: int, indent: str = "    ") -> Any:
    """A statement line importing ``names`` (None: all) the way ``small`` does,
    shaped to sit ``depth`` blocks deep: or None when ``small`` is not a
    ``from`` import with names (the caller renders those as one line)."""
    if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar):
        return None
    chosen = [a for a in small.names if names is None or _bound(a) in names] or list(small.names)
    statement = _keep_shape(small, chosen)
    rendered = code_of(cst.SimpleStatementLine(body=[statement]))
    if "\n" not in rendered.rstrip("\n") and len(indent) * depth + len(rendered.rstrip("\n")) > line_length:
        statement = _exploded(statement)
    return cst.SimpleStatementLine(body=[statement])


def _keep_shape(small: Any, chosen: list[Any]) -> Any:
    """``small`` with only the ``chosen`` aliases, each keeping its comma and
    the whitespace (line break, comment) after it; the last one takes the
    original last alias's comma, so the closing parenthesis stays where it was."""
    originals = list(small.names)
    last = originals[-1]
    aliases = list(chosen)
    if aliases[-1] is not last:
        aliases[-1] = aliases[-1].with_changes(comma=last.comma)
    if small.lpar is None and aliases[-1].comma is not cst.MaybeSentinel.DEFAULT:
        aliases[-1] = aliases[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)  # no parentheses: no trailing comma
    return small.with_changes(names=aliases, semicolon=cst.MaybeSentinel.DEFAULT)


def _exploded(small: Any) -> Any:
    """``from x import (\\n    a,\\n    b,\\n)``: one name per line, trailing comma."""
    def line_break(last: bool) -> Any:
        return cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), indent=True,
                                           last_line=cst.SimpleWhitespace("" if last else "    "))

    names = list(small.names)
    aliases = [a.with_changes(comma=cst.Comma(whitespace_after=line_break(i == len(names) - 1))) for i, a in enumerate(names)]
    return small.with_changes(
        names=aliases,
        lpar=cst.LeftParen(whitespace_after=line_break(False)),
        rpar=cst.RightParen(whitespace_before=cst.SimpleWhitespace("")),
    )


def _bound(alias: Any) -> str:
    return str(alias.asname.name.value) if alias.asname else dotted_name(alias.name)


__all__ = ["moved_import"]
