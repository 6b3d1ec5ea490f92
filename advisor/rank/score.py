"""Score findings: estimated saving x confidence, and say why.

With sampled evidence (a profile), a run-time finding's estimate is the
time sampled on its own lines (never its enclosing function's); when the
profile cannot place time on lines, the function's share orders it and no
milliseconds are claimed; a function never sampled is cold. Without one, static signals stand in: reachability from
the entry points in the call graph, loop depth and radon complexity.
Start-up findings keep the saving their rule measured. See docs/ranking.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from advisor.evidence.hot import HOT_SHARE, _users_temperature, import_temperature
from advisor.findings import Finding, Impact

if TYPE_CHECKING:
    from advisor.evidence.profile import Evidence, FrameRef, FunctionTime, Profile
    from advisor.rank.callgraph import EntryPoint, ProjectGraph
    from advisor.rank.outline import FileIndex, FunctionInfo

#: Confidence in a saving estimated from sampled time / from static signals.
PROFILE_CONFIDENCE = 0.8
STATIC_CONFIDENCE = 0.3
#: Share of the enclosing function's time a finding is taken to cost, by loop depth.
LOOP_SHARE = (0.25, 0.5, 0.75)
#: Static weight of code no entry point reaches (dead code, library API, tests).
UNREACHED_WEIGHT = 0.25
#: Cold findings keep their static order, scaled below any sampled finding.
COLD_SCALE = 1e-4
#: A finding whose function was sampled but whose own lines were not ranks below every
#: finding with sampled lines and above every never-sampled one.
UNSAMPLED_LINES_SCALE = 1e-3
#: The profiled thread waited (locks, sleep, select) at least this share of the time: say so.
WAITING_SHARE = 0.5

NodeKey = tuple[str, str]  # (real path, qualname or "<module>")


@dataclass(frozen=True)
class Site:
    """Where a finding sits: its file index, enclosing function and loop depth."""

    index: "FileIndex | None"
    function: "FunctionInfo | None"
    loop_depth: int

    @property
    def label(self) -> str:
        if self.index is None:
            return "unknown code"
        module = self.index.module or Path(self.index.path).stem
        return f"{module}.{self.function.qualname}()" if self.function else f"{module} (module level)"


def rank_findings(findings: list[Finding], evidence: "Evidence | None", files: Iterable[Path],
                  root: Path | None, outlines: "dict[str, FileIndex] | None" = None,
                  entries: "list[EntryPoint] | None" = None) -> tuple[list[Finding], list[str]]:
    """Score every run-time finding; return them with notices on how.
    ``outlines`` (real path -> FileIndex) spare re-parsing files the workers indexed;
    ``entries``, the entry points of ``files`` when the caller already found them."""
    runtime = [f for f in findings if f.impact.kind == "runtime"]
    sampled = evidence is not None and evidence.has_samples
    if not findings:
        return findings, []
    if sampled:
        assert evidence is not None
        heat = heat_of(evidence)
        ranked = [_rank_sampled(f, heat) for f in findings]
        for index in heat._files.values():
            if index is not None:
                index.release()
        hot = sum(1 for f in ranked if f.impact.kind == "runtime" and f.reason.startswith("hot"))
        count = len(evidence.profiles)
        note = (f"ranked by {count} profile{'s' if count != 1 else ''} ({evidence.total_s:.2f} s sampled): "
                f"{hot} of {len(runtime)} run-time finding{'s' if len(runtime) != 1 else ''} in sampled code")
        notices = [note] if runtime else []
        scanned = {os.path.realpath(p) for p in files}
        if not any(path in scanned for path, _ in heat.total):
            notices.append("the profile samples none of the scanned files: was it recorded from this checkout?")
        if evidence.waiting_s >= WAITING_SHARE * evidence.total_s:
            notices.append(f"the profiled thread waited {_percent(evidence.waiting_s / evidence.total_s)} of the sampled "
                           "time (locks, sleep, select): work done in other threads or processes is not in this "
                           "profile, and shows as never sampled")
        return ranked, notices
    if not runtime:
        return findings, []
    from advisor.rank.callgraph import build_project_graph

    graph = build_project_graph(files, root, outlines, entries)
    ranked = [_rank_static(f, graph) if f.impact.kind == "runtime" else f for f in findings]
    graph.release()
    return ranked, ["no profile: run-time findings ranked by static signals (reachability from entry points, "
                    "loop depth, complexity); record one with `advisor profile -- CMD`"]


# -- with a profile ----------------------------------------------------------------


def _rank_sampled(finding: Finding, heat: "Heat") -> Finding:
    if finding.impact.kind != "runtime":
        if finding.rule == "lazy-imports":
            return _annotate_import(finding, heat)
        return finding
    site = _site(heat.file(finding.path), finding)
    node = _node(site)
    total = heat.total.get(node, 0.0) if node else 0.0
    if total <= 0:
        static = min(_static_weight(site, None)[0], 100.0)
        return finding.with_(score=round(static * COLD_SCALE, 6), reason=f"cold: never sampled ({site.label})")
    loop = f", in a loop (depth {site.loop_depth})" if site.loop_depth else ""
    share = LOOP_SHARE[min(site.loop_depth, len(LOOP_SHARE) - 1)]
    holding = f"in a function holding {_percent(total / heat.total_s)} of sampled time ({site.label}{loop})"
    own = _own_time(finding, site, heat, total)
    if own is not None and own > 0:
        return finding.with_(
            impact=Impact(kind="runtime", estimate_ms=round(own * 1000, 1), source="profile"),
            score=round(own * 1000 * PROFILE_CONFIDENCE, 3),
            reason=f"hot: {_percent(own / heat.total_s)} of sampled time on its own lines, {holding}",
        )
    if own is not None and heat.lines_exact:  # every line is sampled as it runs: these never were
        return finding.with_(impact=Impact(kind="runtime", estimate_ms=None, source="profile"),
                             score=round(total * 1000 * UNSAMPLED_LINES_SCALE, 6),
                             reason=f"warm: its own lines were never sampled, {holding}")
    # The profile cannot place the time on lines (or not bytecode time, as with
    # pyinstrument): the function's share orders it, and no ms are claimed for it.
    why = "this profile has no line-level times" if own is None else "its lines made no sampled call; the profiler cannot place bytecode time on lines"
    return finding.with_(impact=Impact(kind="runtime", estimate_ms=None, source="profile"),
                         score=round(total * 1000 * share * STATIC_CONFIDENCE, 3),
                         reason=f"hot: {holding}; {why}")


def _own_time(finding: Finding, site: Site, heat: "Heat", function_total: float) -> float | None:
    """Seconds sampled on the finding's own lines (the call or loop it names,
    callees included); a finding on a ``def`` line owns its whole function.
    None when no profile carries executing lines for this file."""
    if site.function is not None and finding.span.line in (site.function.first_line, site.function.def_line):
        return function_total
    lines = heat.lines(finding.path)
    if lines is None:
        return None
    own = sum(lines.get(n, 0.0) for n in range(finding.span.line, max(finding.span.end_line, finding.span.line) + 1))
    return min(own, function_total, heat.total_s)  # one sample seen on two lines of a span counts once at most


def runtime_total_ms(findings: Iterable[Finding], evidence: "Evidence | None") -> float:
    """What fixing every run-time finding could save at most, in ms: the sampled
    time of the union of their lines (overlapping findings count once), never
    more than the profile's duration. Findings without an estimate add nothing."""
    measured = [f for f in findings if f.impact.kind == "runtime" and f.impact.estimate_ms is not None]
    if evidence is None or not evidence.has_samples:
        return sum(f.impact.estimate_ms or 0.0 for f in measured)
    heat = heat_of(evidence)
    seen: set[tuple[str, int]] = set()
    total = 0.0
    for finding in measured:
        lines = heat.lines(finding.path)
        if lines is None or finding.impact.source != "profile":
            total += finding.impact.estimate_ms or 0.0
            continue
        real = os.path.realpath(finding.path)
        for n in range(finding.span.line, max(finding.span.end_line, finding.span.line) + 1):
            if (real, n) not in seen:
                seen.add((real, n))
                total += lines.get(n, 0.0) * 1000
    return min(total, evidence.total_s * 1000)


