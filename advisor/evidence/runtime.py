"""The runtime evidence file (``.advisor/runtime.json``): what the program did
while ``advisor profile`` ran it. Versioned JSON, documented in
docs/runtime-evidence.md; keys are read with defaults (like pyinstrument's
``Session.load``) so a file written by an older advisor still loads.

It holds shapes, counts, times and byte counts only: no argument value, SQL
parameter, request body or header is ever written (the recorder never keeps
them). Several files merge into one (``merge``): counts and seconds add up.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "advisor-runtime"
VERSION = 1
#: Where ``advisor profile`` saves it, relative to the project root.
DEFAULT_RUNTIME = Path(".advisor") / "runtime.json"

Site = tuple[str, int, str]  # (real path, line, function)


@dataclass(frozen=True)
class RoundTrips:
    """Round trips of one shape from one project call stack."""

    kind: str  #: "sql" or "http"
    shape: str
    count: int
    seconds: float
    #: Project frames, innermost (the line that made the round trip) first.
    stack: tuple[Site, ...]


@dataclass(frozen=True)
class Calls:
    """One project function watched from its first call (a cache candidate)."""

    path: str
    line: int  #: co_firstlineno: the first decorator's line
    function: str
    calls: int
    #: Distinct argument tuples; after a merge, the largest count of one run.
    distinct_args: int
    #: "equal" (equal arguments always gave equal results), "differ", "none" (always None) or "unknown".
    results: str
    seconds: float


@dataclass(frozen=True)
class LineMemory:
    path: str
    line: int
    peak_bytes: int
    net_bytes: int


@dataclass
class RuntimeEvidence:
    runs: int = 0
    wall_s: float = 0.0
    round_trips: list[RoundTrips] = field(default_factory=list)
    calls: list[Calls] = field(default_factory=list)
    memory: list[LineMemory] = field(default_factory=list)
    #: Largest traced total of any run (None without --memory).
    peak_bytes: int | None = None
    tests_run: int = 0
    #: Module -> traced bytes its first import added and kept (--memory).
    import_bytes: dict[str, int] = field(default_factory=dict)
    #: Some run traced memory (--memory): tracemalloc inflates its seconds.
    timed_with_memory_tracing: bool = False
    #: (test id, seconds), slowest first.
    slowest_tests: list[tuple[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "format": FORMAT, "version": VERSION, "runs": self.runs, "wall_s": round(self.wall_s, 6),
            "round_trips": [{"kind": t.kind, "shape": t.shape, "count": t.count, "seconds": round(t.seconds, 6),
                             "stack": [{"path": p, "line": n, "function": f} for p, n, f in t.stack]} for t in self.round_trips],
            "calls": [{"path": c.path, "line": c.line, "function": c.function, "calls": c.calls,
                       "distinct_args": c.distinct_args, "results": c.results, "seconds": round(c.seconds, 6)} for c in self.calls],
        }
        if self.peak_bytes is not None:
            document["memory"] = {"peak_bytes": self.peak_bytes, "lines": [
                {"path": m.path, "line": m.line, "peak_bytes": m.peak_bytes, "net_bytes": m.net_bytes} for m in self.memory],
                "imports": [{"module": name, "bytes": size} for name, size in self.import_bytes.items()]}
        if self.timed_with_memory_tracing:
            document["timed_with_memory_tracing"] = True
        if self.tests_run:
            document["tests"] = {"count": self.tests_run, "slowest": [{"id": i, "seconds": round(s, 6)} for i, s in self.slowest_tests]}
        return document


class RuntimeFormatError(ValueError):
    """Not a runtime evidence file this advisor can read."""


def is_runtime_document(document: dict[str, Any]) -> bool:
    return document.get("format") == FORMAT


def from_json(document: dict[str, Any]) -> RuntimeEvidence:
    """Read a document, every key with a default; a newer major version is refused."""
    if not is_runtime_document(document):
        raise RuntimeFormatError("not an advisor runtime evidence file")
    version = _int(document.get("version", VERSION))
    if version > VERSION:
        raise RuntimeFormatError(f"runtime evidence version {version} is newer than this advisor reads ({VERSION})")
    memory: dict[str, Any] = document["memory"] if isinstance(document.get("memory"), dict) else {}
    tests: dict[str, Any] = document["tests"] if isinstance(document.get("tests"), dict) else {}
    return RuntimeEvidence(
        runs=_int(document.get("runs", 1)),
        wall_s=_float(document.get("wall_s", 0.0)),
        round_trips=[_trips(r) for r in _rows(document.get("round_trips"))],
        calls=[_calls(r) for r in _rows(document.get("calls"))],
        memory=[LineMemory(str(r.get("path", "")), _int(r.get("line")), _int(r.get("peak_bytes")), _int(r.get("net_bytes")))
                for r in _rows(memory.get("lines"))],
        peak_bytes=_int(memory.get("peak_bytes")) if memory else None,
        import_bytes={_text(r.get("module", "")): _int(r.get("bytes")) for r in _rows(memory.get("imports"))},
        tests_run=_int(tests.get("count", 0)),
        timed_with_memory_tracing=document.get("timed_with_memory_tracing") is True,
        slowest_tests=[(_text(r.get("id", "")), _float(r.get("seconds"))) for r in _rows(tests.get("slowest"))],
    )


def load(path: Path) -> RuntimeEvidence:
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise RuntimeFormatError(f"{path}: {exc}") from None
    if not isinstance(document, dict):
        raise RuntimeFormatError(f"{path}: not a JSON object")
    return from_json(document)


def save(evidence: RuntimeEvidence, path: Path) -> None:
    """Write atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(evidence.to_json(), indent=1) + "\n", "utf-8")
    os.replace(temporary, path)


