"""Normalised shapes of round trips: SQL with its literals replaced, and an
HTTP method + URL with ids, query values, ports and credentials removed.

Two statements or requests with the same shape differ only in values, which
is what makes a repeated shape an N+1 (Sentry groups spans the same way)."""

from __future__ import annotations

import re

_SQL_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_SQL_STRING = re.compile(r"'(?:[^']|'')*'")
_SQL_NUMBER = re.compile(r"(?<![\w$.])[-+]?(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)(?![\w$])")
_SQL_LIST = re.compile(r"\(\s*(?:\?|%s|%\(\w+\)s|:\w+|\$\d+)(?:\s*,\s*(?:\?|%s|%\(\w+\)s|:\w+|\$\d+))+\s*\)")
_SQL_ROWS = re.compile(r"(\(\?\))(?:\s*,\s*\(\?\))+")
_SPACE = re.compile(r"\s+")
#: A path segment that names one item: any segment holding a digit (42, SKU00166,
#: a UUID, a hash) or a long hex string, except an API version (v2, v1.1).
_ID_SEGMENT = re.compile(r"^(?!v\d+(?:\.\d+)?$)(?:.*\d.*|[0-9a-fA-F]{12,})$")
MAX_SHAPE = 300


def sql_shape(sql: object) -> str:
    """``SELECT * FROM t WHERE id = 7 AND name = 'x'`` -> ``SELECT * FROM t WHERE id = ? AND name = ?``."""
    if isinstance(sql, bytes):
        sql = sql.decode("utf-8", "replace")
    if not isinstance(sql, str):
        sql = type(sql).__name__  # a composed statement object (psycopg.sql.Composed)
    text = _SQL_COMMENT.sub(" ", sql)
    text = _SQL_STRING.sub("?", text)
    text = _SQL_NUMBER.sub("?", text)
    text = _SPACE.sub(" ", text).strip()
    text = _SQL_LIST.sub("(?)", text)
    text = _SQL_ROWS.sub(r"\1", text)
    return text[:MAX_SHAPE]


def http_shape(method: str, host: str, target: str) -> str:
    """``GET`` + ``api.example:8080`` + ``/items/42?page=3`` -> ``GET api.example/items/{id}?page``.

    The port is dropped so runs against a test server on a random port merge;
    user info, query values and fragments never appear."""
    host = host.rpartition("@")[2]
    if host.startswith("["):
        host = host.partition("]")[0] + "]"
    else:
        host = host.partition(":")[0]
    if "://" in target:  # absolute form (through a proxy): keep only the path
        rest = target.split("://", 1)[1]
        slash = rest.find("/")
        host = host or rest[:slash if slash >= 0 else len(rest)].rpartition("@")[2].partition(":")[0]
        target = rest[slash:] if slash >= 0 else "/"
    path, _, query = target.partition("#")[0].partition("?")
    segments = ["{id}" if _ID_SEGMENT.match(s) else s for s in path.split("/")]
    keys = [part.partition("=")[0] for part in query.split("&") if part]
    shown = "/".join(segments) + ("?" + "&".join(sorted(set(keys))) if keys else "")
    return f"{method.upper()} {host.lower()}{shown}"[:MAX_SHAPE]


def request_line(data: bytes) -> tuple[str, str] | None:
    """(method, target) from the first line of an HTTP/1.x request, else None."""
    end = data.find(b"\r\n", 0, 8192)
    if end < 0:
        return None
    parts = data[:end].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/") or not parts[0].isalpha():
        return None
    return parts[0].decode("ascii", "replace"), parts[1].decode("latin-1")