def _annotate_import(finding: Finding, heat: "Heat") -> Finding:
    temperature, label = _users_temperature(finding, heat)
    if temperature is None:
        return finding
    text = {"cold": f"cold: {label} never sampled", "warm": f"warm: {label} sampled",
            "hot": f"hot: {label} sampled"}[temperature]
    return finding.with_(reason=f"{text}; {finding.reason}" if finding.reason else text)


class Heat:
    """Sampled seconds per project function, merged over all profiles."""

    def __init__(self, evidence: "Evidence") -> None:
        self.total_s = evidence.total_s
        self.total: dict[NodeKey, float] = {}
        self.own: dict[NodeKey, float] = {}
        self._files: dict[str, "FileIndex | None"] = {}
        self._evidence = evidence
        self._lines: dict[str, dict[int, float] | None] = {}
        for profile in evidence.profiles:
            if profile.stacks:
                self._add_stacks(profile)
            else:
                self._add_functions(profile)

    @property
    def lines_exact(self) -> bool:
        return self._evidence.lines_exact

    def lines(self, path: str) -> dict[int, float] | None:
        """line -> sampled seconds for one file; None without line attribution."""
        real = os.path.realpath(path)
        if real not in self._lines:
            self._lines[real] = self._evidence.line_s(real)
        return self._lines[real]

    def file(self, path: str) -> "FileIndex | None":
        real = os.path.realpath(path)
        if real not in self._files:
            from advisor.rank.outline import index_file

            self._files[real] = index_file(Path(real), real) if os.path.isfile(real) and real.endswith(".py") else None
        return self._files[real]

    def _frame_node(self, frame: "FrameRef | FunctionTime") -> NodeKey | None:
        index = self.file(frame.path) if not frame.library else None
        if index is None:
            return None
        fn = index.enclosing(frame.line)
        return (index.path, fn.qualname if fn else "<module>")

    def _add_stacks(self, profile: "Profile") -> None:
        nodes = [self._frame_node(frame) for frame in profile.frames]
        for stack, seconds in profile.stacks:
            seen = set()
            innermost = None
            for index in stack:
                node = nodes[index]
                if node is not None:
                    innermost = node
                    if node not in seen:
                        seen.add(node)
                        self.total[node] = self.total.get(node, 0.0) + seconds
            if innermost is not None:
                self.own[innermost] = self.own.get(innermost, 0.0) + seconds

    def _add_functions(self, profile: "Profile") -> None:
        """Function-level data (pstats): a comprehension's code object adds own time
        to its function; the function's total is its own record's."""
        for fn in profile.functions:
            node = self._frame_node(fn)
            if node is None:
                continue
            self.own[node] = self.own.get(node, 0.0) + fn.self_s
            if node[1].rsplit(".", 1)[-1] == fn.function or node[1] == fn.function:
                self.total[node] = self.total.get(node, 0.0) + fn.total_s


