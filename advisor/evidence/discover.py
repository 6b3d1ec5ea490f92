"""Runtime evidence -> findings. What ``advisor profile`` recorded both
confirms static findings (they get an ``evidence`` object and an observed
saving) and finds what no static rule could see (a query in a helper called
from a loop in another module; a function that only runs showed to be pure):

- round trips of one shape from one project line, with a loop on the way
  (at that line or in a caller), at least ``observed-min-repeats`` of them
  taking more than ``observed-min-ms`` together: ``n-plus-one``;
- a function watched from its first call, called at least
  ``observed-min-calls`` times with few distinct arguments and equal results
  for equal arguments, its repeated calls taking more than ``observed-min-ms``:
  ``missing-cache``;
- with ``--memory``: the bytes the finding's lines held, on every finding.

Only scanned files are reported, and suppression comments, per-file-ignores
and the selected rules apply as for static findings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from advisor.evidence.words import EVIDENCE_VERSION, count, describe, place, plural, seconds
from advisor.findings import Finding, FixInfo, Impact, Span

if TYPE_CHECKING:
    from advisor.evidence.profile import Evidence
    from advisor.evidence.runtime import Calls, RuntimeEvidence
    from advisor.rank.outline import FileIndex, FunctionInfo
    from advisor.engine.suppress import Suppressions

Site = tuple[str, int, str]


class ScannedFiles:
    """The scanned files by real path: display path, outline, text, suppressions."""

    def __init__(self, files: Iterable[Path]) -> None:
        from advisor.engine.scan import display_path

        self.display = {os.path.realpath(p): display_path(p) for p in files if p.suffix == ".py"}
        self._index: dict[str, FileIndex | None] = {}
        self._quiet: dict[str, Suppressions] = {}

    def index(self, real: str) -> "FileIndex | None":
        if real not in self.display:
            return None
        if real not in self._index:
            from advisor.rank.outline import index_file

            self._index[real] = index_file(Path(real), self.display[real])
        return self._index[real]

    def line(self, real: str, number: int) -> str:
        index = self.index(real)
        lines = index.text().splitlines() if index is not None else []
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def silenced(self, real: str, rule: str, line: int) -> bool:
        if real not in self._quiet:
            from advisor.engine.suppress import parse_suppressions

            index = self.index(real)
            self._quiet[real] = parse_suppressions(index.text() if index is not None else "")
        return self._quiet[real].silences(rule, line)

    def loop_at(self, real: str, line: int) -> bool:
        index = self.index(real)
        if index is None:
            return False
        fn = index.enclosing(line)
        return index.loop_depth(line, fn.qualname if fn else "") > 0


@dataclass
class _Repeats:
    """Round trips of one shape from one line, summed over the stacks that reach it through a loop."""

    kind: str
    shape: str
    site: Site
    count: int = 0
    seconds: float = 0.0
    loop: Site | None = None
    lines: set[tuple[str, int]] = field(default_factory=set)


def apply_runtime(findings: list[Finding], evidence: "Evidence", files: Iterable[Path], root: Path,
                  options: dict[str, Any], keep: Callable[[Finding], bool]) -> tuple[list[Finding], list[str]]:
    """Findings with runtime evidence attached, plus the ones only the run showed.
    ``options``: the enabled rules' options by rule id; ``keep``: per-file-ignores."""
    runtime = evidence.runtime
    if runtime is None:
        return findings, []
    scanned = ScannedFiles(files)
    findings = list(findings)
    added = 0
    if "n-plus-one" in options:
        added += _round_trips(findings, runtime, scanned, root, options["n-plus-one"], keep)
    if "missing-cache" in options:
        added += _calls(findings, runtime, evidence, scanned, root, options["missing-cache"], keep)
    if runtime.memory:
        findings = [_with_memory(f, runtime, scanned) for f in findings]
    if runtime.import_bytes:
        findings = [_with_import_bytes(f, runtime) for f in findings]
    confirmed = sum(1 for f in findings if f.evidence) - added
    note = (f"runtime evidence from {plural(runtime.runs, 'recorded run')}: {added} finding{'s' if added != 1 else ''} "
            f"found only by the run, {confirmed} confirmed or measured by it")
    return findings, [note]


# -- round trips -> n-plus-one -------------------------------------------------------


