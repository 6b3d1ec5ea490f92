"""lazy-imports' project-wide view, built once per scan from the facts the
rule recorded per file (``project.facts_of("lazy-imports")``): what each
module imports at import time, which names other modules take from it,
which dotted paths tests patch, and what a module's startup path loads.

Read by the rule's ``refine`` (``eager_reason``) and by the fix summary; the startup
path itself is the startup model's (``startup_model.py``). Nothing here parses code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.project import parent_names
from advisor.source import is_test_path

if TYPE_CHECKING:
    from advisor.project import Project

RULE_ID = "lazy-imports"


@dataclass
class ModuleFacts:
    """What one file contributed (see facts.py)."""

    path: str
    module: str
    is_package: bool = False
    eager: list[dict[str, Any]] = field(default_factory=list)
    imported_names: dict[str, list[str]] = field(default_factory=dict)
    attribute_reads: dict[str, list[str]] = field(default_factory=dict)
    patch_targets: list[str] = field(default_factory=list)
    #: Eager statements that only functions or annotations need (they may move).
    deferrable: list[str] = field(default_factory=list)
    stamp: str = ""


def startup_graph(project: "Project") -> "StartupGraph":
    """The project's StartupGraph, built once per project."""
    return project.derived(f"{RULE_ID}/startup-graph", StartupGraph.of)


class StartupGraph:
    """The scanned project's imports, as lazy-imports needs them."""

    @classmethod
    def of(cls, project: "Project") -> "StartupGraph":
        modules = [facts for file, data in project.facts_of(RULE_ID)
                   if (facts := facts_from_result(file.path, data, file.stamp)) is not None]
        return cls(project, modules)

    def __init__(self, project: "Project", modules: list[ModuleFacts]) -> None:
        self.project = project
        self.config = project.config
        self.modules = {m.module: m for m in modules if m.module}
        self.files = modules
        self.source_roots = project.source_roots
        self.progress = project.progress
        #: (module, names) of an eager import -> the project modules it runs.
        self._modules_of: dict[tuple[str, tuple[str, ...]], list[str]] = {}

    # -- names other code takes from a module -------------------------------------

    def is_project_module(self, name: str) -> bool:
        return name in self.modules

    def is_project_package(self, name: str) -> bool:
        """A module of the project, or one of its packages (an empty
        ``__init__.py`` records no facts, but ``pkg`` is still the project's:
        never imported to measure it)."""
        return name in self.modules or name in self._packages

    @cached_property
    def _packages(self) -> frozenset[str]:
        return frozenset(parent for name in self.modules for parent in parent_names(name))

    @cached_property
    def _readers(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """(module, name) -> [(reader module, reader path)]: from-imports and
        attribute reads, indexed once (a refine step asks per finding)."""
        index: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for facts in self.files:
            for table in (facts.imported_names, facts.attribute_reads):
                for module, names in table.items():
                    for name in names:
                        index.setdefault((module, name), []).append((facts.module, facts.path))
        return index

    @cached_property
    def _patched(self) -> dict[str, list[str]]:
        """Every dotted prefix of every patch target -> paths of the files patching it."""
        index: dict[str, list[str]] = {}
        for facts in self.files:
            for target in facts.patch_targets:
                parts = target.split(".")
                for end in range(1, len(parts) + 1):
                    index.setdefault(".".join(parts[:end]), []).append(facts.path)
        return index

    def external_importers(self, module: str, name: str) -> list[str]:
        """Paths of project files that read ``module.name`` (from-import or attribute)."""
        return sorted({path for reader, path in self._readers.get((module, name), ()) if reader != module})

    def patchers(self, module: str, name: str) -> list[str]:
        """Paths of files that patch ``module.name`` or something reached through it."""
        return sorted(set(self._patched.get(f"{module}.{name}", ())))

    @cached_property
    def _kept_eager_by_module(self) -> dict[str, set[str]]:
        """Imported module (and each parent) -> non-test project modules that
        import it at import time and must keep doing so. Built once."""
        index: dict[str, set[str]] = {}
        for facts in self._production_files:
            for target in facts.eager:
                if target["statement"] in facts.deferrable:
                    continue
                module = target["module"]
                for name in (module, *_parents(module)):
                    index.setdefault(name, set()).add(facts.module or facts.path)
        return index

    @cached_property
    def _production_files(self) -> list[ModuleFacts]:
        return [f for f in self.files if not is_test_path(Path(f.path))]

    def common_external_importers(self, module: str, exclude_module: str) -> list[str]:
        """Non-test project modules other than ``exclude_module`` that import the
        external ``module`` (or a submodule of it) at import time."""
        return sorted(m for m in self._kept_eager_by_module.get(module, ()) if m != exclude_module)

    def eager_importers(self, targets: set[str], exclude_module: str) -> list[str]:
        """Non-test project modules other than ``exclude_module`` that import any
        of ``targets`` (project module names) at import time."""
        users: set[str] = set()
        for target in targets:
            users.update(self._kept_eager_project_imports.get(target, ()))
        users.discard(exclude_module)
        return sorted(users)

    @cached_property
    def _kept_eager_project_imports(self) -> dict[str, set[str]]:
        """Project module -> non-test modules that import it by name at import
        time and must keep doing so (parents of the named module excluded)."""
        index: dict[str, set[str]] = {}
        for facts in self._production_files:
            for target in facts.eager:
                if target["statement"] in facts.deferrable:
                    continue
                for named in set(self._project_modules_of(target)) - set(_parents(target["module"])):
                    index.setdefault(named, set()).add(facts.module or facts.path)
        return index

    def deepest_project_modules(self, module: str, names: list[str]) -> set[str]:
        """The project modules a statement names itself (not their parent packages)."""
        named = {f"{module}.{n}" for n in names} | {module}
        return {m for m in named if m in self.modules}

    def _project_modules_of(self, target: dict[str, Any]) -> list[str]:
        """The project modules an eager import runs (memoized: asked per statement, many times)."""
        module = target["module"]
        names = target.get("names", ())
        key = (module, tuple(names))
        found = self._modules_of.get(key)
        if found is None:
            candidates = [module, *_parents(module)] + [f"{module}.{n}" for n in names]
            found = self._modules_of[key] = [c for c in candidates if c in self.modules]
        return found

    def module_of(self, path: str) -> str:
        """The dotted module of a file ("" if the rule recorded no facts for it)."""
        return self._module_by_path.get(path, "")

    @cached_property
    def _module_by_path(self) -> dict[str, str]:
        index: dict[str, str] = {}
        for facts in self.files:
            index.setdefault(facts.path, facts.module)
        return index

def _parents(module: str) -> list[str]:
    """``a.b.c`` -> ``["a", "a.b"]`` (a pure function of the name, so cached across scans)."""
    return list(parent_names(module))


def facts_from_result(path: str, facts: Any, stamp: str) -> ModuleFacts | None:
    """Build ModuleFacts from the ``imports`` entry of the rule's facts for one file."""
    data = facts.get("imports") if isinstance(facts, dict) else None
    if not data:
        return None
    return ModuleFacts(
        path=path,
        module=data.get("module", ""),
        is_package=data.get("is_package", False),
        eager=data.get("eager", []),
        imported_names=data.get("imported_names", {}),
        attribute_reads=data.get("attribute_reads", {}),
        patch_targets=data.get("patch_targets", []),
        deferrable=data.get("deferrable", []),
        stamp=stamp,
    )
