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

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from advisor._lazy import lazy_module
from advisor.rules.lazy_imports.cstutil import code_of
from advisor.rules.support.imports import dotted_name

if TYPE_CHECKING:
    import libcst as cst
else:
    cst = lazy_module("libcst")

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: black's and ruff's default line length.
DEFAULT_LINE_LENGTH = 88


def project_line_length(root: Path) -> int:
    """``line-length`` of ``[tool.ruff]`` / ``[tool.ruff.format]`` / ``[tool.black]``
    in the project's pyproject.toml (the smallest set), else 88."""
    try:
        with (root / "pyproject.toml").open("rb") as handle:
            tool = tomllib.load(handle).get("tool", {})
    except (OSError, ValueError):
        return DEFAULT_LINE_LENGTH
    ruff = tool.get("ruff", {}) if isinstance(tool.get("ruff"), dict) else {}
    black = tool.get("black", {}) if isinstance(tool.get("black"), dict) else {}
    found = [t.get("line-length") for t in (ruff, ruff.get("format", {}), black) if isinstance(t, dict)]
    lengths = [n for n in found if isinstance(n, int) and not isinstance(n, bool) and n > 0]
    return min(lengths) if lengths else DEFAULT_LINE_LENGTH


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


__all__ = ["DEFAULT_LINE_LENGTH", "moved_import", "project_line_length"]
