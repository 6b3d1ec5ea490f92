"""Text output for people: the costliest findings first, then a one-line summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advisor.findings import ScanReport
    from advisor.findings import Finding
    from advisor.report import RenderOptions

_COLORS = {"bold": "\033[1m", "red": "\033[31m", "yellow": "\033[33m", "cyan": "\033[36m", "dim": "\033[2m", "reset": "\033[0m"}


def render(report: "ScanReport", options: "RenderOptions") -> str:
    def paint(text: str, *styles: str) -> str:
        if not options.color:
            return text
        return "".join(_COLORS[s] for s in styles) + text + _COLORS["reset"]

    lines: list[str] = []
    if report.time_table:  # measured: lead with where the time goes
        table = report.time_table
        lines.extend([paint(table[0], "bold"), *table[1:], ""] if table else [])
    shown = report.findings if not options.limit else report.findings[: options.limit]
    for finding in shown:
        location = paint(f"{finding.path}:{finding.span.line}:{finding.span.column + 1}", "bold")
        saving = _saving(finding)
        fix = " [fix]" if finding.fix.safety == "safe" else (" [fix --unsafe]" if finding.fix.safety == "unsafe" else "")
        lines.append(f"{location}: {paint(finding.rule, 'cyan')} {finding.message}{paint(saving, 'yellow')}{paint(fix, 'dim')}")
        if finding.reason and (options.verbose or not _restates(finding)):
            lines.append(paint(f"    why this rank: {finding.reason}", "dim"))
        if finding.evidence and not finding.reason.startswith("observed"):
            from advisor.evidence.words import describe

            lines.append(paint(f"    observed: {describe(finding.evidence)}", "dim"))
    hidden = len(report.findings) - len(shown)
    if hidden > 0:
        lines.append(paint(f"... and {hidden} more (use --limit 0 or --format json to see all)", "dim"))
    for error in report.errors:
        label = f"{error.path}: {paint('error', 'red')} "
        rule = f"[{error.rule}] " if error.rule else ""
        lines.append(f"{label}{rule}{error.message}")
        if options.verbose and error.detail:
            lines.extend("    " + line for line in error.detail.rstrip().splitlines())
    for notice in report.notices:
        lines.append(paint(f"note: {notice}", "dim"))
    lines.append(_summary(report, paint))
    return "\n".join(lines) + "\n"


_SOURCES = {"observed": "observed", "importtime": "measured", "profile": "profiled", "table": "typical cost, not measured",
            "config": "from costly-modules", "static": "static estimate",
            "derived": "derived from what it imports, not run"}


def _saving(finding: "Finding") -> str:
    """The estimate, unless the message already states it; then only how we know."""
    impact = finding.impact
    if impact.estimate_ms is None:
        return ""
    source = _SOURCES.get(impact.source, impact.source)
    if f"~{impact.estimate_ms:.0f} ms" in finding.message:
        return "" if impact.source == "importtime" else f" ({source})"
    return f" (~{impact.estimate_ms:.0f} ms {impact.kind}, {source})"


def _restates(finding: "Finding") -> bool:
    """A reason that only repeats the saving adds nothing on screen."""
    return finding.reason.startswith("saves ~")


def _summary(report: "ScanReport", paint: object) -> str:
    from advisor.report import headline_entry, startup_figures

    runtime = _runtime_total(report)
    entry = headline_entry(report)
    parts = [f"{len(report.findings)} finding{'s' if len(report.findings) != 1 else ''}"]
    if entry is not None:
        figures = startup_figures(report) or {}
        # Without --measure-project the project's own modules count 0 ms: say whose time the total is.
        whose = "" if figures.get("project_timed") else " (its installed and stdlib imports)"
        parts.append(f"~{entry['saving_ms']:.0f} ms of ~{entry['total_ms']:.0f} ms startup of {entry['name']}{whose} "
                     f"to save (~{entry['fixable_saving_ms']:.0f} ms by `advisor fix`)")
    if runtime:
        parts.append(f"~{runtime:.0f} ms of run time to save")
    if report.errors:
        parts.append(f"{len(report.errors)} file{'s' if len(report.errors) != 1 else ''} not analysed")
    return f"{', '.join(parts)} in {report.files} file{'s' if report.files != 1 else ''}{cache_note(report)}"


def _runtime_total(report: "ScanReport") -> float:
    """Run-time saving of all findings together: with a profile, overlaps
    counted once and never more than its duration (ranking computes it)."""
    if report.runtime_total_ms is not None:
        return report.runtime_total_ms
    return sum(f.impact.estimate_ms or 0 for f in report.findings if f.impact.kind == "runtime")


def cache_note(report: "ScanReport") -> str:
    """How much came from the cache, and what the real scan cost when all did."""
    computed = report.computed_seconds
    if report.cached and computed is not None:
        return (f", results from the cache ({report.seconds:.2f} s; "
                f"the scan that computed them took {computed:.2f} s)")
    cached = f", {report.cached} from cache" if report.cached else ""
    return f"{cached} ({report.seconds:.2f} s)"
