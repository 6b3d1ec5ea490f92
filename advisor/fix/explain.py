"""Why a costly module-level import was left alone, in words, for the
``advisor fix`` summary.

Two sources. Findings the rule reported but its project-wide step dropped
are explained from the same Project facts the step used (another module
imports the name, a test patches it, the startup path loads it anyway).
Imports the rule never reported are explained by walking the file with the
rule and reading its usage facts, mirroring the checks of
``LazyImports._consider``. Only imports that cost at least the rule's
threshold are listed: a cheap import left alone needs no explanation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from advisor.config import Config
    from advisor.findings import Finding
    from advisor.project import Project

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


def dropped_reason(finding: "Finding", project: "Project", module: str, threshold_ms: float) -> str:
    """Why the project-wide step dropped a finding the file itself allowed
    ("" when it is simply cheap: nothing worth saying). Mirrors the checks
    of ``LazyImports.refine``."""
    statement = finding.data.get("statement", "")
    imported = statement.split()[1] if statement else ""
    names = [n.strip(",") for n in statement.split()[3:]] if statement.startswith("from ") else []
    request = (statement, finding.data.get("module", "").split(".")[0])
    costs = project.import_costs
    parents = _parent_packages(module, project)
    costs.prepare([request, *parents])
    alone, source = costs.incremental_ms(request, names, parents)
    if alone is None or alone < threshold_ms or (source != "importtime" and project.is_project_module(request[1])):
        return ""
    for name in finding.data.get("names", []):
        users = project.external_importers(module, name)
        if users:
            return f"`{name}` is imported from this module by {_few(users)}"
        patchers = project.patchers(module, name)
        if patchers:
            return f"`{module}.{name}` is patched by {_few(patchers)} (mock.patch / monkeypatch)"
    own = project.deepest_project_modules(imported, names) if hasattr(project, "deepest_project_modules") else set()
    if own and hasattr(project, "eager_importers"):
        users = project.eager_importers(own, module)
        if users:
            return f"{', '.join(sorted(own))} is imported eagerly by {_few(users)}: it is loaded at startup anyway"
    if not own and hasattr(project, "common_external_importers"):
        users = project.common_external_importers(imported, module)
        if len(users) >= 2:
            return f"{imported} is imported eagerly by {_few(users)}: it is loaded anyway"
    target = finding.data.get("module", "")
    loaders = sorted(s for s, top in project.startup_statements(module, {statement})
                     if target in (costs._closure((s, top)) or {}))  # noqa: SLF001 - same package family
    if loaders:
        return (f"deferring it saves nothing: {target} is loaded at startup anyway by "
                + ", ".join(f"`{s}`" for s in loaders[:3]))
    return f"deferring it saves less than threshold-ms ({threshold_ms:g} ms) on this module's startup path"


def _parent_packages(module: str, project: "Project") -> list[tuple[str, str]]:
    parts = module.split(".")
    parents = [".".join(parts[:i]) for i in range(1, len(parts))]
    return [(f"import {p}", parts[0]) for p in parents if project.is_project_module(p)]


def _few(paths: list[str]) -> str:
    return ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def local_reasons(path: Path, display: str, module: str, config: "Config") -> list[tuple[int, Any, str]]:
    """(line, ImportTarget, reason) for top-level imports the rule declines in this file."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    from advisor.engine.analyse import run_walk
    from advisor.registry import all_rules
    from advisor.rule import FileContext, build_options
    from advisor.source import decode_source, is_test_path, source_lines

    rule_class = all_rules(config, include_entry_points=False)["lazy-imports"]
    source = decode_source(path.read_bytes())
    tree = cst.parse_module(source.text)
    context = FileContext(display, module, config, tuple(source_lines(source.text)), is_test_path(Path(display)))
    if context.is_test:
        return []
    rule: Any = rule_class(context, build_options(rule_class, config.rule_options.get("lazy-imports", {})))
    run_walk(tree, [rule], [], display)
    positions = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
    reported = {id(r.node) for r in rule.reports}
    found = []
    for entry in rule.usage.top_level_imports:
        for target in entry.targets:
            node = entry.node if len(entry.targets) == 1 else _alias(entry.node, target)
            if id(node) in reported or id(entry.node) in reported:
                continue
            reason = _why_declined(rule, entry, target)
            if reason:
                found.append((positions[entry.statement].start.line, target, reason))
    found.extend(_probes(tree, positions, module))
    return found


def _alias(node: Any, target: Any) -> Any:
    from advisor.rules.support.imports import dotted_name

    return next((a for a in node.names if dotted_name(a.name) == target.module), node)


def _why_declined(rule: Any, entry: Any, target: Any) -> str:
    """Mirrors LazyImports._consider: the first check the import fails."""
    from advisor.rules.lazy_imports.rule import BUILTIN_SIDE_EFFECT_MODULES, _leaf, _listed

    usage, config = rule.usage, rule.context.config
    if usage.dynamic:
        return "the module reads its own namespace dynamically (globals(), eval, module __getattr__ or a computed __all__)"
    if _listed(target.module, target.names, config.side_effect_modules) or _listed(target.module, target.names, BUILTIN_SIDE_EFFECT_MODULES):
        return "importing it has side effects (side-effect-modules)"
    if _listed(target.module, target.names, config.cheap_modules) or (rule.is_package and entry.node.relative):
        return ""
    uses = []
    for bound in target.bound:
        found = usage.uses.get(bound, [])
        if not found:
            return ""  # unused: another tool's business
        if usage.bindings.get(bound, 0) > 1:
            return f"`{bound}` is bound more than once at module level"
        if bound in usage.dunder_all:
            return f"`{bound}` is re-exported through __all__"
        uses.extend(found)
    if any(u.where == "module" for u in uses):
        return "used while the module is imported (module-level code, a decorator, base class, default value or class body)"
    for use in uses:
        if use.where == "annotation" and (use.runtime or usage.reads_annotations or _leaf(use.function) in usage.value_refs):
            if usage.reads_annotations:
                return "this module reads annotations at run time (typing.get_type_hints / inspect.signature)"
            return f"the annotations of {use.function or 'a class'} are read at run time (a model base class, dataclass, decorator or registry)"
    functions = sorted({u.function for u in uses if u.where == "function"})
    loop = [f for f in functions if _leaf(f) in usage.called_in_loop]
    if loop:
        return f"{', '.join(loop)}() runs in a loop in this module: an import there would run on every call"
    return ""


def _probes(tree: Any, positions: Any, module: str) -> list[tuple[int, Any, str]]:
    """Imports inside a module-level try/except ImportError (optional dependencies)."""
    import libcst as cst

    from advisor.rules.support.imports import targets_of

    found = []
    for statement in tree.body:
        if not isinstance(statement, cst.Try) or not isinstance(statement.body, cst.IndentedBlock):
            continue
        for line in statement.body.body:
            if isinstance(line, cst.SimpleStatementLine):
                for small in line.body:
                    for target in targets_of(small, module):
                        found.append((positions[line].start.line, target, "an optional-dependency probe (try/except ImportError)"))
    return found


def explain_left_alone(files: list[tuple[Path, str, str]], dropped: list[tuple["Finding", str]],
                       project: "Project | None", config: "Config", threshold_ms: float) -> list[LeftAlone]:
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
