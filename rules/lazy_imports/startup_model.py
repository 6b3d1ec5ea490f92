"""lazy-imports' startup model of the scanned project: the pure model of
``advisor.evidence.startup`` fed with the facts the rule recorded per file
(``startup_facts``), the project's entry points, and each external module's
closure measured one module at a time (``advisor.evidence.closures``).

Built once per scan (``project.derived``). Project modules are never
imported: their own self time counts as 0 ms, so a saving that removes
project modules is a lower bound ("at least").
"""

from __future__ import annotations

import os

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, AbstractSet, Any, Iterable, Mapping

from advisor.evidence.startup import Entry, Load, Saving, Statement, StartupGraph, load, package_prefixes, saving

if TYPE_CHECKING:
    from advisor.evidence.closures import Closure, Failure
    from advisor.project import Project

RULE_ID = "lazy-imports"
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass
class StartupModel:
    """The project's startup graph, its entries and what each entry loads now."""

    graph: StartupGraph
    entries: list[Entry]
    #: (module, statement text) -> [(line, statement id)]: findings carry the text.
    ids: dict[tuple[str, str], list[tuple[int, str]]]
    #: How the external closures were obtained: "importtime" or "table".
    source: str = "importtime"
    failures: list[Failure] = field(default_factory=list)
    #: Entry name -> what it loads with nothing deferred.
    before: dict[str, Load] = field(default_factory=dict)
    #: Project modules at least one entry loads.
    reached: frozenset[str] = frozenset()
    #: Measuring subprocesses this model ran (0 when every closure was cached).
    runs: int = 0
    #: Entry point functions: module -> names ("pkg.cli:main" gives pkg.cli -> main).
    entry_functions: dict[str, set[str]] = field(default_factory=dict)
    #: Project modules' own self times were measured (--measure-project).
    project_measured: bool = False

    def statement_id(self, module: str, statement: str, line: int) -> str:
        """The model's id of a finding's statement ("" when the model lacks it)."""
        candidates = self.ids.get((module, statement), [])
        before = [c for c in candidates if c[0] <= line]
        chosen = max(before) if before else (min(candidates) if candidates else None)
        return chosen[1] if chosen else ""

    def saving(self, deferred: Iterable[str], kept: Mapping[str, Iterable[str]] | None = None) -> Saving:
        """``kept``: entry name -> deferred statements that still load at its start (``always_runs``)."""
        return saving(self.graph, self.entries, deferred, self.before, kept)

    def isolated_ms(self, statement: str) -> float:
        """What the statement's modules cost imported alone, in a fresh interpreter."""
        owner = self.graph.owners.get(statement, "")
        targets = next((s.targets for s in self.graph.project.get(owner, ()) if s.id == statement), ())
        return load(self.graph, Entry("", tuple(targets))).total_ms if targets else 0.0

    def saving_when_imported(self, module: str, statement: str) -> Saving:
        """The saving of deferring ``statement`` for ``import module`` alone
        (for a module no entry reaches)."""
        return saving(self.graph, [Entry(f"`import {module}`", (module,))], [statement])

    @property
    def total_ms(self) -> float:
        """Self time of everything the entries load (each module once)."""
        modules = frozenset().union(*(b.modules for b in self.before.values())) if self.before else frozenset()
        times = self.graph.external_self_ms
        return sum(times.get(m, 0.0) for m in modules if m not in self.graph.project)


def startup_model(project: "Project") -> StartupModel:
    """The model, built once per project."""
    return project.derived(f"{RULE_ID}/startup-model", build_model)


def build_model(project: "Project") -> StartupModel:
    facts = {file.module: data.get("startup") or {} for file, data in project.facts_of(RULE_ID)
             if file.module and isinstance(data, dict)}
    modules = frozenset(project.modules) | frozenset(facts)
    entries, functions = find_entries(project, facts, modules)
    raw = {m: [s for s in f.get("statements", []) if _valid_statement(s)] for m, f in facts.items()}
    reached = _reached_project(raw, entries, modules)
    # Modules with an import the rule may report are measured too: a finding there
    # states its cost when that module is imported, even if no entry reaches it.
    candidates = [m for f, d in project.facts_of(RULE_ID) if f.module and isinstance(d, dict)
                  and (d.get("imports") or {}).get("deferrable") for m in [f.module]]
    reached = reached | _reached_project(raw, [Entry("", tuple(candidates))], modules)
    external = {t for m in reached for s in raw.get(m, []) for t in _direct_targets(s, modules)}
    named = {f"{s[2]}.{n}" for m in reached for s in raw.get(m, []) if s[3] and s[2] not in modules for n in s[3]}
    closures, failures, source, runs = _closures_by_package(project, external, named)
    subs = {f"{s[2]}.{n}" for m in reached for s in raw.get(m, []) if s[3] and s[2] not in modules
            for n in s[3] if s[2] in closures and n in closures[s[2]].submodules
            and f"{s[2]}.{n}" not in closures[s[2]].modules}
    if subs:
        more, more_failures, _, more_runs = _closures(project, subs, closures)
        closures.update(more)
        failures += more_failures
        runs += more_runs
    measured = project.config.measure_project and project.config.measure_imports
    own = project_self_times(project, [*(r for e in entries for r in e.roots), *candidates], modules) if measured else {}
    graph = StartupGraph(project={m: tuple(_statement(m, s, modules, closures) for s in statements)
                                  for m, statements in raw.items()},
                         closures={m: dict(c.modules) for m, c in closures.items()}, project_self_ms=own)
    ids: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for module, statements in raw.items():
        for line, text, _, _ in statements:
            ids.setdefault((module, text), []).append((line, f"{module}:{line}:{text}"))
    before = {e.name: load(graph, e) for e in entries}
    loaded = frozenset(m for b in before.values() for m in b.modules if m in modules)
    return StartupModel(graph, entries, ids, source, failures, before, loaded, runs, functions, bool(measured))