def _round_trips(findings: list[Finding], runtime: "RuntimeEvidence", scanned: ScannedFiles, root: Path,
                 options: Any, keep: Callable[[Finding], bool]) -> int:
    from advisor.evidence.observed import rank_observed

    groups: dict[tuple[str, int, str, str], _Repeats] = {}
    best: dict[tuple[str, int, str, str], int] = {}
    for trips in runtime.round_trips:
        if not trips.stack or trips.stack[0][0] not in scanned.display:
            continue
        loop = next((frame for frame in trips.stack if scanned.loop_at(frame[0], frame[1])), None)
        if loop is None:
            continue  # repeated, but not by a loop of the project's
        site = trips.stack[0]
        key = (site[0], site[1], trips.kind, trips.shape)
        group = groups.setdefault(key, _Repeats(trips.kind, trips.shape, site))
        group.count += trips.count
        group.seconds += trips.seconds
        group.lines.update((path, line) for path, line, _ in trips.stack)
        if trips.count > best.get(key, 0):
            best[key], group.loop = trips.count, loop
    added = 0
    for group in sorted(groups.values(), key=lambda g: (-g.seconds, g.site)):
        if group.count < options.observed_min_repeats or group.seconds * 1000 <= options.observed_min_ms:
            continue
        facts = _trip_evidence(group, runtime, root)
        saving_ms = group.seconds * 1000 * (group.count - 1) / group.count  # one batched round trip remains
        reason = f"observed: {describe(facts)}"
        matched = [i for i, f in enumerate(findings) if f.rule == "n-plus-one" and _covers(f, group.lines)]
        if matched:
            for i in matched:
                if findings[i].evidence.get("seconds", 0) < facts["seconds"]:
                    findings[i] = rank_observed(findings[i].with_(evidence=facts), saving_ms, reason)
            continue
        finding = _new_finding("n-plus-one", group.site, scanned, _trip_message(group, facts), facts,
                               {"key": group.shape, "shape": group.shape, "kind": group.kind, "observed": True})
        if finding is not None and keep(finding):
            findings.append(rank_observed(finding, saving_ms, reason))
            added += 1
    return added


def _trip_evidence(group: _Repeats, runtime: "RuntimeEvidence", root: Path) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "version": EVIDENCE_VERSION, "source": "recorded", "kind": group.kind, "shape": group.shape,
        "round_trips": group.count, "seconds": round(group.seconds, 6), "site": place(group.site[0], group.site[1], root),
    }
    if group.loop is not None and group.loop[:2] != group.site[:2]:
        facts["loop"] = place(group.loop[0], group.loop[1], root)
    if runtime.runs > 1:
        facts["runs"] = runtime.runs
    if runtime.timed_with_memory_tracing:
        facts["timed_with_memory_tracing"] = True
    return facts


def _trip_message(group: _Repeats, facts: dict[str, Any]) -> str:
    noun = "quer" + ("ies" if group.count != 1 else "y") if group.kind == "sql" else "requests"
    where = f"the loop at {facts['loop']}" if "loop" in facts else "this loop"
    batch = ("fetch them in one query (`WHERE ... IN (...)` or a join)" if group.kind == "sql"
             else "fetch them in one request, or concurrently")
    return (f"{count(group.count)} {noun} of one shape, one per item of {where}, took {seconds(group.seconds)} "
            f"(`{group.shape[:120]}`): {batch}")


def _covers(finding: Finding, lines: set[tuple[str, int]]) -> bool:
    real = os.path.realpath(finding.path)
    return any(path == real and finding.span.line <= line <= max(finding.span.end_line, finding.span.line)
               for path, line in lines)


# -- calls -> missing-cache -------------------------------------------------------------


def _calls(findings: list[Finding], runtime: "RuntimeEvidence", evidence: "Evidence", scanned: ScannedFiles,
           root: Path, options: Any, keep: Callable[[Finding], bool]) -> int:
    from advisor.evidence.observed import rank_observed

    added = 0
    for calls in sorted(runtime.calls, key=lambda c: -c.seconds):
        index = scanned.index(calls.path)
        fn = _function(index, calls) if index is not None else None
        if fn is None or not _cache_candidate(calls, options):
            continue
        repeated_ms = calls.seconds * 1000 * (calls.calls - calls.distinct_args) / calls.calls
        if repeated_ms <= options.observed_min_ms:
            continue
        facts = _call_evidence(calls, evidence, runtime)
        reason = f"observed: {describe(facts)}"
        matched = [i for i, f in enumerate(findings) if f.rule == "missing-cache"
                   and os.path.realpath(f.path) == calls.path and fn.first_line <= f.span.line <= fn.end_line]
        if matched:
            for i in matched:
                findings[i] = rank_observed(findings[i].with_(evidence=facts), repeated_ms, reason)
            continue
        name = fn.qualname.rpartition(".")[2]
        message = (f"`{fn.qualname}()` ran {plural(calls.calls, 'time')} with {plural(calls.distinct_args, 'distinct argument')} "
                   f"and equal results for equal arguments, {seconds(calls.seconds)} in all: cache it "
                   f"(`@functools.cache`, or `lru_cache`) if it depends only on its arguments")
        finding = _new_finding("missing-cache", (calls.path, fn.def_line, name), scanned, message, facts,
                               {"key": fn.qualname, "function": fn.qualname, "observed": True})
        if finding is not None and keep(finding):
            findings.append(rank_observed(finding, repeated_ms, reason))
            added += 1
    return added


