"""Results as plain JSON data, and back, for the on-disk caches.

Why not pickle: a cache file is something a scan reads, and unpickling runs
whatever the file says (``__reduce__``). JSON only ever yields dicts, lists,
strings and numbers; every decoder below checks the shape it rebuilds and
raises :class:`BadCache` on anything else, so a truncated, foreign or
hostile cache entry is a miss, never a crash and never trusted.
"""

from __future__ import annotations

from typing import Any

from advisor.findings import FileError, FileResult, Finding, FixInfo, Impact, Span

_IMPACT_KINDS = ("startup", "runtime")
_IMPACT_SOURCES = ("importtime", "derived", "profile", "table", "config", "static")
_SAFETIES = ("safe", "unsafe", "none")


class BadCache(ValueError):
    """A cache entry that is not what advisor wrote."""


def finding_to_data(finding: Finding) -> list[Any]:
    span, impact = finding.span, finding.impact
    return [finding.rule, finding.path, [span.line, span.column, span.end_line, span.end_column], finding.message,
            [impact.kind, impact.estimate_ms, impact.source], [finding.fix.available, finding.fix.safety],
            finding.score, finding.reason, finding.data, finding.line_text]


def finding_from_data(data: Any) -> Finding:
    rule, path, span, message, impact, fix, score, reason, extra, line_text = _list(data, 10)
    kind, estimate, source = _list(impact, 3)
    available, safety = _list(fix, 2)
    if kind not in _IMPACT_KINDS or source not in _IMPACT_SOURCES or safety not in _SAFETIES:
        raise BadCache("unknown impact or fix value")
    if estimate is not None:
        _number(estimate)
    return Finding(
        rule=_str(rule), path=_str(path), span=Span(*(_int(v) for v in _list(span, 4))), message=_str(message),
        impact=Impact(kind=kind, estimate_ms=estimate, source=source),
        fix=FixInfo(available=_bool(available), safety=safety), score=_number(score), reason=_str(reason),
        data=_dict(extra), line_text=_str(line_text),
    )


def error_to_data(error: FileError) -> list[Any]:
    return [error.path, error.kind, error.message, error.rule, error.detail]


def error_from_data(data: Any) -> FileError:
    path, kind, message, rule, detail = _list(data, 5)
    return FileError(_str(path), _str(kind), _str(message), None if rule is None else _str(rule), _str(detail))


def result_to_data(result: FileResult) -> dict[str, Any]:
    return {
        "path": result.path,
        "findings": [finding_to_data(f) for f in result.findings],
        "errors": [error_to_data(e) for e in result.errors],
        "facts": result.facts,
        "outline": None if result.outline is None else _outline_to_data(result.outline),
        "imports": list(result.imports),
    }


def result_from_data(data: Any) -> FileResult:
    data = _dict(data)
    try:
        outline = data["outline"]
        return FileResult(
            path=_str(data["path"]),
            findings=tuple(finding_from_data(f) for f in _list(data["findings"])),
            errors=tuple(error_from_data(e) for e in _list(data["errors"])),
            facts=_dict(data["facts"]),
            outline=None if outline is None else _outline_from_data(outline),
            imports=tuple(_str(name) for name in _list(data["imports"])),
        )
    except KeyError as exc:
        raise BadCache(f"missing {exc}") from None


def round_trips(data: dict[str, Any]) -> bool:
    """Whether JSON gives ``result_to_data(result)`` back unchanged (a plugin's
    facts may hold tuples or sets, which it would not): only such results are
    cached, so a cached result is always the result."""
    import json

    try:
        return bool(json.loads(json.dumps(data)) == data)
    except (TypeError, ValueError):
        return False


def _outline_to_data(index: Any) -> dict[str, Any]:
    return {
        "path": index.path, "module": index.module,
        "functions": [[f.path, f.module, f.qualname, f.first_line, f.def_line, f.end_line] for f in index.functions],
        "loops": [list(loop) for loop in index.loops],
        "mentions": {caller: sorted(names) for caller, names in index.mentions.items()},
        "aliases": index.aliases,
        "statements": [list(s) for s in index.statements],
    }


def _outline_from_data(data: Any) -> Any:
    from advisor.rank.outline import FileIndex, FunctionInfo

    data = _dict(data)
    try:
        functions = [FunctionInfo(_str(p), _str(m), _str(q), _int(a), _int(b), _int(c))
                     for p, m, q, a, b, c in (_list(f, 6) for f in _list(data["functions"]))]
        loops = [(_int(a), _int(b), _str(c)) for a, b, c in (_list(loop, 3) for loop in _list(data["loops"]))]
        mentions = {_str(k): {_str(n) for n in _list(v)} for k, v in _dict(data["mentions"]).items()}
        aliases = {_str(k): _str(v) for k, v in _dict(data["aliases"]).items()}
        statements = tuple(tuple(_int(v) for v in _list(s, 4)) for s in _list(data["statements"]))
        return FileIndex(_str(data["path"]), _str(data["module"]), functions, loops, mentions, aliases,
                         statements=statements)  # type: ignore[arg-type]
    except KeyError as exc:
        raise BadCache(f"missing {exc}") from None


def _list(value: Any, length: int | None = None) -> list[Any]:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        raise BadCache("expected a list" + (f" of {length}" if length is not None else ""))
    return value


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadCache("expected an object")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise BadCache("expected a string")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadCache("expected an integer")
    return value


def _number(value: Any) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise BadCache("expected a number")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadCache("expected true or false")
    return value
