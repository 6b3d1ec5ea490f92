"""Ranking of findings with recorded evidence: observed seconds first.

Kept apart from advisor/rank.py on purpose (one small function): a saving
recorded by ``advisor profile`` (the time of the finding's own round trips
or repeated calls, never its enclosing function's) is trusted more than a
sampled share (confidence 0.8) or a static estimate (0.3).
"""

from __future__ import annotations

from advisor.findings import Finding, Impact

OBSERVED_CONFIDENCE = 1.0


def rank_observed(finding: Finding, saving_ms: float, reason: str) -> Finding:
    """The finding scored by the time recorded for its own lines."""
    return finding.with_(
        impact=Impact(kind="runtime", estimate_ms=round(saving_ms, 1), source="observed"),
        score=round(saving_ms * OBSERVED_CONFIDENCE, 3),
        reason=reason,
    )
