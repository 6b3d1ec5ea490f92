"""Import costs for the lazy-imports rule: measured in the project's own
interpreter when possible, else a bundled table, and always incremental:
what a statement adds on top of what the module's startup path loads anyway.

A statement importing the project's own modules is never run to measure it
(that would run the scanned code): its cost is "derived", the measured
costs of the installed and stdlib modules its static import closure
reaches. The project modules' own top-level work is not in that figure, so
it is a lower bound. ``--measure-project`` imports them instead.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable


if TYPE_CHECKING:
    from advisor.evidence.importtime import ImportTimer
    from advisor.findings import ImpactSource
    from advisor.rules.lazy_imports.graph import StartupGraph

Request = tuple[str, str]  # (statement, top-level module)
#: ``from __future__ import ...`` is a compiler directive: legal only first in a
#: module, so never measured (run after other code it is a SyntaxError, and it
#: made every measurement that included it fail); it loads nothing worth a figure.
_FUTURE = "__future__"


def load_table() -> dict[str, float]:
    """The bundled fallback table: module -> typical import ms."""
    from importlib import resources

    text = resources.files("advisor").joinpath("data/import_costs.json").read_text("utf-8")
    return {k: float(v) for k, v in json.loads(text).items() if not k.startswith("_")}


def table_cost(module: str, names: Iterable[str], table: dict[str, float]) -> float | None:
    """The table entry for the module, a submodule named in the import, or a parent."""
    for name in names:
        if f"{module}.{name}" in table:
            return table[f"{module}.{name}"]
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        key = ".".join(parts[:end])
        if key in table:
            return table[key]
    return None


class ImportCosts:
    """Answers "how many ms does deferring this statement save?" for one project."""

    def __init__(self, project: "StartupGraph") -> None:
        from advisor.evidence.importtime import ImportTimer

        config = project.config
        self.project = project
        self.table = load_table()
        self.timer: ImportTimer | None = None
        self.notice = ""
        if config.measure_imports:
            self.timer = ImportTimer(
                config.python, cwd=config.root, project_path=project.source_roots if config.measure_project else (),
                cache_file=config.cache_path() / "importtime.json",
            )
        self._versions: dict[str, str | None] = {}
        #: Statement -> why it was not measured (advisor.evidence.unmeasured).
        self.unmeasured: dict[str, str] = {}
        #: Project statement -> the external statements its import closure runs (a derived cost).
        self._derived: dict[Request, list[Request]] = {}

    def prepare(self, requests: Iterable[Request]) -> None:
        """Measure every statement not measured yet (one subprocess each)."""
        requests = set(requests)
        if self.timer is None or not requests:
            return
        if not self.project.config.measure_project:
            requests = self._derive(requests)
        reached = {r for statements in self._derived.values() for r in statements}
        tops = {top for _, top in requests | reached}
        external = [t for t in tops if not self.project.is_project_package(t)]
        self._versions.update(self.timer.versions(external))
        for top in tops - set(external):
            self._versions[top] = self.project.project_stamp(top)
        if not self.timer.available:
            self.notice = f"import costs from the bundled table: {self.timer.problem}"
            return
        todo = [(s, self._versions[t]) for s, t in requests if self._versions.get(t) and t != _FUTURE]
        todo += [pair for pair in map(self._combined, self._derived) if pair is not None]
        reporter = self.project.progress

        def progress(done: int, total: int) -> None:
            if reporter:
                reporter(f"measuring import times {done}/{total}")

        project_tops = set(tops) - set(external)
        self.timer.measure(todo, progress, project=lambda s: s.split()[1].split(".")[0] in project_tops)  # type: ignore[arg-type]
        self._count_unmeasured(requests, reached)

    def _count_unmeasured(self, requests: set[Request], reached: set[Request]) -> None:
        """Each external statement not installed here or whose measurement failed."""
        from advisor.evidence.unmeasured import NOT_INSTALLED

        assert self.timer is not None
        for statement, top in requests | reached:
            if self.project.is_project_package(top) or top == _FUTURE:
                continue
            version = self._versions.get(top)
            reason = NOT_INSTALLED if not version else self.timer.failure(statement, version)
            if reason:
                self.unmeasured[statement] = reason
        for request in self._derived:
            combined = self._combined(request)
            reason = self.timer.failure(*combined) if combined is not None else None
            if reason:
                self.unmeasured[request[0]] = reason

    def unmeasured_notice(self) -> str:
        """The one notice for the statements that were not measured ("" when none)."""
        from advisor.evidence.unmeasured import unmeasured_notice
        from advisor.interpreter import source_of

        config = self.project.config
        return unmeasured_notice(self.unmeasured, config.python, source_of(config))

    def _derive(self, requests: set[Request]) -> set[Request]:
        """Set each project statement aside with the external ones it reaches;
        the rest is measured one by one, as usual."""
        external = set()
        for request in requests:
            if self.project.is_project_package(request[1]):
                self._derived[request] = sorted(self.project.external_statements_run_by(request[0]))
            else:
                external.add(request)
        return external

    def _combined(self, request: Request) -> tuple[str, str] | None:
        """(code, version) measuring at once what a project statement reaches:
        one subprocess per project statement (as importing it would take),
        each reached import guarded, so one that fails costs nothing."""
        usable = [(s, self._versions[t]) for s, t in self._derived[request] if self._versions.get(t) and t != _FUTURE]
        if not usable:
            return None
        code = "\n".join(f"try:\n    {statement}\nexcept Exception:\n    pass" for statement, _ in usable)
        digest = hashlib.sha256("\0".join(f"{s}={v}" for s, v in usable).encode()).hexdigest()[:16]
        return code, f"derived-{digest}"

    def incremental_ms(self, request: Request, names: Iterable[str], startup: Iterable[Request]) -> tuple[float | None, ImpactSource]:
        """Saving of deferring ``request`` given the ``startup`` statements stay eager.

        Returns (ms, source) with source "importtime", "derived" (a project
        statement, see the module docstring) or "table"; ms is None when the
        cost is unknown (not importable here and not in the table).
        """
        statement, top = request
        startup = list(startup)
        measured = self._derived_closure(request) if request in self._derived else self._closure(request)
        if measured is not None:
            loaded: set[str] = set()
            for other in startup:
                closure = self._closure(other)
                if closure is not None:
                    loaded.update(closure)
                else:
                    loaded.update(_module_and_parents(other[0]))
            source: ImpactSource = "derived" if request in self._derived else "importtime"
            return sum(us for m, us in measured.items() if m not in loaded) / 1000.0, source
        module = statement.split()[1]
        cost = table_cost(module, names, self.table)
        if cost is None:
            return None, "table"
        eager_modules = {m for s, _ in startup for m in _module_and_parents(s)}
        if module in eager_modules or any(f"{module}.{n}" in eager_modules for n in names):
            return 0.0, "table"
        return cost, "table"

    def _derived_closure(self, request: Request) -> dict[str, int] | None:
        """What the external imports a project statement reaches load,
        measured together ({} when none of them is installed here)."""
        if self.timer is None or not self.timer.available:
            return None
        combined = self._combined(request)
        if combined is None:
            return {}
        return self.timer.closure(*combined)

    def _closure(self, request: Request) -> dict[str, int] | None:
        statement, top = request
        version = self._versions.get(top)
        if self.timer is None or not version:
            return None
        return self.timer.closure(statement, version)


@lru_cache(maxsize=8192)
def _module_and_parents(statement: str) -> frozenset[str]:
    """The modules an import statement names, with their parents (a pure
    function of the text: cached, as refine asks it for every eager statement
    of the startup path once per finding)."""
    parts = statement.split()
    module = parts[1]
    pieces = module.split(".")
    found = {".".join(pieces[:i]) for i in range(1, len(pieces) + 1)}
    if parts[0] == "from" and len(parts) > 3:
        found.update(f"{module}.{n.strip(',')}" for n in parts[3:])
    return frozenset(found)
