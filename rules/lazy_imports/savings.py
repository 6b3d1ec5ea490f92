"""lazy-imports' project-wide step on the startup model. A finding's saving
is what deferring that one statement (everything else unchanged) takes off
the startup of the entry it helps most, and the message names that entry:
the modules that entry no longer loads, by their self times. The scan's
totals are computed on the graph as one change, never summed, and count
only the modules that no entry loads any more.

Decisions taken here, each in words for the user:

- a finding in a module no entry reaches at startup has no startup saving:
  it is reported with what deferring saves when that module is imported
  (``import pkg.mod``, how a library's users reach it), says that no entry
  loads it, adds nothing to the startup totals, and ``advisor fix`` leaves
  it alone (``--entry`` names an entry that makes it count);
- a finding whose users include a function that always runs at startup is
  not reported (the move saves nothing, ``runs.py``); one whose user always
  runs at the start of some entries only (``always_runs.py``: followed
  across modules, methods and class hierarchies) counts for the other
  entries alone, says which entries it does not help and why
  (``data["always_runs"]``), and is dropped when no entry is left;
- a finding whose users run per item or per request is reported, but
  ``advisor fix`` leaves it alone (``data["no_fix"]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from advisor.findings import Finding, FixInfo, Impact

if TYPE_CHECKING:
    from advisor.evidence.profile import Evidence
    from advisor.project import Project
    from advisor.rules.lazy_imports.rule import LazyImportsOptions
    from advisor.rules.lazy_imports.always_runs import AlwaysRuns
    from advisor.rules.lazy_imports.runs import Runs
    from advisor.rules.lazy_imports.startup_model import StartupModel

_CONFIDENCE = {"importtime": 0.9, "derived": 0.8, "table": 0.6, "config": 0.5}


def refine_findings(findings: list[Finding], project: "Project", options: "LazyImportsOptions",
                    evidence: "Evidence | None") -> list[Finding]:
    """The findings worth reporting, each with its saving on the model; sets
    ``project.summary["startup"]``."""
    from advisor.evidence.hot import deferral_threshold
    from advisor.rules.lazy_imports.graph import startup_graph
    from advisor.rules.lazy_imports.rule import eager_reason, unsafe_reason
    from advisor.rules.lazy_imports.startup_model import startup_model

    graph = startup_graph(project)
    model = startup_model(project)
    runs = project_runs_of(project, model)
    always = project_always_of(project, model)
    kept: list[Finding] = []
    pending: list[tuple[Finding, str, str]] = []  # under the threshold alone: (finding, statement id, no_fix)
    unreached = 0
    for finding in findings:
        module = graph.module_of(finding.path)
        if eager_reason(finding, graph, module):
            continue
        unsafe = finding.data.get("unsafe") or unsafe_reason(finding, graph, module)
        if unsafe:  # the names must stay module attributes: only the unsafe tier's strategy keeps them
            finding = finding.with_(fix=FixInfo(available=True, safety="unsafe"), data={**finding.data, "unsafe": unsafe})
        statement = model.statement_id(module, finding.data["statement"], finding.span.line)
        if not statement:
            continue
        kind, why = runs.problem(module, finding.data.get("functions", []))
        if kind == "always":
            continue
        always_for = always.entries_running(module, finding.data.get("functions", []))
        if always_for:
            finding = finding.with_(data={**finding.data, "always_runs": always_for})
        reached = module in model.reached
        threshold = deferral_threshold(finding, evidence, options.threshold_ms)
        if threshold > options.threshold_ms:
            continue  # a hot function uses it: it stays eager, whatever it costs
        figure = _figure(finding, model, statement, options.threshold_ms, module if not reached else "")
        if reached and always_for and not any(saved > 0 for saved, _ in figure[2].per_entry.values()):
            continue  # its function runs at every start of each entry it would help: the move saves nothing
        if figure[0] < threshold and figure[1] != "config":
            if reached and not always_for:
                pending.append((finding, statement, why))
            continue
        if not reached:
            unreached += 1
            why = f"no entry point loads {module} at startup: deferring saves no startup time"
        kept.append(_with_saving(finding, model, statement, figure, why if why else "", reached))
    kept.extend(_saved_together(model, pending, options.threshold_ms))
    _notices(project, model, unreached)
    from advisor.rules.lazy_imports.group_figures import group_figures

    project.summary["startup"] = {**startup_summary(model, kept), "groups": group_figures(model, kept)}
    return kept


def _saved_together(model: "StartupModel", pending: list[tuple[Finding, str, str]], threshold: float) -> list[Finding]:
    """Findings that save only with others deferred too (``groups.py``), each
    with the group's figure and the others named."""
    from advisor.rules.lazy_imports.groups import others_text, together

    reasons = {id(f): why for f, _, why in pending}
    found = []
    for group in together(model, [(f, s) for f, s, _ in pending], threshold):
        members = []
        for finding, statement in group.members:
            figure = (group.best_ms, model.source, group.saving)
            with_saving = _with_saving(finding, model, statement, figure, reasons[id(finding)], True)
            members.append(with_saving.with_(message=with_saving.message + others_text(group, finding),
                                             data={**with_saving.data, "together": [s for _, s in group.members]}))
        found.extend(_group_tier(model, members))
    return found