def heat_of(evidence: "Evidence") -> Heat:
    """The evidence's Heat, computed once."""
    if "heat" not in evidence.cache:
        evidence.cache["heat"] = Heat(evidence)
    heat: Heat = evidence.cache["heat"]
    return heat


def hot_functions(evidence: "Evidence", limit: int = 5) -> list[tuple[str, float, float]]:
    """(label, total s, own s) of the project functions with the most sampled time
    of their own (callers such as ``main()`` would otherwise fill the list)."""
    heat = heat_of(evidence)
    rows = []
    for (path, qualname), total in heat.total.items():
        index = heat.file(path)
        module = index.module if index and index.module else Path(path).stem
        label = f"{module}.{qualname}()" if qualname != "<module>" else f"{module} (module level)"
        rows.append((label, total, heat.own.get((path, qualname), 0.0)))
    rows.sort(key=lambda r: (-r[2], -r[1], r[0]))
    return rows[:limit]


def time_table(evidence: "Evidence", limit: int = 5) -> list[str]:
    """Plain-text lines: top functions by sampled time, top imports by cost."""
    lines = []
    rows = hot_functions(evidence, limit) if evidence.has_samples else []
    if rows:
        total = evidence.total_s
        lines.append(f"where the time goes ({total:.2f} s sampled):")
        lines.append(f"  {'own':>6} {'total':>6}  function")
        lines.extend(f"  {_percent(own / total):>6} {_percent(all_ / total):>6}  {label}" for label, all_, own in rows)
    imports = evidence.top_imports(limit)
    if imports:
        lines.append("imports at startup (cumulative):")
        lines.extend(f"  {r.cumulative_us / 1000:>7.1f} ms  {r.module}" for r in imports)
    return lines


# -- without one ---------------------------------------------------------------------


def _rank_static(finding: Finding, graph: "ProjectGraph") -> Finding:
    site = _site(graph.file(finding.path), finding)
    weight, reason = _static_weight(site, graph)
    base = finding.impact.estimate_ms or 1.0
    return finding.with_(score=round(base * weight * STATIC_CONFIDENCE, 3), reason=f"static: {reason}")


def _static_weight(site: Site, graph: "ProjectGraph | None") -> tuple[float, str]:
    """Reachability x 2^loop depth x (1 + (complexity - 1) / 5), with the words."""
    parts = []
    weight = float(2 ** min(site.loop_depth, 4))
    if graph is not None:
        if not graph.entry_points:
            parts.append("no entry point found")
        else:
            node = f"{site.index.module}:{site.function.qualname if site.function else '<module>'}" if site.index else ""
            entry = graph.reached_by(node) if node else None
            parts.append(f"reachable from {entry}" if entry else "not reachable from an entry point")
            weight *= 1.0 if entry else UNREACHED_WEIGHT
    parts.append(f"loop depth {site.loop_depth}")
    complexity = site.index.complexity(site.function) if site.index and site.function else None
    if complexity is not None:
        weight *= 1 + (min(complexity, 26) - 1) / 5
        parts.append(f"complexity {complexity}")
    return weight, ", ".join(parts)


# -- shared -----------------------------------------------------------------------------


def _site(index: "FileIndex | None", finding: Finding) -> Site:
    if index is None:
        return Site(None, None, 0)
    fn = index.enclosing(finding.span.line)
    return Site(index, fn, index.loop_depth(finding.span.line, fn.qualname if fn else ""))


def _node(site: Site) -> NodeKey | None:
    if site.index is None:
        return None
    return (os.path.realpath(site.index.path), site.function.qualname if site.function else "<module>")


def _percent(share: float) -> str:
    return f"{share:.0%}" if share >= 0.01 else f"{share:.1%}"


__all__ = ["Heat", "deferral_threshold", "heat_of", "hot_functions", "import_temperature", "rank_findings",
           "runtime_total_ms"]