def project_self_times(project: "Project", roots: Iterable[str], modules: frozenset[str]) -> dict[str, float]:
    """--measure-project only (the user's explicit choice: it runs the project's
    code): import each root with the source roots on ``sys.path`` and keep each
    project module's smallest self time. Never cached: the code may change."""
    from advisor.evidence.importtime import ImportTimer

    config = project.config
    timer = ImportTimer(config.python, cwd=config.root, project_path=project.source_roots, cache_file=None)
    # Never a `__main__` (it runs the command line) nor a lone setup.py/conftest.py (setup() runs on import).
    wanted = sorted(m for m in {*roots, *modules} if m in modules and _DOTTED.match(m) and "__main__" not in m.split(".")
                    and m.split(".")[0] not in _NOT_STARTUP and m not in _NOT_ENTRIES)
    # One run imports every module (each guarded): a module's self time is its own
    # top-level code, the first time anything imports it.
    code = "\n".join(f"try:\n    import {m}\nexcept BaseException:\n    pass" for m in wanted)
    timer._measure_once(code, True)  # noqa: SLF001 - a first run writes the bytecode
    found = timer._measure_once(code, True) or {}  # noqa: SLF001
    return {m: us / 1000 for m, us in found.items() if m in modules}


def _valid_statement(statement: Any) -> bool:
    return (isinstance(statement, list) and len(statement) == 4 and isinstance(statement[0], int)
            and isinstance(statement[1], str) and isinstance(statement[2], str) and isinstance(statement[3], list))


def _direct_targets(statement: list[Any], modules: frozenset[str]) -> list[str]:
    """External modules a statement names itself (submodules of from-imports come later)."""
    base = statement[2]
    if not base or base in modules or any(base == m or m.startswith(base + ".") for m in _tops(modules, base)):
        return []
    return [base] if _DOTTED.match(base) else []


def _tops(modules: frozenset[str], name: str) -> list[str]:
    """Project modules under the same top-level name (a project package is never measured)."""
    top = name.split(".")[0]
    return [top] if top in modules or any(m.startswith(top + ".") for m in modules) else []


def _statement(module: str, statement: list[Any], modules: frozenset[str], closures: Mapping[str, "Closure"]) -> Statement:
    line, text, base, names = statement
    targets = [base] if base else []
    for name in names:
        sub = f"{base}.{name}" if base else name
        if sub in modules or sub in closures:
            targets.append(sub)
    return Statement(f"{module}:{line}:{text}", tuple(dict.fromkeys(targets)))


def _reached_project(raw: Mapping[str, list[list[Any]]], entries: list[Entry], modules: frozenset[str]) -> set[str]:
    """Project modules some entry loads (statically; external modules not followed)."""
    seen: set[str] = set()
    stack = [p for e in entries for r in e.roots for p in package_prefixes(r)]
    while stack:
        current = stack.pop()
        if current in seen or current not in modules:
            continue
        seen.add(current)
        for _, _, base, names in raw.get(current, []):
            stack.extend(package_prefixes(base))
            stack.extend(f"{base}.{n}" for n in names)
    return seen


