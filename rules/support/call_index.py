"""The project's calls between its own functions, joined across files in the
main process from the per-file facts of ``calls.file_calls``.

Built once per scan per rule (``project.derived``), it answers the two
questions the call-following rules ask: who calls this function, and from
which loop (a level or more up, in any module); and what does this function
call (a level or two down). A call counts only when its target resolves to a
function some scanned file defines, directly or through one package
``__init__`` that re-exports it; anything else is not the project's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from advisor.rules.support.calls import IN_LOOP, NOT_IN_LOOP, PER_ITEM

if TYPE_CHECKING:
    from advisor.project import Project

#: Module code's "function" name, as the index spells callers.
MODULE_CODE = "<module>"


@dataclass(frozen=True)
class Function:
    """A function or method some scanned file defines."""

    name: str  #: absolute: "pkg.settings.load_settings", "pkg.repo.Repo.get"
    path: str
    line: int
    cached: bool

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Site:
    """One call of a project function."""

    path: str
    caller: str  #: absolute name of the calling function, or "<module>" code of ``module``
    module: str
    target: str  #: the resolved callee (a key of ``CallIndex.functions``)
    line: int
    loop: int  #: NOT_IN_LOOP, IN_LOOP or PER_ITEM
    args: str
    use: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


class CallIndex:
    """Every call between the project's functions, by callee and by caller."""

    def __init__(self, files: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        self.functions: dict[str, Function] = {}
        #: function -> [path, line, the call, what one costs, the batch form]: its round trip on every call.
        self.trips: dict[str, list[Any]] = {}
        self._exports: dict[str, dict[str, str]] = {}
        raw: list[tuple[str, str, list[Any]]] = []
        for path, module, facts in files:
            for qualname, (line, cached) in facts.get("defs", {}).items():
                name = f"{module}.{qualname}" if module else qualname
                self.functions.setdefault(name, Function(name, path, int(line), bool(cached)))
            if facts.get("exports"):
                self._exports[module] = facts["exports"]
            for qualname, trip in facts.get("trips", {}).items():
                self.trips.setdefault(f"{module}.{qualname}" if module else qualname, [path, *trip])
            raw.extend((path, module, call) for call in facts.get("calls", ()))
        self.callers: dict[str, list[Site]] = {}
        self.callees: dict[str, list[Site]] = {}
        for path, module, call in raw:
            caller, target, line, loop, args, use = call
            resolved = self.resolve(target)
            if resolved is None:
                continue
            source = f"{module}.{caller}" if caller else f"{module}:{MODULE_CODE}"
            site = Site(path, source, module, resolved, line, loop, args, use)
            self.callers.setdefault(resolved, []).append(site)
            self.callees.setdefault(source, []).append(site)

    @classmethod
    def of(cls, project: "Project", rule_id: str) -> "CallIndex":
        """The index of the call facts rule ``rule_id`` recorded (under ``"calls"``),
        built once per scan for every rule whose facts cover the same files (the
        call facts of a file are the same whichever rule recorded them)."""
        files = [(f.path, f.module, facts["calls"]) for f, facts in project.facts_of(rule_id)
                 if isinstance(facts, dict) and isinstance(facts.get("calls"), dict)]
        key = "call-index/" + hashlib.sha256("\0".join(path for path, _, _ in files).encode()).hexdigest()
        return project.derived(key, lambda _: cls(files))

    def resolve(self, target: str) -> str | None:
        """The project function ``target`` names, following package re-exports
        (``pkg.load`` where ``pkg/__init__.py`` imports it from ``pkg.settings``)."""
        for _ in range(4):
            if target in self.functions:
                return target
            parts = target.split(".")
            for i in range(len(parts) - 1, 0, -1):
                exported = self._exports.get(".".join(parts[:i]), {})
                if parts[i] in exported:
                    target = ".".join([exported[parts[i]], *parts[i + 1:]])
                    break
            else:
                return None
        return None

    def function_of(self, site: Site) -> Function | None:
        return self.functions.get(site.caller)

    def loop_chain(self, name: str, depth: int = 3) -> list[Site] | None:
        """Calls from a loop down to ``name``: ``[call in a loop, ..., call of name]``,
        through at most ``depth`` functions (a function called only outside loops
        but by a function that a loop calls). None when no loop reaches it."""
        frontier: list[tuple[str, list[Site]]] = [(name, [])]
        seen = {name}
        for _ in range(depth):
            following: list[tuple[str, list[Site]]] = []
            for callee, below in frontier:
                for site in sorted(self.callers.get(callee, ()), key=lambda s: (s.path, s.line)):
                    chain = [site, *below]
                    if site.loop != NOT_IN_LOOP:
                        return chain
                    caller = self.functions.get(site.caller)
                    if caller is not None and caller.name not in seen and not caller.cached:
                        seen.add(caller.name)
                        following.append((caller.name, chain))
            frontier = following
        return None

    def calls_below(self, name: str, depth: int = 2) -> Iterable[list[Site]]:
        """Chains of calls made by ``name`` outside its own loops, ``depth`` levels
        down: ``[name's call of g]``, ``[name's call of g, g's call of h]``. A cached
        callee ends its chain (its body does not run on every call)."""
        frontier: list[tuple[str, list[Site]]] = [(name, [])]
        seen = {name}
        for _ in range(depth):
            following: list[tuple[str, list[Site]]] = []
            for caller, above in frontier:
                for site in self.callees.get(caller, ()):
                    callee = self.functions[site.target]
                    if site.loop != NOT_IN_LOOP or callee.cached or callee.name in seen:
                        continue
                    seen.add(callee.name)
                    chain = [*above, site]
                    yield chain
                    following.append((callee.name, chain))
            frontier = following


__all__ = ["CallIndex", "Function", "Site", "IN_LOOP", "NOT_IN_LOOP", "PER_ITEM"]
