"""The generic project model: what every file contributed, merged once in the
main process, for every rule's project-wide step (``Rule.refine``).

Per-file facts are kept per rule id, so a plugin rule's facts arrive as
surely as a built-in's. The import graph (which project modules each module
imports at import time) and the call graph are built once, on first use, and
offered to every rule; a rule's own project-wide structures are built once
through ``derived``. Nothing here parses code or names a rule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar

if TYPE_CHECKING:
    from advisor.config import Config
    from advisor.rank.callgraph import CallGraph
    from advisor.rank.outline import FileIndex

T = TypeVar("T")


@dataclass(frozen=True)
class ProjectFile:
    """One analysed file, as the project-wide step sees it."""

    path: str
    #: Dotted module name ("pkg.cli"), "" when the file is not importable.
    module: str
    #: Size and mtime: changes whenever the file does.
    stamp: str = ""
    #: Rule id -> the facts that rule recorded for this file (plain data).
    facts: Mapping[str, Any] = field(default_factory=dict)
    #: Modules this file imports when it is imported (absolute names, in order).
    imports: tuple[str, ...] = ()
    #: Functions, loops and names read (advisor.rank.outline), when the workers made one.
    outline: FileIndex | None = None


class Project:
    """The scanned project: its files, their facts per rule, its graphs."""

    def __init__(self, config: "Config", files: list[ProjectFile], source_roots: list[Path],
                 progress: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.files = files
        self.source_roots = source_roots
        self.progress = progress
        self._by_module = {f.module: f for f in files if f.module}
        self._by_path = {f.path: f for f in files}
        self._derived: dict[str, Any] = {}
        #: What the user should know about how refine got its figures (shown with the report).
        self.notices: list[str] = []
        #: Figures a rule's refine hands to the report's summary (plain JSON data, by name;
        #: lazy-imports: "startup"); renderers read them from ``ScanReport.summary``.
        self.summary: dict[str, Any] = {}

    # -- files and modules ---------------------------------------------------------

    def facts_of(self, rule_id: str) -> list[tuple[ProjectFile, Any]]:
        """(file, facts) for every file where rule ``rule_id`` recorded facts."""
        return [(f, f.facts[rule_id]) for f in self.files if rule_id in f.facts]

    def is_project_module(self, name: str) -> bool:
        return name in self._by_module

    def module_of(self, path: str) -> str:
        """The dotted module of a file as the scan displayed it ("" if unknown)."""
        found = self._by_path.get(path)
        return found.module if found is not None else ""

    def file_of(self, module: str) -> ProjectFile | None:
        return self._by_module.get(module)

    @property
    def modules(self) -> Mapping[str, ProjectFile]:
        return self._by_module

    # -- graphs, built once -------------------------------------------------------

    @cached_property
    def import_graph(self) -> dict[str, tuple[str, ...]]:
        """Project module -> the project modules it loads when imported: those it
        names (and their parent packages), in order. External imports are left
        out; ``ProjectFile.imports`` keeps every name."""
        graph: dict[str, tuple[str, ...]] = {}
        for module, file in self._by_module.items():
            loaded: dict[str, None] = {}
            for name in file.imports:
                for candidate in (*parent_names(name), name):
                    if candidate in self._by_module and candidate != module:
                        loaded[candidate] = None
            graph[module] = tuple(loaded)
        return graph

    def call_graph(self) -> "CallGraph | None":
        """Calls between the project's functions, from the outlines the workers
        made (only when the project has an entry point); None without them."""
        return self.derived("advisor/call-graph", _build_call_graph)

    def derived(self, key: str, build: Callable[["Project"], T]) -> T:
        """``build(self)``, computed once per project under ``key`` (name it after
        your rule: ``"my-rule/index"``), for structures a rule's refine asks
        about finding after finding."""
        if key not in self._derived:
            self._derived[key] = build(self)
        return self._derived[key]  # type: ignore[no-any-return]

    def project_stamp(self, top_level: str) -> str:
        """Changes whenever a file of the project package ``top_level`` changes."""
        digest = hashlib.sha256()
        for file in sorted(self.files, key=lambda f: f.path):
            if file.module == top_level or file.module.startswith(top_level + "."):
                digest.update(f"{file.path}\0{file.stamp}\0".encode())
        return "project-" + digest.hexdigest()[:16]


def _build_call_graph(project: Project) -> "CallGraph | None":
    outlines: list[FileIndex] = [f.outline for f in project.files if f.outline is not None]
    if not outlines:
        return None
    from advisor.rank.callgraph import CallGraph

    return CallGraph(outlines)


@lru_cache(maxsize=4096)
def parent_names(module: str) -> tuple[str, ...]:
    """``a.b.c`` -> ``("a", "a.b")`` (a pure function of the name, so cached across scans)."""
    parts = module.split(".")
    return tuple(".".join(parts[:i]) for i in range(1, len(parts)))