def _closures_by_package(project: "Project", modules: set[str], named: set[str]) -> tuple[
        dict[str, "Closure"], list["Failure"], str, int]:
    """Where fork trees measure, all at once: a submodule costs only what it
    adds to its package's import, and ``named`` (``from pkg import name``)
    are measured when they are submodules. Elsewhere packages first: a
    submodule that a package's own import (measured as a target itself)
    already loads has the same closure (Python imports a package before its
    submodules, and what the submodule loads was loaded with it), so it needs
    no run of its own."""
    from advisor.evidence.closure_tree import can_fork
    from advisor.evidence.closures import Closure

    if can_fork():
        return _closures(project, modules, {}, named)

    tops = {m for m in modules if not any(p in modules for p in package_prefixes(m)[:-1])}
    closures, failures, source, runs = _closures(project, tops, {})
    covered = {}
    for module in modules - tops:
        top = next((closures[p] for p in package_prefixes(module)[:-1] if p in closures), None)
        if top is not None and module in top.modules:
            # A from-import's names count as submodules when the package loaded them.
            subs = frozenset(m[len(module) + 1:] for m in top.modules if m.startswith(module + ".")
                             and "." not in m[len(module) + 1:])
            covered[module] = Closure(top.modules, subs)
    rest, more_failures, _, more_runs = _closures(project, modules - tops - set(covered), closures)
    return {**closures, **covered, **rest}, failures + more_failures, source, runs + more_runs


def _closures(project: "Project", modules: set[str], known: Mapping[str, "Closure"],
              named: AbstractSet[str] = frozenset()) -> tuple[dict[str, "Closure"], list["Failure"], str, int]:
    """Measured closures (or, without measuring, the bundled table's figures);
    ``named``: ``pkg.name`` of from-imports, measured if they are submodules."""
    from advisor.evidence.closures import Closure, ClosureStore, Failure
    from advisor.evidence.importtime import ImportTimer
    from advisor.evidence.unmeasured import NOT_INSTALLED

    config = project.config
    wanted = sorted(m for m in modules if m not in known)
    if not wanted:
        return {}, [], "importtime", 0
    if config.measure_imports:
        timer = ImportTimer(config.python, cwd=config.root, cache_file=config.cache_path() / "importtime.json")
        versions = timer.versions({m.split(".")[0] for m in wanted})
        if timer.available:
            store = ClosureStore(config.python, config.cache_path() / "closures.json", timeout=config.timeout)
            progress = project.progress

            def report(done: int, total: int) -> None:
                if progress:
                    progress(f"measuring import times {done}/{total}")

            optional = {m: versions.get(m.split(".")[0]) for m in named if m not in known}
            found, failures = store.closures({m: versions.get(m.split(".")[0]) for m in wanted}, report, optional)
            if store.busy is not None:
                project.notices.append(
                    f"import times were measured while this machine was busy (load {store.busy:.1f} on "
                    f"{os.cpu_count() or 1} cores), so they may be high; they are cached: delete "
                    f"{store.cache_file} to measure them again on a quieter machine")
            missing = [m for m in wanted if m not in found and not versions.get(m.split(".")[0])]
            found.update(_table_closures(missing))
            failures += [Failure(m, NOT_INSTALLED) for m in missing]
            return found, failures, "importtime", store.runs
        project.notices.append(f"import costs from the bundled table: {timer.problem}")
    return _table_closures(wanted), [], "table", 0


def _table_closures(modules: Iterable[str]) -> dict[str, "Closure"]:
    """The bundled table as closures: a module costs its table entry, shared with
    every module the entry covers (``numpy`` and ``numpy.linalg`` load one numpy)."""
    from advisor.evidence.closures import Closure
    from advisor.rules.lazy_imports.costs import load_table

    table = load_table()
    found = {}
    for module in modules:
        parts = module.split(".")
        key = next((".".join(parts[:end]) for end in range(len(parts), 0, -1) if ".".join(parts[:end]) in table), None)
        if key is not None:
            found[module] = Closure({key: table[key], module: 0.0} if key != module else {key: table[key]})
    return found


def find_entries(project: "Project", facts: Mapping[str, Mapping[str, Any]],
                 modules: frozenset[str]) -> tuple[list[Entry], dict[str, set[str]]]:
    """Every entry point found statically, and the functions console scripts call."""
    from advisor.evidence import entries as found_entries
    from advisor.source import is_test_path

    root = project.config.root
    pyproject = _toml(root / "pyproject.toml")
    setup_cfg, setup_py = _text(root / "setup.cfg"), _text(root / "setup.py")
    entries = found_entries.script_entries(pyproject) + found_entries.setup_entries(setup_cfg, setup_py, pyproject)
    functions = _entry_functions(pyproject, setup_cfg, setup_py)
    entries += found_entries.main_entries(modules) + found_entries.package_entries(modules)
    settings = {m: tuple(f["settings"]) for m, f in facts.items() if isinstance(f.get("settings"), list)}
    named = {n for f in facts.values() for n in f.get("settings_env", [])}
    entries += found_entries.django_entries_from(settings, named, modules)
    tests = {f.module for f in project.files if f.module and is_test_path(Path(f.path))}
    imported = {n for f in facts.values() for s in f.get("statements", []) if _valid_statement(s)
                for n in (s[2], *(f"{s[2]}.{x}" for x in s[3]))}
    for module, data in sorted(facts.items()):
        if module in tests or module.split(".")[0] in _NOT_STARTUP:
            continue
        if data.get("main_guard") and not module.endswith(".__main__"):
            entries.append(Entry(f"`python -m {module}`" if "." in module else f"`python {module}.py`", (module,)))
        elif "." not in module and module not in imported and module not in _NOT_ENTRIES and not _is_package(module, modules):
            entries.append(Entry(f"`import {module}`", (module,)))
    for spec in project.config.entry_points:
        try:
            entries.append(found_entries.parse_entry(spec, modules))
        except ValueError:
            continue  # checked when the config was read
    useful = [e for e in entries if any(r in modules or r.split(".")[0] in modules for r in e.roots)]
    return list({e.name: e for e in useful}.values()), functions


