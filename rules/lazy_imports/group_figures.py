"""Per-file and per-rule startup figures, each computed on the startup graph
with the group's findings deferred together.

Why: a report that shows "saving by file" must not add up its findings'
figures. Two imports in one file that load the same package each claim the
package's time (or each claim nothing, and save only together: ``groups.py``);
deferring both saves the package once. So each group's figure is what
deferring all its findings at once takes off the entry it helps most (for a
module no entry reaches: off ``import that.module``).

The renderers never import the model: they get plain data in the scan's
summary (``summary["startup"]["groups"]``), with the fingerprints of the
findings each figure covers, so a report whose findings were filtered after
the scan (a baseline, an ignore comment) can tell that a figure no longer
fits its findings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from advisor.evidence.startup import Entry, saving

if TYPE_CHECKING:
    from advisor.findings import Finding
    from advisor.rules.lazy_imports.startup_model import StartupModel

RULE_ID = "lazy-imports"


def group_figures(model: "StartupModel", findings: Iterable["Finding"]) -> dict[str, Any]:
    """``{"file": {path: figure}, "rule": {"lazy-imports": figure}}``, where a
    figure is ``{"ms", "of": [fingerprints], "rules": {rule: ms}}``."""
    by_file: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.impact.estimate_ms and finding.data.get("statement_id"):
            by_file.setdefault(finding.path, []).append(finding)
    files = {path: _figure(model, group) for path, group in by_file.items()}
    if not files:
        return {"file": {}, "rule": {}}
    every = [f for group in by_file.values() for f in group]
    reached = [f for f in every if f.data.get("startup") == "entry"]
    # One figure that holds for one start: the entries' together, or one unreached module's import.
    candidates = [_figure(model, reached)["ms"]] if reached else []
    candidates += [files[path]["ms"] for path, group in by_file.items() if group[0].data.get("startup") != "entry"]
    best = max(candidates)
    return {"file": files, "rule": {RULE_ID: {"ms": best, "of": _prints(every), "rules": {RULE_ID: best}}}}


def _figure(model: "StartupModel", findings: list["Finding"]) -> dict[str, Any]:
    """What deferring ``findings`` together saves on the entry it helps most."""
    ids = sorted({str(f.data["statement_id"]) for f in findings})
    if all(f.data.get("startup") == "entry" for f in findings):
        together = model.saving(ids)
    else:  # a module no entry reaches (one file is one module): when it is imported
        module = model.graph.owners.get(ids[0], "")
        together = saving(model.graph, [Entry(f"`import {module}`", (module,))], ids)
    ms = round(max([saved for saved, _ in together.per_entry.values()] + [0.0]), 1)
    return {"ms": ms, "of": _prints(findings), "rules": {RULE_ID: ms}}


def _prints(findings: Iterable["Finding"]) -> list[str]:
    return sorted(f.fingerprint for f in findings)


__all__ = ["group_figures"]