def _group_tier(model: "StartupModel", members: list[Finding]) -> list[Finding]:
    """A group's safe member is written only if it removes something the
    group's other safe members do not (cookiecutter: one of two lines that load
    `cookiecutter.config` is patched by the tests, so it is in the unsafe tier;
    datasette: `from itsdangerous import URLSafeSerializer` beside a per-request
    `BadSignature` import). Otherwise it takes the tier that completes it:
    unsafe when unsafe members do (``--unsafe`` writes them all), else it is
    left alone, with the reason."""
    safe = [f for f in members if fixable(f)]
    unsafe = [f for f in members if f.fix.available and f.fix.safety == "unsafe" and not f.data.get("no_fix")]
    found = []
    for finding in members:
        if not any(finding is f for f in safe) or _adds(model, finding, safe):
            found.append(finding)
            continue
        others = [f for f in members if not fixable(f)]
        named = ", ".join(f"`{f.data['statement']}` in {f.path}:{f.span.line}" for f in others[:2]) or "no other line"
        if unsafe and _adds(model, finding, safe + unsafe):
            found.append(finding.with_(fix=FixInfo(available=True, safety="unsafe"), message=(
                f"{finding.message} (unsafe fix: it saves only with {named}, an unsafe fix, deferred too)")))
        else:
            why = f"it saves only with {named} deferred too, which `advisor fix` leaves alone"
            found.append(finding.with_(fix=FixInfo(available=False, safety="none"), data={**finding.data, "no_fix": why}))
    return found


def _adds(model: "StartupModel", finding: Finding, written: list[Finding]) -> bool:
    """Whether deferring ``finding`` removes a module that deferring the rest of ``written`` keeps."""
    with_it = model.saving([f.data["statement_id"] for f in written]).removed
    without = model.saving([f.data["statement_id"] for f in written if f is not finding]).removed
    return bool(with_it - without)


def project_runs_of(project: "Project", model: "StartupModel") -> "Runs":
    from advisor.rules.lazy_imports.runs import project_runs

    def build(project: "Project") -> "Runs":
        facts = {f.module: d.get("startup") or {} for f, d in project.facts_of("lazy-imports")
                 if f.module and isinstance(d, dict)}
        return project_runs(facts, {})  # console scripts' functions: per entry, in always_runs

    return project.derived("lazy-imports/runs", build)