#: Top-level packages and lone modules that are never what a user starts.
_NOT_STARTUP = frozenset({"tests", "test", "testing", "docs", "doc", "examples", "benchmarks", "scripts"})
_NOT_ENTRIES = frozenset({"setup", "conftest", "noxfile", "tasks", "fabfile", "manage", "runtests", "conf"})


def _is_package(module: str, modules: frozenset[str]) -> bool:
    return any(m.startswith(module + ".") for m in modules)


def _entry_functions(pyproject: Mapping[str, Any], setup_cfg: str, setup_py: str) -> dict[str, set[str]]:
    from advisor.evidence.entries import _setup_py_scripts

    specs = []
    project = pyproject.get("project", {}) if isinstance(pyproject, dict) else {}
    for table in ("scripts", "gui-scripts"):
        scripts = project.get(table, {}) if isinstance(project, dict) else {}
        specs += [str(v) for v in scripts.values()] if isinstance(scripts, dict) else []
    poetry = ((pyproject.get("tool") or {}).get("poetry") or {}) if isinstance(pyproject, dict) else {}
    if isinstance(poetry, dict) and isinstance(poetry.get("scripts"), dict):
        specs += [str(v) for v in poetry["scripts"].values()]
    specs += [line.partition("=")[2] for line in setup_cfg.splitlines() if ":" in line and "=" in line]
    specs += [s.partition("=")[2] for s in _setup_py_scripts(setup_py)]
    found: dict[str, set[str]] = {}
    for spec in specs:
        module, _, function = spec.strip().partition(":")
        function = function.strip().split(".")[0].split()[0] if function.strip() else ""
        if _DOTTED.match(module.strip()) and function.isidentifier():
            found.setdefault(module.strip(), set()).add(function)
    return found


def script_functions(root: Path) -> dict[str, str]:
    """Console and GUI script entry name -> the function it calls
    ("console script `tool`" -> "pkg.cli.main"), named as ``find_entries`` names them."""
    from advisor.evidence.entries import _ini_scripts, _setup_py_scripts

    pyproject = _toml(root / "pyproject.toml")
    named: list[tuple[str, str]] = []
    project = pyproject.get("project", {}) if isinstance(pyproject, dict) else {}
    for table, kind in (("scripts", "console script"), ("gui-scripts", "GUI script")):
        scripts = project.get(table, {}) if isinstance(project, dict) else {}
        named += [(f"{kind} `{k}`", str(v)) for k, v in scripts.items()] if isinstance(scripts, dict) else []
    poetry = ((pyproject.get("tool") or {}).get("poetry") or {}) if isinstance(pyproject, dict) else {}
    if isinstance(poetry, dict) and isinstance(poetry.get("scripts"), dict):
        named += [(f"console script `{k}`", str(v)) for k, v in poetry["scripts"].items()]
    setup_cfg = _text(root / "setup.cfg")
    lines = (_ini_scripts(setup_cfg, "options.entry_points", "console_scripts") if setup_cfg else []) + \
        _setup_py_scripts(_text(root / "setup.py"))
    named += [(f"console script `{n.strip()}`", t) for n, _, t in (line.partition("=") for line in lines) if n.strip()]
    found: dict[str, str] = {}
    for name, spec in named:
        module, _, function = spec.strip().partition(":")
        function = function.strip().split()[0] if function.strip() else ""
        if _DOTTED.match(module.strip()) and _DOTTED.match(function):
            found.setdefault(name, f"{module.strip()}.{function}")
    return found


def _toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, ValueError):
        return {}


def _text(path: Path) -> str:
    try:
        return path.read_text("utf-8", errors="replace") if path.is_file() else ""
    except OSError:
        return ""


__all__ = ["StartupModel", "build_model", "find_entries", "script_functions", "startup_model"]
