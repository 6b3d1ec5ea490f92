"""What "hot" means, once, for the scan and for ``advisor fix``.

A function is hot when it runs often: a profiler that counts calls (cProfile,
pstats) saw at least HOT_CALLS calls; a sampling profiler, which counts no
calls, saw at least HOT_SHARE of the sampled time in the function's own body
(its callers' time does not make ``main()`` hot). The scan keeps an import eager
when a function using it is hot; the lazy-imports fix never moves an import
into a hot function (an import statement in a function costs a dict lookup
and a name binding on every call; in a function called a million times that
is more than the startup time saved).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advisor.config import Config
    from advisor.evidence.profile import Evidence
    from advisor.findings import Finding
    from advisor.rank.score import Heat

#: A function with at least this share of the sampled time is hot.
HOT_SHARE = 0.05
#: A function a counting profiler saw called at least this many times is hot.
HOT_CALLS = 1000


def is_hot(self_s: float, profile_s: float, calls: int | None = None) -> bool:
    """The one definition: HOT_CALLS calls when they were counted, else
    HOT_SHARE of the sampled time in the function's own body."""
    if calls is not None:
        return calls >= HOT_CALLS
    return profile_s > 0 and self_s / profile_s >= HOT_SHARE


def hot_functions(profile: Path, config: Config | None = None, allow_marshal: bool = True) -> dict[str, frozenset[str]]:
    """Real file path -> names of its hot functions (qualified and leaf);
    ``allow_marshal=False`` for a file found in the scanned tree."""
    from advisor.evidence.profile import load_evidence

    evidence = load_evidence([profile], allow_marshal)
    found: dict[str, set[str]] = {}
    for loaded in evidence.profiles:
        total = loaded.total_s or 0.0
        for function in loaded.functions:
            if function.library or not function.path:
                continue
            if is_hot(function.self_s, total, function.calls):
                key = str(Path(function.path).resolve())
                found.setdefault(key, set()).update({function.function, function.function.rsplit(".", 1)[-1]})
    return {path: frozenset(names) for path, names in found.items()}


def named_hot(qualname: str, hot: frozenset[str]) -> bool:
    """Profilers name methods inconsistently: match the full name or the leaf."""
    return qualname in hot or qualname.rsplit(".", 1)[-1] in hot


def import_temperature(finding: Finding, evidence: "Evidence | None") -> str | None:
    """For the lazy-imports hook: "cold" when every function using the import
    was never sampled, "hot" when one has a HOT_SHARE of the time, "warm" in
    between; None without a profile (or when only annotations use it)."""
    if evidence is None or not evidence.has_samples:
        return None
    return _users_temperature(finding, _heat(evidence))[0]


def deferral_threshold(finding: Finding, evidence: "Evidence | None", threshold_ms: float) -> float:
    """The saving (ms) a lazy-imports finding needs to be reported, given the profile:
    infinite when one of its users is hot, else the configured ``threshold-ms``.
    A profile never lowers the threshold: a finding under it stays unreported
    whatever the profile says (cold users only change the reason)."""
    return float("inf") if import_temperature(finding, evidence) == "hot" else threshold_ms


def _users_temperature(finding: Finding, heat: "Heat") -> tuple[str | None, str]:
    index = heat.file(finding.path)
    names = finding.data.get("functions") or []
    functions = [index.function(q) for q in names] if index else []
    if not functions or None in functions:
        return None, ""
    assert index is not None
    keys = [(os.path.realpath(index.path), fn.qualname) for fn in functions if fn]
    totals = [heat.total.get(key, 0.0) for key in keys]
    own = [heat.own.get(key, 0.0) for key in keys]
    label = ", ".join(f"{q}()" for q in names[:3]) + (" ..." if len(names) > 3 else "")
    if max(totals) <= 0:
        return "cold", label
    return ("hot" if is_hot(max(own), heat.total_s) else "warm"), label


def _heat(evidence: "Evidence") -> "Heat":
    from advisor.rank.score import heat_of

    return heat_of(evidence)
