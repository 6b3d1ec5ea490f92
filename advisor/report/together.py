"""Per-file and per-rule figures for the renderers, never a sum of findings.

The scan computes them (startup: on the startup graph with the group's
findings deferred together, ``rules/lazy_imports/group_figures.py``; run
time: the sampled time of the union of the group's lines,
``advisor/rank/group_totals.py``) and passes them as plain data in
``report.summary``, each with the fingerprints of the findings it covers.

A figure is used only when the group's findings are exactly those it was
computed for. When they are not (a baseline or ``--path`` filter hid some,
a plugin rule brought its own estimates), the group gets the largest single
estimate among the uncovered findings, marked "at least": deferring or
fixing several saves at least what the best one saves, and adding them
could count shared time twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:
    from advisor.findings import Finding, ScanReport


@dataclass
class GroupFigure:
    """One file's (or rule's) saving, and its split by rule (for stacked bars)."""

    label: str
    ms: float = 0.0
    count: int = 0
    #: rule -> ms: each the rule's own figure in the group (they may overlap:
    #: a bar scales them to ``ms``, never adds them up).
    rules: dict[str, float] = field(default_factory=dict)
    #: Part of ``ms`` is a lower bound (the best single finding of several).
    at_least: bool = False


def group_figures(report: "ScanReport", kind: str, label_of: Callable[["Finding"], str]) -> list[GroupFigure]:
    """One figure per group (``kind``: "file" or "rule"), largest first."""
    groups: dict[str, list[Finding]] = {}
    for finding in report.findings:
        if finding.impact.estimate_ms:
            groups.setdefault(label_of(finding), []).append(finding)
    figures = [_figure(label, found, _sources(report), kind) for label, found in groups.items()]
    return sorted(figures, key=lambda g: (-g.ms, g.label))


def _sources(report: "ScanReport") -> list[tuple[dict[str, Any], Callable[["Finding"], bool]]]:
    """(the scan's figures, which findings they are about)."""
    summary = report.summary if isinstance(report.summary, dict) else {}
    startup = (summary.get("startup") or {}).get("groups") if isinstance(summary.get("startup"), dict) else None
    runtime = summary.get("runtime_groups")
    return [(startup if isinstance(startup, dict) else {}, lambda f: f.rule == "lazy-imports"),
            (runtime if isinstance(runtime, dict) else {}, lambda f: f.impact.kind == "runtime")]


def _figure(label: str, findings: list["Finding"], sources: Iterable[tuple[dict[str, Any], Callable[["Finding"], bool]]],
            kind: str) -> GroupFigure:
    figure = GroupFigure(label, count=len(findings))
    left = list(findings)
    for figures, about in sources:
        mine = [f for f in left if about(f)]
        computed = (figures.get(kind) or {}).get(label) if mine else None
        if computed is None or not _covers(computed, mine):
            continue
        figure.ms += float(computed["ms"])
        figure.rules.update({str(r): float(ms) for r, ms in computed["rules"].items()})
        left = [f for f in left if not about(f)]
    if left:
        for finding in left:
            figure.rules[finding.rule] = max(figure.rules.get(finding.rule, 0.0), float(finding.impact.estimate_ms or 0.0))
        figure.ms += max(float(f.impact.estimate_ms or 0.0) for f in left)
        figure.at_least = len(left) > 1
    return figure


def _covers(computed: Any, findings: list["Finding"]) -> bool:
    """Whether the scan's figure was computed for exactly these findings."""
    return (isinstance(computed, dict) and isinstance(computed.get("ms"), (int, float))
            and isinstance(computed.get("rules"), dict) and computed.get("of") == sorted(f.fingerprint for f in findings))


__all__ = ["GroupFigure", "group_figures"]
