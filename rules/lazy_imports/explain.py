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
    from advisor.rules.lazy_imports.graph import StartupGraph

#: At most this many statements are measured for explanations per run.
MAX_MEASURED = 60


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
    decision ``LazyImports.refine`` takes (``eager_reason``)."""
    from advisor.rules.lazy_imports.rule import eager_reason

    statement = finding.data.get("statement", "")
    names = [n.strip(",") for n in statement.split()[3:]] if statement.startswith("from ") else []
    request = (statement, finding.data.get("module", "").split(".")[0])
    costs = graph.import_costs
    parents = _parent_packages(module, graph)
    costs.prepare([request, *parents])
    alone, source = costs.incremental_ms(request, names, parents)
    if alone is None or alone < threshold_ms or (source != "importtime" and graph.is_project_module(request[1])):
        return ""
    reason = eager_reason(finding, graph, module)
    if reason:
        return reason
    target = finding.data.get("module", "")
    loaders = sorted(s for s, top in graph.startup_statements(module, {statement})
                     if target in (costs._closure((s, top)) or {}))  # noqa: SLF001 - same package family
    if loaders:
        return (f"deferring it saves nothing: {target} is loaded at startup anyway by "
                + ", ".join(f"`{s}`" for s in loaders[:3]))
    return f"deferring it saves less than threshold-ms ({threshold_ms:g} ms) on this module's startup path"


def _parent_packages(module: str, project: "StartupGraph") -> list[tuple[str, str]]:
    parts = module.split(".")
    parents = [".".join(parts[:i]) for i in range(1, len(parts))]
    return [(f"import {p}", parts[0]) for p in parents if project.is_project_module(p)]


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
    costs = project.import_costs
    requests = [(t.statement, t.module.split(".")[0]) for _, _, _, t, _ in declined][:MAX_MEASURED]
    costs.prepare(requests + [p for _, module, _, _, _ in declined for p in _parent_packages(module, project)])
    for display, module, line, target, reason in declined:
        request = (target.statement, target.module.split(".")[0])
        # What the module's parent packages load comes first anyway (a package
        # __init__ that imports its submodules makes them free here).
        startup = project.startup_statements(module, {target.statement}) | set(_parent_packages(module, project))
        ms, source = costs.incremental_ms(request, target.names, startup)
        if source != "importtime" and project.is_project_module(request[1]):
            continue  # the bundled table knows libraries by name, not this project's modules
        if ms is not None and ms >= threshold_ms:
            result.append(LeftAlone(display, line, target.statement, reason, ms))
    return sorted(result, key=lambda r: (r.path, r.line))
