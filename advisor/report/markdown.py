"""Markdown for a pull-request comment or ``$GITHUB_STEP_SUMMARY``: compact.

The top findings with their estimated savings in a table, the rest folded
away, files not analysed listed. The template is report/templates/comment.md.j2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from advisor.findings import ScanReport
    from advisor.findings import Finding
    from advisor.report import RenderOptions

#: Findings in the main table; the rest go in a folded <details> block.
TOP = 10
#: GitHub rejects comments over 65,536 characters: fold at most this many more.
MORE = 100


def cell(text: object) -> str:
    """Text safe inside a table cell: one line, pipes and markup escaped."""
    value = " ".join(str(text).split())
    parts = value.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: no code spans to keep
        parts = [value]
    for i in range(0, len(parts), 2):  # outside `code spans` only
        for char in "\\<>*_[]":
            parts[i] = parts[i].replace(char, "\\" + char)
    return "`".join(parts).replace("|", "\\|")


def code(text: object) -> str:
    """Inline code that survives backticks and pipes inside it (in a table)."""
    value = " ".join(str(text).split()).replace("|", "\\|")
    fence = "``" if "`" in value else "`"
    return f"{fence} {value} {fence}" if fence == "``" else f"`{value}`"


def saving(finding: "Finding") -> str:
    ms = finding.impact.estimate_ms
    return f"~{ms:.0f} ms" if ms is not None else "–"


def render(report: "ScanReport", options: "RenderOptions") -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("advisor.report", "templates"),
        autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(cell=cell, code=code)
    top = options.limit or TOP
    text = env.get_template("comment.md.j2").render(**context(report, top))
    return text.rstrip("\n") + "\n"


def context(report: "ScanReport", top: int) -> dict[str, Any]:
    from advisor.evidence.words import describe  # (what a recorded run showed; "" without it)

    findings = report.findings
    totals: dict[str, float] = {}
    for finding in findings:
        if finding.impact.estimate_ms:
            totals[finding.impact.kind] = totals.get(finding.impact.kind, 0.0) + finding.impact.estimate_ms
    if report.runtime_total_ms is not None and "runtime" in totals:
        totals["runtime"] = report.runtime_total_ms  # overlaps counted once (ranking)
    rows = [
        {"n": i + 1, "saving": saving(f), "kind": f.impact.kind, "rule": f.rule,
         "where": f"{f.path}:{f.span.line}", "message": f.message, "fix": f.fix.safety, "observed": describe(f.evidence)}
        for i, f in enumerate(findings[: top + MORE])
    ]
    return {
        "report": report,
        "top": rows[:top],
        "more": rows[top:],
        "hidden": max(len(findings) - top - MORE, 0),
        "totals": totals,
        "fixable": sum(1 for f in findings if f.fix.safety == "safe"),
    }