def project_always_of(project: "Project", model: "StartupModel") -> "AlwaysRuns":
    """Per entry, the functions that run at its every start (``always_runs.py``)."""
    from advisor.rules.lazy_imports.always_runs import always_runs, entry_seeds
    from advisor.rules.lazy_imports.startup_model import script_functions

    def build(project: "Project") -> "AlwaysRuns":
        facts = {f.module: (d.get("startup") or {}).get("always") or {} for f, d in project.facts_of("lazy-imports")
                 if f.module and isinstance(d, dict)}
        functions = script_functions(project.config.root)
        seeds = {}
        for entry in model.entries:
            loaded = model.before[entry.name].modules & facts.keys() if entry.name in model.before else set()
            named = entry.name.strip("`").partition(":")  # a user-named `pkg.cli:main`
            function = functions.get(entry.name, "") or (f"{named[0]}.{named[2]}" if named[2] else "")
            seeds[entry.name] = entry_seeds(facts, loaded, entry.roots, entry.name.startswith("`python "), function)
        return always_runs(facts, seeds)

    return project.derived("lazy-imports/always-runs", build)


def _figure(finding: Finding, model: "StartupModel", statement: str, threshold: float,
            unreached: str) -> tuple[float, str, Any]:
    """(saving ms, source, Saving) of deferring this one statement; for a
    module no entry reaches (``unreached``), when that module is imported."""
    kept = {entry: [statement] for entry in finding.data.get("always_runs", {})}
    alone = model.saving_when_imported(unreached, statement) if unreached else model.saving([statement], kept)
    # The entry it helps most: "costs ~X ms at startup of E" holds for E. (The
    # scan's totals count only what no entry loads any more: startup_summary.)
    ms, source = max([saved for saved, _ in alone.per_entry.values()] + [0.0]), model.source
    owner = model.graph.owners.get(statement, "")
    targets = next((s.targets for s in model.graph.project.get(owner, ()) if s.id == statement), ())
    if source == "importtime" and not model.project_measured and any(t in model.graph.project for t in targets):
        source = "derived"  # project modules never run: only what they import is counted
    if finding.data.get("costly") and ms < threshold:
        source = "config"  # reported because costly-modules lists it; the figure stays the model's
    return ms, source, alone


