"""SQL text as evidence of a database round trip, whatever the receiver.

``conn.execute("SELECT name FROM users WHERE id = ?", (uid,))`` is a query
whether ``conn`` is a parameter, ``self.db`` or an unannotated cursor: the
literal SQL says so. n-plus-one reports such calls made once per loop item;
sequential-await leaves awaited ones to it. Only statements that read or
write rows count (SELECT, INSERT, UPDATE, DELETE, REPLACE, WITH ...):
DDL and transaction control (CREATE, DROP, PRAGMA, BEGIN) have no batch
form and are not round trips per item worth reporting.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from advisor._lazy import lazy_module

from advisor.rules.support.loop_copies import assigned_values

if TYPE_CHECKING:
    import libcst as cst
else:
    cst = lazy_module("libcst")

#: Methods that send SQL text to a database (DB-API, asyncpg, aiosqlite, databases, datasette).
SQL_METHODS = frozenset({
    "execute", "fetch", "fetchrow", "fetchval", "fetch_all", "fetch_one", "fetch_val", "execute_fetchall",
})
#: Statements that read or write rows (a batch form exists: ``IN (...)``, ``executemany``).
_ROWS = re.compile(r"\s*\(?\s*(select|insert|update|delete|replace|upsert|merge|with)\b", re.I)
#: A second keyword that makes English prose ("Update the docs") unlikely.
_CLAUSE = re.compile(r"\b(from|into|set|where|values|returning|select)\b", re.I)
#: Keyword arguments that hold the SQL text.
SQL_KEYWORDS = ("sql", "query", "statement", "operation")
_KEYWORDS = SQL_KEYWORDS


def sql_argument(call: "cst.Call") -> Any:
    """The argument holding the SQL of ``x.execute(sql, ...)``-style calls (None if none)."""
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in SQL_METHODS or not call.args:
        return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in _KEYWORDS:
            return arg.value
    first = call.args[0]
    return first.value if first.keyword is None and not first.star else None


def literal_text(node: Any) -> str | None:
    """The text of a string literal, f-string (``{}`` for each field), ``"..." % x``
    or ``"...".format(x)``; None for anything else."""
    if isinstance(node, cst.SimpleString):
        return str(node.evaluated_value) if isinstance(node.evaluated_value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = literal_text(node.left), literal_text(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, cst.FormattedString):
        return "".join(p.value if isinstance(p, cst.FormattedStringText) else "{}" for p in node.parts)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
        return literal_text(node.left)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "format":
        return literal_text(node.func.value)
    return None


def is_row_sql(text: str | None) -> bool:
    """Text that is a statement reading or writing rows."""
    return text is not None and bool(_ROWS.match(text)) and bool(_CLAUSE.search(text, 6))


_IN_LIST = re.compile(r"\bin\s*\(|=\s*any\s*\(", re.I)


def batched_sql(text: str | None) -> bool:
    """A statement for many items at once: ``WHERE id IN (...)`` or ``= ANY($1)``."""
    return text is not None and bool(_IN_LIST.search(text))


def sql_call(call: "cst.Call", function: Any = None) -> bool:
    """``x.execute("SELECT ...", ...)``: SQL text that reads or writes rows, sent by
    an SQL method; the text may be a name every assignment in ``function`` gives SQL."""
    return is_row_sql(sql_text(sql_argument(call), function))


def sql_text(node: Any, function: Any) -> str | None:
    """The literal text of ``node``, or of the one value a name is assigned in ``function``."""
    if isinstance(node, cst.Name) and function is not None:
        values = assigned_values(node.value, function.body)
        texts = [literal_text(v) for v in values]
        return texts[0] if texts and all(is_row_sql(t) for t in texts) else None
    return literal_text(node)
