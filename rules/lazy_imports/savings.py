"""lazy-imports' project-wide step on the startup model: each finding's
saving is the self time of the modules no entry loads any more when that one
statement is deferred (everything else unchanged), computed on the graph;
the scan's totals are computed on the graph too, never summed.

Decisions taken here, each in words for the user:

- a finding in a module no entry reaches at startup is not reported (it has
  no startup saving); a notice counts them and says how to name an entry;
- a finding whose users include a function that always runs at startup is
  not reported (the move saves nothing, ``runs.py``);
- a finding whose users run per item or per request is reported, but
  ``advisor fix`` leaves it alone (``data["no_fix"]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from advisor.findings import Finding, Impact

if TYPE_CHECKING:
    from advisor.evidence.profile import Evidence
    from advisor.project import Project
    from advisor.rules.lazy_imports.rule import LazyImportsOptions
    from advisor.rules.lazy_imports.runs import Runs
    from advisor.rules.lazy_imports.startup_model import StartupModel

_CONFIDENCE = {"importtime": 0.9, "table": 0.6, "config": 0.5}


def refine_findings(findings: list[Finding], project: "Project", options: "LazyImportsOptions",
                    evidence: "Evidence | None") -> list[Finding]:
    """The findings worth reporting, each with its saving on the model; sets
    ``project.summary["startup"]``."""
    from advisor.evidence.hot import deferral_threshold
    from advisor.rules.lazy_imports.graph import startup_graph
    from advisor.rules.lazy_imports.rule import eager_reason
    from advisor.rules.lazy_imports.startup_model import startup_model

    graph = startup_graph(project)
    model = startup_model(project)
    runs = project_runs_of(project, model)
    kept: list[Finding] = []
    unreached = 0
    for finding in findings:
        module = graph.module_of(finding.path)
        if eager_reason(finding, graph, module):
            continue
        statement = model.statement_id(module, finding.data["statement"], finding.span.line)
        if not statement:
            continue
        if module not in model.reached:
            unreached += 1
            continue
        kind, why = runs.problem(module, finding.data.get("functions", []))
        if kind == "always":
            continue
        figure = _figure(finding, model, statement, options.threshold_ms)
        if figure is None or figure[0] < deferral_threshold(finding, evidence, options.threshold_ms):
            continue
        kept.append(_with_saving(finding, model, statement, figure, why if kind else ""))
    _notices(project, model, unreached)
    project.summary["startup"] = startup_summary(model, kept)
    return kept


def project_runs_of(project: "Project", model: "StartupModel") -> "Runs":
    from advisor.rules.lazy_imports.runs import project_runs

    def build(project: "Project") -> "Runs":
        facts = {f.module: d.get("startup") or {} for f, d in project.facts_of("lazy-imports")
                 if f.module and isinstance(d, dict)}
        return project_runs(facts, model.entry_functions)

    return project.derived("lazy-imports/runs", build)


def _figure(finding: Finding, model: "StartupModel", statement: str, threshold: float) -> tuple[float, str, Any] | None:
    """(saving ms, source, Saving) of deferring this one statement."""
    alone = model.saving([statement])
    ms, source = alone.saving_ms, model.source
    if finding.data.get("costly") and ms < threshold:
        ms, source = threshold, "config"
    return ms, source, alone


def _with_saving(finding: Finding, model: "StartupModel", statement: str, figure: tuple[float, str, Any],
                 no_fix: str) -> Finding:
    ms, source, alone = figure
    per_entry = {name: round(saved, 1) for name, (saved, _) in alone.per_entry.items() if saved > 0}
    at_least = any(m in model.graph.project for m in alone.removed) and source != "config"
    data = {**finding.data, "statement_id": statement, "entries": per_entry, "modules_removed": len(alone.removed)}
    if no_fix:
        data["no_fix"] = no_fix
    named = max(per_entry, key=lambda n: (per_entry[n], n)) if per_entry else ""
    return finding.with_(
        message=message(finding, ms, named, len(per_entry) - 1, at_least),
        impact=Impact(kind="startup", estimate_ms=round(ms, 1), source=source),  # type: ignore[arg-type]
        score=round(ms * _CONFIDENCE.get(source, 0.5), 2),
        reason=f"saves ~{ms:.1f} ms at startup ({source})",
        data=data,
    )


def message(finding: Finding, ms: float, entry: str, others: int, at_least: bool) -> str:
    """"`numpy` costs ~45 ms at startup of console script `tool`; only main() uses it"."""
    statement = finding.data["statement"]
    module = statement if statement.startswith("from ") else finding.data["module"]
    cost = f"at least ~{ms:.0f} ms" if at_least else f"~{ms:.0f} ms"
    where = f" of {entry}" + (f" (and {others} other entr{'ies' if others > 1 else 'y'})" if others > 0 else "") if entry else ""
    if finding.data["usage"] == "annotations":
        return f"`{module}` costs {cost} at startup{where}; only annotations use it (import it under `if TYPE_CHECKING:`)"
    functions = finding.data["functions"]
    users = ", ".join(f"{f}()" for f in functions[:3]) + (f" and {len(functions) - 3} more" if len(functions) > 3 else "")
    return f"`{module}` costs {cost} at startup{where}; only {users} {'uses' if len(functions) == 1 else 'use'} it"


def fixable(finding: Finding) -> bool:
    """Whether ``advisor fix`` with its defaults writes this finding."""
    return finding.fix.safety == "safe" and not finding.data.get("no_fix")


def startup_summary(model: "StartupModel", findings: Iterable[Finding]) -> dict[str, Any]:
    """The scan's startup figures, each computed on the graph as one change."""
    findings = list(findings)
    every = model.saving([f.data["statement_id"] for f in findings])
    fix = model.saving([f.data["statement_id"] for f in findings if fixable(f)])
    entries = [{"name": e.name, "total_ms": round(model.before[e.name].total_ms, 1),
                "saving_ms": round(every.per_entry.get(e.name, (0.0, 0.0))[0], 1),
                "fixable_saving_ms": round(fix.per_entry.get(e.name, (0.0, 0.0))[0], 1)}
               for e in model.entries]
    return {"startup_total_ms": round(every.total_ms, 1), "startup_saving_ms": round(every.saving_ms, 1),
            "fixable_saving_ms": round(fix.saving_ms, 1), "source": model.source, "entries": entries,
            "modules_removed": len(every.removed)}


def _notices(project: "Project", model: "StartupModel", unreached: int) -> None:
    if unreached:
        project.notices.append(
            f"lazy-imports: {unreached} import{'s' if unreached != 1 else ''} in modules no entry point loads at "
            "startup not reported (no startup saving); name an entry with `--entry \"import pkg.mod\"` or "
            "[tool.advisor] entry-points to include them")
    if model.failures:
        first = model.failures[0]
        names = ", ".join(f.module for f in model.failures[:3]) + (" ..." if len(model.failures) > 3 else "")
        project.notices.append(
            f"lazy-imports: {len(model.failures)} module{'s' if len(model.failures) != 1 else ''} could not be imported "
            f"on their own to measure them ({names}; {first.module}: {first.reason}): their cost is not counted, "
            "so savings that involve them are lower bounds")
    if not model.entries:
        project.notices.append("lazy-imports: no entry point found (console scripts, `__main__`, packages, Django "
                               "settings): name one with `--entry` or [tool.advisor] entry-points")


__all__ = ["fixable", "message", "refine_findings", "startup_summary"]
