"""The startup model: what each entry point loads at import time, and what
deferring a set of import statements would stop it loading.

Why a graph and not a sum: two imports that load the same heavy module each
"cost" it when measured alone, yet deferring one saves nothing while the
other stays eager. So savings are never added up: the model recomputes what
every entry reaches with the chosen statements removed, and the saving is the
self time of the modules that no entry loads any more. Everything here is
pure (no I/O, no imports of project code) and is tested on random graphs.

Inputs:

- ``project``: each project module -> its import-time statements (module-level
  imports, and imports in code that always runs at startup such as
  ``AppConfig.ready()``), each with a stable id and the modules it loads;
- ``closures``: each external module -> the modules a fresh interpreter loads
  for ``import X`` and each one's self time (``closure_from_importtime``);
- entries: named sets of root modules (``advisor.evidence.entries``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Mapping

from advisor.evidence.importtime import records_after_mark


@dataclass(frozen=True)
class Statement:
    """One import statement of a project module."""

    #: Stable id, e.g. ``"pkg.cli:12"`` (module and line).
    id: str
    #: The modules it loads: project modules or external ones.
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    """One way the program starts, and the modules it imports first."""

    #: How a user starts it: "console script `tool`", "`python -m pkg`".
    name: str
    roots: tuple[str, ...]


@dataclass(frozen=True)
class StartupGraph:
    """The project's own import-time statements joined with measured closures."""

    project: Mapping[str, tuple[Statement, ...]]
    #: external module -> {module it loads: self time in ms}; includes itself.
    closures: Mapping[str, Mapping[str, float]]
    #: Self time of project modules when known (measured); else 0 ms.
    project_self_ms: Mapping[str, float] = field(default_factory=dict)

    def self_ms(self, module: str) -> float:
        """One self time per module: the smallest seen (noise only adds time)."""
        if module in self.project:
            return float(self.project_self_ms.get(module, 0.0))
        return self.external_self_ms.get(module, 0.0)

    @cached_property
    def owners(self) -> dict[str, str]:
        """Statement id -> the project module it belongs to."""
        return _owners(self.project)

    @cached_property
    def external_self_ms(self) -> dict[str, float]:
        """External module -> its smallest self time over every closure."""
        return _self_times(self.closures)


@dataclass(frozen=True)
class Load:
    """What one entry loads at startup."""

    entry: str
    modules: frozenset[str]
    total_ms: float
    #: External targets with no measured closure: their cost is not counted.
    unmeasured: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Saving:
    """The effect of deferring a set of statements, computed on the graph."""

    deferred: frozenset[str]
    #: Modules that no entry loads any more, and their summed self time.
    removed: frozenset[str]
    saving_ms: float
    #: Self time of everything the entries loaded before (the ceiling).
    total_ms: float
    #: entry name -> (saving ms, entry total ms before).
    per_entry: Mapping[str, tuple[float, float]]
    #: Deferred statements in modules that no entry loads: no startup cost.
    unreached: frozenset[str] = frozenset()


def closure_from_importtime(stderr: str) -> dict[str, float]:
    """Modules an isolated ``python -X importtime -c "import X"`` run loaded
    (after advisor's marker line, when present) -> self time in ms."""
    modules: dict[str, float] = {}
    for record in records_after_mark(stderr):
        modules.setdefault(record.module, record.self_us / 1000)
    return modules


def load(graph: StartupGraph, entry: Entry, deferred: Iterable[str] = ()) -> Load:
    """Every module ``entry`` loads with the ``deferred`` statements removed."""
    skip = frozenset(deferred)
    seen: set[str] = set()
    targets: set[str] = set()
    stack = [m for root in entry.roots for m in package_prefixes(root)]
    while stack:
        module = stack.pop()
        if module in seen or module in targets:
            continue
        if module in graph.project:
            seen.add(module)
            for statement in graph.project[module]:
                if statement.id not in skip:
                    stack.extend(m for t in statement.targets for m in package_prefixes(t))
        else:
            # Expanded even when another closure already holds it: closures
            # measured apart need not agree, and loading must stay monotonic.
            targets.add(module)
    covered: set[str] = set().union(*(graph.closures[t] for t in targets if t in graph.closures))
    unmeasured = frozenset(t for t in targets if t not in graph.closures and t not in covered)
    seen |= targets | covered
    return Load(entry.name, frozenset(seen), _sum_self(graph, seen), unmeasured)


def saving(graph: StartupGraph, entries: Iterable[Entry], deferred: Iterable[str],
           loaded: Mapping[str, Load] | None = None, kept: Mapping[str, Iterable[str]] | None = None) -> Saving:
    """The saving of deferring every statement in ``deferred`` together.

    Never a sum of single savings: the two differ in both directions (two
    statements that load the same module each save nothing alone), so the
    set is evaluated on the graph as one change. ``loaded``: each entry's
    ``load`` with nothing deferred, when the caller asks many times (an
    entry that loads none of the deferred statements' modules is unchanged).
    ``kept``: entry name -> statements that still load at that entry's start
    although deferred (their function always runs there).
    """
    chosen = frozenset(deferred)
    entries = list(entries)
    owners = _statement_owners(graph)
    before = [loaded[e.name] if loaded is not None and e.name in loaded else load(graph, e) for e in entries]
    touched = {owners.get(s) for s in chosen}
    stays = {name: frozenset(statements) for name, statements in (kept or {}).items()}
    after = [load(graph, e, chosen - stays.get(e.name, frozenset())) if touched & b.modules else b
             for e, b in zip(entries, before)]
    loaded_before = frozenset().union(*(b.modules for b in before)) if before else frozenset()
    loaded_after = frozenset().union(*(a.modules for a in after)) if after else frozenset()
    removed = loaded_before - loaded_after
    per_entry = {b.entry: (b.total_ms - a.total_ms, b.total_ms) for b, a in zip(before, after)}
    unreached = frozenset(s for s in chosen if owners.get(s) not in loaded_before)
    return Saving(chosen, removed, _sum_self(graph, removed), _sum_self(graph, loaded_before), per_entry, unreached)


def single_savings(graph: StartupGraph, entries: Iterable[Entry], statements: Iterable[str]) -> dict[str, Saving]:
    """Each statement deferred on its own, everything else unchanged."""
    entries = list(entries)
    return {s: saving(graph, entries, [s]) for s in statements}


def reached_by(graph: StartupGraph, entries: Iterable[Entry], module: str) -> list[str]:
    """Names of the entries that load ``module`` at startup (empty: none does)."""
    return [e.name for e in entries if module in load(graph, e).modules]


def package_prefixes(module: str) -> list[str]:
    """``a.b.c`` -> ``["a", "a.b", "a.b.c"]``: importing it loads ``a`` and
    ``a.b`` first, in that order, as the import system does."""
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _self_times(closures: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    times: dict[str, float] = {}
    for closure in closures.values():
        for module, ms in closure.items():
            times[module] = min(ms, times.get(module, ms))
    return times


def _sum_self(graph: StartupGraph, modules: Iterable[str]) -> float:
    times = graph.external_self_ms
    return sum(graph.project_self_ms.get(m, 0.0) if m in graph.project else times.get(m, 0.0) for m in modules)


def _statement_owners(graph: StartupGraph) -> dict[str, str]:
    return graph.owners


def _owners(project: Mapping[str, tuple[Statement, ...]]) -> dict[str, str]:
    return {s.id: module for module, statements in project.items() for s in statements}


__all__ = ["Entry", "Load", "Saving", "StartupGraph", "Statement", "closure_from_importtime", "load", "package_prefixes",
           "reached_by", "saving", "single_savings"]
