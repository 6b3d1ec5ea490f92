"""A self-contained HTML report a person reads first: where the time goes,
then the findings ranked, each with its code and the change to make.

One file, no scripts, fonts or stylesheets from elsewhere (it must open from
a CI artifact, offline). The chart is CSS bars. Code excerpts are read from
the scanned files when the report is rendered; a file that has gone since is
shown without an excerpt. The template is report/templates/report.html.j2.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Iterable

from advisor import __version__
from advisor.source import source_lines

if TYPE_CHECKING:
    from advisor.findings import ScanReport
    from advisor.findings import Finding
    from advisor.report import RenderOptions
    from advisor.rule import Rule

#: Lines of code shown around a finding.
CONTEXT_LINES = 2
#: Findings that get a code excerpt (the rest are listed without one).
EXCERPTS = 200
#: Bars per chart.
BARS = 12
#: Colours of the rules in the stacked bars, in order of appearance.
PALETTE = ("#d9480f", "#1971c2", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599", "#e64980", "#5c940d")


def render(report: "ScanReport", options: "RenderOptions") -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("advisor.report", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )
    env.filters["ticks"] = ticks
    return env.get_template("report.html.j2").render(**context(report)).rstrip("\n") + "\n"


def ticks(text: str) -> Any:
    """Escape ``text`` and show its `backticked` parts as <code> (jinja2's markupsafe)."""
    from markupsafe import Markup, escape

    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: plain text
        return escape(text)
    return Markup("".join(str(escape(p)) if i % 2 == 0 else f"<code>{escape(p)}</code>" for i, p in enumerate(parts)))


def context(report: "ScanReport") -> dict[str, Any]:
    """Everything the template shows, as plain data."""
    from advisor.report.sarif import load_rule_classes

    rule_ids = list(dict.fromkeys([*report.rules, *(f.rule for f in report.findings)]))
    colours = {rule_id: PALETTE[i % len(PALETTE)] for i, rule_id in enumerate(rule_ids)}
    classes = load_rule_classes(f.rule for f in report.findings)
    reader = _SourceReader()
    # Measured evidence (``scan --profile``), when this advisor's ScanReport carries it.
    evidence = getattr(report, "evidence", None)
    from advisor.report import headline_entry, saving_totals

    totals = saving_totals(report)
    by_file = stacked_bars(report, "file", lambda f: f.path, colours)
    charted = {seg["rule"] for bar in by_file for seg in bar["segments"]}
    return {
        "version": __version__,
        "legend": [(rule, colour) for rule, colour in colours.items() if rule in charted],
        "report": report,
        "totals": dict(totals),
        "startup": headline_entry(report),
        "fixable": sum(1 for f in report.findings if f.fix.safety == "safe"),
        "by_file": by_file,
        "by_rule": stacked_bars(report, "rule", lambda f: f.rule, colours),
        "unestimated": _unestimated(report.findings),
        "hotspots": hotspot_bars(getattr(report, "hotspots", None) or _profile_hotspots(evidence)),
        "import_tree": import_tree_rows(_after_site(getattr(report, "import_tree", None) or getattr(evidence, "imports", None) or [])),
        "evidence_sources": [_short(str(s)) for s in getattr(evidence, "sources", None) or []],
        "findings": [
            _finding_view(i, f, classes.get(f.rule), reader if i < EXCERPTS else None)
            for i, f in enumerate(report.findings)
        ],
    }


def stacked_bars(report: "ScanReport", kind: str, key: Any, colours: dict[str, str]) -> list[dict[str, Any]]:
    """Estimated ms per group (``kind`` "file" or "rule"), split by rule, largest
    first: each group's figure as the scan computed it together (never a sum
    of its findings, ``advisor.report.together``); a rule's segment shows that
    rule's own figure, and the segments are scaled to fill the group's figure
    when they overlap."""
    from advisor.report.together import group_figures

    ranked = group_figures(report, kind, key)[:BARS]
    peak = max((g.ms for g in ranked), default=0.0) or 1.0
    bars = []
    for group in ranked:
        parts = sum(group.rules.values()) or 1.0
        scale = min(1.0, group.ms / parts)
        bars.append({
            "label": group.label, "ms": group.ms, "count": group.count, "at_least": group.at_least,
            "segments": [
                {"rule": rule, "ms": ms, "pct": 100.0 * ms * scale / peak, "colour": colours.get(rule, PALETTE[0])}
                for rule, ms in sorted(group.rules.items(), key=lambda p: (-p[1], p[0]))
            ],
        })
    return bars


def _unestimated(findings: Iterable["Finding"]) -> list[tuple[str, int]]:
    """Rules with findings that have no time estimate (ranked on static signals), and how many."""
    counts: dict[str, int] = defaultdict(int)
    for finding in findings:
        if not finding.impact.estimate_ms:
            counts[finding.rule] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _field(entry: Any, *names: str) -> Any:
    for name in names:
        value = entry.get(name) if isinstance(entry, dict) else getattr(entry, name, None)
        if value is not None:
            return value
    return None


def hotspot_bars(hotspots: Iterable[Any]) -> list[dict[str, Any]]:
    """Measured hot spots (from ``--profile``, when the report has them) as bars.

    Entries may be objects or dicts with a label (``label``/``function``/
    ``name``/``path``) and a time (``ms``/``self_ms``/``total_ms``/
    ``estimate_ms``, or ``seconds``); anything else is skipped.
    """
    rows: list[dict[str, Any]] = []
    for entry in hotspots:
        label = _field(entry, "label", "function", "name", "path")
        ms = _field(entry, "ms", "self_ms", "total_ms", "estimate_ms")
        if ms is None and _field(entry, "seconds") is not None:
            ms = float(_field(entry, "seconds")) * 1000
        if label is None or not isinstance(ms, (int, float)):
            continue
        where = _field(entry, "where", "location")
        own = _field(entry, "self_ms")
        rows.append({"label": str(label), "ms": float(ms), "where": str(where) if where else "",
                     "self": float(own) if isinstance(own, (int, float)) else None})
    rows.sort(key=lambda r: -r["ms"])
    rows = rows[:BARS]
    peak = max((r["ms"] for r in rows), default=0.0) or 1.0
    for row in rows:
        row["pct"] = 100.0 * row["ms"] / peak
        row["self_pct"] = None if row["self"] is None else 100.0 * min(row["self"], row["ms"]) / peak
    return rows


def _profile_hotspots(evidence: Any) -> list[dict[str, Any]]:
    """The profile's costliest project functions (total time), if there is a profile."""
    if evidence is None or not getattr(evidence, "has_samples", False):
        return []
    try:
        functions = evidence.top_functions(BARS)
    except (AttributeError, TypeError):
        return []
    return [
        {"label": "(module level)" if fn.function == "<module>" else f"{fn.function}()",
         "ms": fn.total_s * 1000, "self_ms": fn.self_s * 1000, "where": f"{_short(fn.path)}:{fn.line}"}
        for fn in functions
    ]


def _short(path: str) -> str:
    """A profiler's absolute path, relative to the current directory when below it."""
    import os

    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def _after_site(records: list[Any]) -> list[Any]:
    """An import log without the interpreter's own startup (up to ``site``):
    nothing in the program can move that."""
    site = [i for i, r in enumerate(records) if getattr(r, "depth", 1) == 0 and getattr(r, "module", "") == "site"]
    return records[site[0] + 1:] if site else records


def import_tree_rows(records: Iterable[Any], max_depth: int = 3, min_share: float = 0.02) -> list[dict[str, Any]]:
    """An ``-X importtime`` log (ImportRecord-like: module, self_us,
    cumulative_us, depth) as indented rows, costliest subtrees first.

    The log lists a module when its import finishes, children before their
    parent; a stack of pending children per depth rebuilds the tree.
    """
    pending: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        depth = int(record.depth)
        node = {"module": record.module, "self": record.self_us, "cum": record.cumulative_us,
                "children": pending.pop(depth + 1, [])}
        pending[depth].append(node)
    roots = pending.get(min(pending), []) if pending else []
    total = sum(n["cum"] for n in roots) or 1
    rows: list[dict[str, Any]] = []

    def walk(nodes: list[dict[str, Any]], level: int) -> None:
        for node in sorted(nodes, key=lambda n: -n["cum"]):
            if node["cum"] / total < min_share or len(rows) >= 40:
                continue
            rows.append({"module": node["module"], "level": level, "cum_ms": node["cum"] / 1000,
                         "self_ms": node["self"] / 1000, "pct": 100.0 * node["cum"] / total})
            if level + 1 < max_depth:
                walk(node["children"], level + 1)

    walk(roots, 0)
    return rows


class _SourceReader:
    """Reads each scanned file once, tolerating files that vanished or do not decode."""

    def __init__(self) -> None:
        self.cache: dict[str, list[str] | None] = {}

    def lines(self, path: str) -> list[str] | None:
        if path not in self.cache:
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    self.cache[path] = source_lines(handle.read())
            except OSError:
                self.cache[path] = None
        return self.cache[path]

    def excerpt(self, finding: "Finding") -> list[dict[str, Any]]:
        lines = self.lines(finding.path)
        if not lines:
            return []
        span = finding.span
        last = max(span.end_line, span.line)
        if span.line < 1 or span.line > len(lines):
            return []
        start, stop = max(span.line - CONTEXT_LINES, 1), min(last + CONTEXT_LINES, len(lines), span.line + 12)
        return [{"number": n, "text": lines[n - 1], "hit": span.line <= n <= last} for n in range(start, stop + 1)]


def _finding_view(index: int, finding: "Finding", cls: type["Rule"] | None, reader: _SourceReader | None) -> dict[str, Any]:
    from advisor.evidence.words import describe  # (what a recorded run showed; "" without it)

    return {
        "rank": index + 1,
        "finding": finding,
        "anchor": f"f{index + 1}",
        "observed": describe(finding.evidence),
        "excerpt": reader.excerpt(finding) if reader else [],
        "suggestion": suggestion(finding),
        "use_instead": _use_instead(cls),
        "summary": cls.summary() if cls else "",
        "command": _fix_command(finding),
    }


def suggestion(finding: "Finding") -> str:
    """The change to make, in one sentence, from what the rule recorded."""
    data = finding.data
    if isinstance(data.get("suggestion"), str):
        return str(data["suggestion"])
    for key, lead in (("advice", ""), ("batch", ""), ("instead", "use ")):  # what the runtime rules record
        if isinstance(data.get(key), str) and data[key]:
            text = f"{lead}{data[key]}".rstrip(".")
            return text[0].upper() + text[1:] + "."
    statement, functions = data.get("statement"), data.get("functions")
    if isinstance(statement, str) and isinstance(functions, list):
        targets = ", ".join(f"{f}()" for f in functions)
        if data.get("usage") == "annotations" or not functions:
            return f"Move `{statement}` under `if TYPE_CHECKING:` (only annotations use it)."
        extra = " and put it under `if TYPE_CHECKING:` for the annotations" if data.get("usage") == "mixed" else ""
        return f"Move `{statement}` from module level into {targets}{extra}."
    return ""


def _use_instead(cls: type["Rule"] | None) -> str:
    if cls is None:
        return ""
    from advisor.report.sarif import doc_section

    text = doc_section(cls.docs(), "Use instead")
    return "\n".join(line for line in text.splitlines() if not line.startswith("```")).strip()


def _fix_command(finding: "Finding") -> str:
    import shlex

    if finding.fix.safety == "safe":
        return f"advisor fix --rule {finding.rule} {shlex.quote(finding.path)}"
    if finding.fix.safety == "unsafe":
        return f"advisor fix --unsafe --rule {finding.rule} {shlex.quote(finding.path)}"
    return ""