def _with_saving(finding: Finding, model: "StartupModel", statement: str, figure: tuple[float, str, Any],
                 no_fix: str, reached: bool) -> Finding:
    ms, source, alone = figure
    per_entry = {name: round(saved, 1) for name, (saved, _) in alone.per_entry.items() if saved > 0}
    at_least = source == "derived"
    data = {**finding.data, "statement_id": statement, "entries": per_entry if reached else {},
            "modules_removed": len(alone.removed), "startup": "entry" if reached else "unreached"}
    fix = finding.fix
    if no_fix:
        data["no_fix"] = no_fix
        fix = FixInfo(available=False, safety="none")  # `advisor fix` leaves it alone, and says why
    named = max(per_entry, key=lambda n: (per_entry[n], n)) if per_entry else ""
    text = message(finding, ms, named, len(per_entry) - 1, at_least) if reached else \
        unreached_message(finding, ms, model.graph.owners.get(statement, ""), at_least)
    if finding.data.get("always_runs") and reached:
        text += "; " + "; ".join(finding.data["always_runs"][e] for e in sorted(finding.data["always_runs"])[:2]) + \
            " (no saving there)"
    if finding.data.get("unsafe"):
        text += f" (unsafe fix: {finding.data['unsafe']})"
    return finding.with_(
        message=text,
        impact=Impact(kind="startup", estimate_ms=round(ms, 1), source=source),  # type: ignore[arg-type]
        score=round(ms * _CONFIDENCE.get(source, 0.5), 2),
        reason=f"saves ~{ms:.1f} ms at startup ({source})",
        data=data,
        fix=fix,
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


def unreached_message(finding: Finding, ms: float, module: str, at_least: bool) -> str:
    """The message of a finding in a module no entry point loads at startup."""
    text = message(finding, ms, "", 0, at_least).replace(" at startup;", f" when `{module}` is imported "
                                                          "(no entry point loads it at startup);", 1)
    return text


def fixable(finding: Finding) -> bool:
    """Whether ``advisor fix`` with its defaults writes this finding."""
    return finding.fix.available and finding.fix.safety == "safe" and not finding.data.get("no_fix")


def startup_summary(model: "StartupModel", findings: Iterable[Finding]) -> dict[str, Any]:
    """The scan's startup figures, each computed on the graph as one change."""
    findings = list(findings)
    on_entries = [f for f in findings if f.data.get("startup") == "entry"]
    kept = always_kept(on_entries)
    every = model.saving([f.data["statement_id"] for f in on_entries], kept)
    fix = model.saving([f.data["statement_id"] for f in on_entries if fixable(f)], kept)
    entries = [{"name": e.name, "roots": list(e.roots), "total_ms": round(model.before[e.name].total_ms, 1),
                "saving_ms": round(every.per_entry.get(e.name, (0.0, 0.0))[0], 1),
                "fixable_saving_ms": round(fix.per_entry.get(e.name, (0.0, 0.0))[0], 1)}
               for e in model.entries]
    return {"startup_total_ms": round(every.total_ms, 1), "startup_saving_ms": round(every.saving_ms, 1),
            "fixable_saving_ms": round(fix.saving_ms, 1), "source": model.source, "entries": entries,
            "project_timed": model.project_measured,
            "modules_removed": len(every.removed)}


def expected_by_entry(project: "Project", applied: Iterable[Finding]) -> list[dict[str, Any]]:
    """What deferring ``applied`` (written by ``advisor fix``, any round) saves
    per entry, together, on the model of the project before fixing: a finding
    of a later round is placed by its statement text in its module."""
    from advisor.rules.lazy_imports.graph import startup_graph
    from advisor.rules.lazy_imports.startup_model import startup_model

    model, graph = startup_model(project), startup_graph(project)
    applied = list(applied)
    ids = {model.statement_id(graph.module_of(f.path), f.data.get("statement", ""), f.span.line) for f in applied}
    kept: dict[str, list[str]] = {}
    for finding in applied:
        statement = model.statement_id(graph.module_of(finding.path), finding.data.get("statement", ""), finding.span.line)
        for entry in finding.data.get("always_runs") or {}:
            kept.setdefault(entry, []).append(statement)
    together = model.saving(sorted(i for i in ids if i), kept)
    return [{"name": name, "saving_ms": round(saved, 1), "total_ms": round(total, 1),
             "modules_removed": len(together.removed)}
            for name, (saved, total) in together.per_entry.items() if saved > 0]


def always_kept(findings: Iterable[Finding]) -> dict[str, list[str]]:
    """Entry name -> statements of ``findings`` that still load at its start
    (a function using them always runs there)."""
    kept: dict[str, list[str]] = {}
    for finding in findings:
        for entry in finding.data.get("always_runs") or {}:
            kept.setdefault(entry, []).append(finding.data["statement_id"])
    return kept


def _notices(project: "Project", model: "StartupModel", unreached: int) -> None:
    if unreached:
        project.notices.append(
            f"lazy-imports: {unreached} finding{'s' if unreached != 1 else ''} in modules no entry point loads at "
            "startup: their figures hold when that module is imported, they add nothing to the startup totals, "
            "and `advisor fix` leaves them alone; name an entry with `--entry \"import pkg.mod\"` or "
            "[tool.advisor] entry-points if one is missing")
    if model.failures:
        from advisor.evidence.unmeasured import NOT_INSTALLED, failure_reason, unmeasured_notice
        from advisor.interpreter import source_of

        config = project.config
        reasons = {f.module: f.reason if f.reason == NOT_INSTALLED else failure_reason(f.reason, 1)
                   for f in model.failures}
        project.notices.append(unmeasured_notice(reasons, config.python, source_of(config)))
    if not model.entries:
        project.notices.append("lazy-imports: no entry point found (console scripts, `__main__`, packages, Django "
                               "settings): name one with `--entry` or [tool.advisor] entry-points")


__all__ = ["expected_by_entry", "fixable", "message", "refine_findings", "startup_summary"]
