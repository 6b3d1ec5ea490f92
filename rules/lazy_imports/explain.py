"""Why a costly module-level import was left alone, in words, for the
``advisor fix`` summary.

Two sources. Findings the rule reported but its project-wide step dropped
are explained from the same Project facts the step used (the startup path
loads it anyway). Imports the rule never reported are explained by the
rule's own analysis and decision (reports.py, ``decide``), run on the file
again. Only imports that cost at least the rule's threshold are listed: a
cheap import left alone needs no explanation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from advisor.config import Config
    from advisor.findings import Finding
    from advisor.project import Project
    from advisor.rules.lazy_imports.graph import StartupGraph
    from advisor.rules.lazy_imports.startup_model import StartupModel

#: At most this many declined imports are explained per run.
MAX_MEASURED = 200


@dataclass(frozen=True)
class LeftAlone:
    """One costly import kept where it is, and why."""

    path: str
    line: int
    statement: str
    reason: str
    ms: float | None = None


def dropped_reason(finding: "Finding", graph: "StartupGraph", module: str, threshold_ms: float) -> str:
    """Why the project-wide step dropped a finding the file itself allowed
    ("" when it is simply cheap: nothing worth saying), from the same
    decisions ``refine`` takes (``eager_reason``, the startup model, ``runs``)."""
    from advisor.rules.lazy_imports.rule import eager_reason
    from advisor.rules.lazy_imports.savings import project_runs_of
    from advisor.rules.lazy_imports.startup_model import startup_model

    reason = eager_reason(finding, graph, module)
    if reason:
        return reason
    model = startup_model(graph.project)
    statement = model.statement_id(module, finding.data.get("statement", ""), finding.span.line)
    if not statement:
        return ""
    kind, why = project_runs_of(graph.project, model).problem(module, finding.data.get("functions", []))
    if kind == "always":
        return why
    if model.isolated_ms(statement) < threshold_ms:
        return ""  # cheap on its own: nothing worth saying
    saving = statement_saving(model, module, statement)
    loaders = loaded_anyway_by(model, statement) if saving < threshold_ms else []
    if loaders:
        return f"deferring it saves nothing: it is loaded at startup anyway by {', '.join(loaders[:3])}"
    always = always_reason(graph.project, model, module, statement, finding.data.get("functions", []))
    if always or saving >= threshold_ms:
        return always
    return f"deferring it saves less than threshold-ms ({threshold_ms:g} ms) on the startup path"


def always_reason(project: "Project", model: "StartupModel", module: str, statement: str, functions: list[str]) -> str:
    """Why deferring into ``functions`` saves nothing: one of them runs at every
    start of each entry the move would help ("" otherwise; ``always_runs.py``)."""
    from advisor.rules.lazy_imports.savings import project_always_of

    always = project_always_of(project, model).entries_running(module, functions) if module in model.reached else {}
    kept = {entry: [statement] for entry in always}
    if not always or any(saved > 0 for saved, _ in model.saving([statement], kept).per_entry.values()):
        return ""
    first = sorted(always)[0]
    others = f" (and {len(always) - 1} other entr{'ies' if len(always) > 2 else 'y'})" if len(always) > 1 else ""
    return f"{always[first]}{others}: deferring into it saves nothing"


def statement_saving(model: "StartupModel", module: str, statement: str) -> float:
    """What deferring one statement saves for the entry it helps most (when no
    entry reaches its module: when that module is imported)."""
    if module not in model.reached:
        return float(model.saving_when_imported(module, statement).saving_ms)
    return float(max([saved for saved, _ in model.saving([statement]).per_entry.values()] + [0.0]))


def loaded_anyway_by(model: "StartupModel", statement: str) -> list[str]:
    """Other eager statements (`module:line`) that load what ``statement`` loads."""
    graph = model.graph
    owner = graph.owners.get(statement, "")
    targets = next((s.targets for s in graph.project.get(owner, ()) if s.id == statement), ())
    wanted = {t for t in targets if t not in graph.project}
    found = []
    for module in sorted(model.reached):
        for other in graph.project.get(module, ()):
            if other.id == statement:
                continue
            loads = {m for t in other.targets for m in graph.closures.get(t, {})} | set(other.targets)
            if wanted and wanted <= loads:
                found.append(f"`{other.id.split(':', 2)[2]}` ({module}:{other.id.split(':', 2)[1]})")
    return found


def local_reasons(path: Path, display: str, module: str, config: "Config") -> list[tuple[int, Any, str]]:
    """(line, ImportTarget, reason) for top-level imports the rule declines in this file."""
    import ast

    from advisor.registry import all_rules
    from advisor.rule import build_options
    from advisor.rules.lazy_imports.reports import decisions, walk
    from advisor.source import decode_source, is_test_path

    if is_test_path(Path(display)):
        return []
    rule_class = all_rules(config, include_entry_points=False)["lazy-imports"]
    options = build_options(rule_class, config.rule_options.get("lazy-imports", {}))
    text = decode_source(path.read_bytes()).text
    tree = ast.parse(text)
    is_package = path.name == "__init__.py"
    walker = walk(tree, module, is_package, text)
    found = []
    for node, _, target, decision in decisions(walker, options, is_package):
        if walker.dynamic:
            reason = _DYNAMIC  # nothing in the file is reported
        elif decision.data is not None:
            continue  # reported: the fix, or the summary's other half, says what became of it
        else:
            reason = decision.reason
        if reason:
            found.append((node.lineno, target, reason))
    found.extend(_probes(tree, walker))
    return found


_DYNAMIC = "the module reads its own namespace dynamically (globals(), eval, module __getattr__ or a computed __all__)"


def _probes(tree: Any, walker: Any) -> list[tuple[int, Any, str]]:
    """Imports inside a module-level try/except ImportError (optional dependencies)."""
    import ast

    found: list[tuple[int, Any, str]] = []
    for statement in tree.body:
        if type(statement) is ast.Try:
            for line in statement.body:
                if type(line) in (ast.Import, ast.ImportFrom):
                    found.extend((line.lineno, target, "an optional-dependency probe (try/except ImportError)")
                                 for target in walker.targets(line))
    return found


def explain_left_alone(files: list[tuple[Path, str, str]], dropped: list[tuple["Finding", str]],
                       project: "StartupGraph | None", config: "Config", threshold_ms: float) -> list[LeftAlone]:
    """The costly imports left alone in ``files`` (path, display, module), and why."""
    result = []
    if project is not None:
        for finding, module in dropped:
            reason = dropped_reason(finding, project, module, threshold_ms)
            if reason:
                result.append(LeftAlone(finding.path, finding.span.line, finding.data.get("statement", ""), reason))
    declined = []
    for path, display, module in files:
        try:
            for line, target, reason in local_reasons(path, display, module, config):
                declined.append((display, module, line, target, reason))
        except Exception:  # explaining must never break fixing
            continue
    if project is None or not declined:
        return result
    from advisor.rules.lazy_imports.startup_model import startup_model

    model = startup_model(project.project)
    for display, module, line, target, reason in declined[:MAX_MEASURED]:
        statement = model.statement_id(module, target.statement, line)
        if not statement:
            continue
        ms = model.isolated_ms(statement)
        if ms >= threshold_ms:
            result.append(LeftAlone(display, line, target.statement, reason, ms))
    return sorted(result, key=lambda r: (r.path, r.line))
