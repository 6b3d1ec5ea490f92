"""Per-file and per-rule run-time figures for the renderers, each the sampled
time of the union of the group's lines, never more than the profile.

Why: two findings on overlapping lines (a loop and a call inside it) share
their samples; adding their estimates would count that time twice. The
figures are plain data in the scan's summary (``summary["runtime_groups"]``)
with the fingerprints of the findings each covers, so a renderer whose
findings were filtered later (a baseline) can tell a figure no longer fits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from advisor.evidence.profile import Evidence
    from advisor.findings import Finding


def runtime_groups(findings: Iterable["Finding"], evidence: "Evidence | None") -> dict[str, Any]:
    """``{"file": {path: figure}, "rule": {rule: figure}}``; a figure is
    ``{"ms", "of": [fingerprints], "rules": {rule: ms}}``, each ms the union
    of the lines of the findings it covers (``rules``: per rule, in the file)."""
    from advisor.rank.score import runtime_total_ms

    measured = [f for f in findings if f.impact.kind == "runtime" and f.impact.estimate_ms]
    by_file: dict[str, list[Finding]] = {}
    by_rule: dict[str, list[Finding]] = {}
    for finding in measured:
        by_file.setdefault(finding.path, []).append(finding)
        by_rule.setdefault(finding.rule, []).append(finding)

    def figure(group: list["Finding"]) -> dict[str, Any]:
        rules = sorted({f.rule for f in group})
        return {"ms": round(runtime_total_ms(group, evidence), 1), "of": sorted(f.fingerprint for f in group),
                "rules": {r: round(runtime_total_ms([f for f in group if f.rule == r], evidence), 1) for r in rules}}

    return {"file": {path: figure(group) for path, group in by_file.items()},
            "rule": {rule: figure(group) for rule, group in by_rule.items()}}


__all__ = ["runtime_groups"]