def merge(parts: list[RuntimeEvidence]) -> RuntimeEvidence:
    """One evidence from several runs: counts and seconds add up; distinct
    arguments keep the largest per-run count (the hashes are never kept, so
    runs cannot be united); memory keeps each line's largest figures."""
    merged = RuntimeEvidence()
    trips: dict[tuple[str, str, tuple[Site, ...]], list[float]] = {}
    calls: dict[tuple[str, int, str], Calls] = {}
    memory: dict[tuple[str, int], LineMemory] = {}
    tests: dict[str, float] = {}
    for part in parts:
        merged.runs += part.runs
        merged.wall_s += part.wall_s
        merged.tests_run += part.tests_run
        merged.timed_with_memory_tracing |= part.timed_with_memory_tracing
        for t in part.round_trips:
            entry = trips.setdefault((t.kind, t.shape, t.stack), [0, 0.0])
            entry[0] += t.count
            entry[1] += t.seconds
        for c in part.calls:
            calls[(c.path, c.line, c.function)] = _merge_calls(calls.get((c.path, c.line, c.function)), c)
        for m in part.memory:
            old = memory.get((m.path, m.line))
            memory[(m.path, m.line)] = m if old is None else LineMemory(
                m.path, m.line, max(old.peak_bytes, m.peak_bytes), max(old.net_bytes, m.net_bytes))
        if part.peak_bytes is not None:
            merged.peak_bytes = max(merged.peak_bytes or 0, part.peak_bytes)
        for module, size in part.import_bytes.items():
            merged.import_bytes[module] = max(merged.import_bytes.get(module, 0), size)
        for test, seconds in part.slowest_tests:
            tests[test] = tests.get(test, 0.0) + seconds
    merged.round_trips = [RoundTrips(k, s, int(n), secs, st) for (k, s, st), (n, secs) in trips.items()]
    merged.calls = list(calls.values())
    merged.memory = sorted(memory.values(), key=lambda m: (-max(m.peak_bytes, m.net_bytes), m.path, m.line))
    merged.slowest_tests = sorted(tests.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    return merged


def _merge_calls(old: Calls | None, new: Calls) -> Calls:
    if old is None:
        return new
    order = {"equal": 0, "none": 1, "unknown": 2, "differ": 3}
    results = max(old.results, new.results, key=lambda r: order.get(r, 1))
    return Calls(new.path, new.line, new.function, old.calls + new.calls, max(old.distinct_args, new.distinct_args),
                 results, old.seconds + new.seconds)


def _trips(row: dict[str, Any]) -> RoundTrips:
    stack = tuple((str(f.get("path", "")), _int(f.get("line")), _text(f.get("function", ""))) for f in _rows(row.get("stack")))
    return RoundTrips(_text(row.get("kind", "")), _text(row.get("shape", "")), _int(row.get("count")), _float(row.get("seconds")), stack)


def _calls(row: dict[str, Any]) -> Calls:
    results = str(row.get("results", "unknown"))
    return Calls(str(row.get("path", "")), _int(row.get("line")), _text(row.get("function", "")), _int(row.get("calls")),
                 _int(row.get("distinct_args")), results if results in ("equal", "differ", "none") else "unknown",
                 _float(row.get("seconds")))


def _rows(value: Any) -> list[dict[str, Any]]:
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


def _int(value: Any) -> int:
    """A count or line from the file; never negative (the file may come from an untrusted checkout)."""
    try:
        return max(int(value), 0)
    except (TypeError, ValueError, OverflowError):
        return 0


def _float(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return number if 0.0 <= number < float("inf") else 0.0


def _text(value: Any) -> str:
    """A shape, name or test id as shown to people: no control characters (a
    terminal escape in a file from an untrusted checkout stays inert), no
    backticks (they would end a code span in the reports), at most 300 characters."""
    return "".join(c for c in str(value) if c.isprintable() and c != "`")[:300]