def _cache_candidate(calls: "Calls", options: Any) -> bool:
    return (calls.results == "equal" and calls.calls >= max(options.observed_min_calls, 2)
            and calls.distinct_args <= calls.calls * options.observed_max_distinct_share)


def _function(index: "FileIndex", calls: "Calls") -> "FunctionInfo | None":
    """The function whose code object starts at ``calls.line`` (its first decorator)."""
    found = [fn for fn in index.functions if fn.first_line == calls.line]
    named = [fn for fn in found if fn.qualname == calls.function]
    return (named or found)[0] if found else None


def _call_evidence(calls: "Calls", evidence: "Evidence", runtime: "RuntimeEvidence") -> dict[str, Any]:
    facts: dict[str, Any] = {
        "version": EVIDENCE_VERSION, "source": "recorded", "calls": calls.calls, "distinct_args": calls.distinct_args,
        "results": calls.results, "seconds": round(calls.seconds, 6),
    }
    if evidence.has_samples:
        from advisor.rank.score import heat_of

        heat = heat_of(evidence)
        sampled = heat.total.get((calls.path, calls.function), 0.0)
        if sampled > 0:
            facts["share"] = round(sampled / heat.total_s, 4)
    if runtime.runs > 1:
        facts["runs"] = runtime.runs
    if runtime.timed_with_memory_tracing:
        facts["timed_with_memory_tracing"] = True
    return facts


# -- shared ------------------------------------------------------------------------------


def _new_finding(rule: str, site: Site, scanned: ScannedFiles, message: str, facts: dict[str, Any],
                 data: dict[str, Any]) -> Finding | None:
    real, line, name = site
    if scanned.silenced(real, rule, line):
        return None
    text = scanned.line(real, line)
    column = max(text.find(name), 0) if rule == "missing-cache" else len(text) - len(text.lstrip())
    end = column + len(name) if rule == "missing-cache" else len(text.rstrip())
    return Finding(rule, scanned.display[real], Span(line, column, line, end), message,
                   Impact("runtime", None, "observed"), FixInfo(False, "none"), data=data,
                   line_text=text.strip(), evidence=facts)


def _with_import_bytes(finding: Finding, runtime: "RuntimeEvidence") -> Finding:
    """A lazy-imports finding: the bytes its module's first import kept in the run."""
    module = finding.data.get("module") if finding.rule == "lazy-imports" else None
    if not isinstance(module, str) or module not in runtime.import_bytes:
        return finding
    facts = dict(finding.evidence) or {"version": EVIDENCE_VERSION, "source": "recorded"}
    facts["import_bytes"] = runtime.import_bytes[module]
    return finding.with_(evidence=facts)


def _with_memory(finding: Finding, runtime: "RuntimeEvidence", scanned: ScannedFiles) -> Finding:
    """Bytes held by the lines of the finding (a missing-cache finding: its function's)."""
    real = os.path.realpath(finding.path)
    first, last = finding.span.line, max(finding.span.end_line, finding.span.line)
    if finding.rule == "missing-cache":
        index = scanned.index(real)
        fn = index.enclosing(finding.span.line) if index is not None else None
        first, last = (fn.first_line, fn.end_line) if fn else (first, last)
    held = [m for m in runtime.memory if m.path == real and first <= m.line <= last]
    if not held:
        return finding
    facts = dict(finding.evidence) or {"version": EVIDENCE_VERSION, "source": "recorded"}
    facts["peak_bytes"] = sum(m.peak_bytes for m in held)
    facts["net_bytes"] = sum(m.net_bytes for m in held)
    return finding.with_(evidence=facts)
