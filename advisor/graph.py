"""Which functions the project's entry points reach: the call graph over the
files' outlines (``advisor.rank.outline``), built in the main process for ranking.

Reachability is a plain walk over dicts; networkx is imported only by
``build_call_graph`` (tests and tools that want the graph itself).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from advisor.rank.outline import MODULE_CODE, FileIndex, FunctionInfo, index_file, index_text
from advisor.source import module_name

if TYPE_CHECKING:
    import networkx as nx


@dataclass
class EntryPoint:
    node: str
    #: How a user starts it: "console script `hotcold`", "`python -m pkg`".
    label: str


class ProjectGraph:
    """The scanned files, indexed on demand, and reachability from the entry points.

    Only files with findings are indexed unless a reachability question is
    asked, and that happens only when the project has an entry point.
    """

    def __init__(self, paths: Iterable[Path], entry_points: list[EntryPoint],
                 outlines: dict[str, FileIndex] | None = None) -> None:
        self.paths = [p for p in paths if p.suffix == ".py"]
        self.entry_points = entry_points
        #: real path -> outline already made by the workers (or the result cache).
        self._outlines = outlines or {}
        self._files: dict[str, FileIndex | None] = {}
        self._reach: dict[str, str] | None = None

    def file(self, path: str | Path) -> FileIndex | None:
        real = os.path.realpath(path)
        if real not in self._files:
            outline = self._outlines.get(real)
            if outline is not None:
                self._files[real] = outline.relabelled(_display(Path(path)))
            else:
                self._files[real] = index_file(Path(real), _display(Path(path))) if os.path.isfile(real) else None
        return self._files[real]

    def release(self) -> None:
        """Drop the parsed trees of the files asked about (their answers stay)."""
        for index in self._files.values():
            if index is not None:
                index.release()

    def reached_by(self, node: str) -> str | None:
        """Label of an entry point that reaches ``node``; None if none does."""
        if self._reach is None:
            self._reach = self._reachability()
        return self._reach.get(node)

    def _reachability(self) -> dict[str, str]:
        """Node -> label of the first entry point (in order) that reaches it, in
        one traversal: a node already labelled has all its callees labelled too
        (by the same or an earlier entry point), so each node is visited once."""
        if not self.entry_points:
            return {}
        indexes = [i for i in (self.file(p) for p in self.paths) if i is not None]
        calls = CallGraph(indexes)
        reach: dict[str, str] = {}
        for entry in self.entry_points:
            if entry.node not in calls.nodes or entry.node in reach:
                continue
            reach[entry.node] = entry.label
            todo = [entry.node]
            while todo:
                for callee in calls.callees(todo.pop()):
                    if callee not in reach:
                        reach[callee] = entry.label
                        todo.append(callee)
        return reach


def build_call_graph(files: Iterable[FileIndex]) -> "nx.DiGraph":
    """Caller -> callee edges between project functions and module code, as networkx."""
    import networkx as nx

    graph = nx.DiGraph()
    edges = call_edges(files)
    graph.add_nodes_from(edges)
    graph.add_edges_from((caller, callee) for caller, callees in edges.items() for callee in callees)
    return graph


def call_edges(files: Iterable[FileIndex]) -> dict[str, set[str]]:
    """Every node (function or module code) -> the nodes it may call."""
    calls = CallGraph(files)
    return {node: calls.callees(node) for node in calls.nodes}


class CallGraph:
    """Caller -> callee edges as plain dicts, each node's callees resolved on
    first ask: a traversal from the entry points resolves only the names read
    by code they reach, and needs no graph library."""

    def __init__(self, files: Iterable[FileIndex]) -> None:
        files = list(files)
        defined: dict[str, str] = {}  # "module.qualname" -> node
        by_leaf: dict[str, list[str]] = {}
        self.nodes: set[str] = set()
        for index in files:
            self.nodes.add(f"{index.module}:{MODULE_CODE}")
            for fn in index.functions:
                self.nodes.add(fn.node)
                defined[f"{index.module}.{fn.qualname}"] = fn.node
                by_leaf.setdefault(fn.qualname.rsplit(".", 1)[-1], []).append(fn.node)
        self._project = _Names(defined, by_leaf, {f.module for f in files if f.module})
        #: node -> (file, caller, names read) of the code behind it (more than one
        #: when two scanned files share a module name).
        self._readers: dict[str, list[tuple[FileIndex, str, set[str]]]] = {}
        for index in files:
            for caller, names in index.mentions.items():
                source = f"{index.module}:{caller}"
                self.nodes.add(source)
                self._readers.setdefault(source, []).append((index, caller, names))
        self._callees: dict[str, set[str]] = {}

    def callees(self, node: str) -> set[str]:
        found = self._callees.get(node)
        if found is None:
            found = self._callees[node] = set()
            for index, caller, names in self._readers.get(node, ()):
                resolver = _Resolver(self._project, index, caller, names)
                for name in names:
                    found.update(resolver.resolve(name))
            found.discard(node)
        return found


class _Names:
    """What the project defines, by scope: ``"pkg.mod.Class."`` -> leaf name ->
    node (the function itself, else the class's ``__init__``), so resolving a
    name is a dict look-up per enclosing scope instead of building strings."""

    def __init__(self, defined: dict[str, str], by_leaf: dict[str, list[str]], modules: set[str]) -> None:
        self.defined, self.by_leaf, self.modules = defined, by_leaf, modules
        self.members: dict[str, dict[str, str]] = {}
        for dotted, node in defined.items():
            owner, _, leaf = dotted.rpartition(".")
            if leaf == "__init__":  # calling a class runs its __init__
                scope, _, name = owner.rpartition(".")
                self.members.setdefault(scope + ".", {})[name] = node
        for dotted, node in defined.items():  # a function of that name wins over a class
            scope, _, leaf = dotted.rpartition(".")
            self.members.setdefault(scope + ".", {})[leaf] = node


class _Resolver:
    """Project nodes a name read by one caller may stand for (generous:
    reachability only). Per caller, so its scopes are spelled out once."""

    def __init__(self, project: _Names, index: FileIndex, caller: str, names: set[str]) -> None:
        self.project, self.index, self.names = project, index, names
        parts = caller.split(".") if caller != MODULE_CODE else []
        # self.x, nested defs: the module, then each enclosing scope, innermost first.
        self.scopes = [f"{index.module}."] + [f"{index.module}.{'.'.join(parts[:i])}." for i in range(len(parts), 0, -1)]
        self.scope_members = [m for m in (project.members.get(scope) for scope in self.scopes) if m]
        self._beside: dict[str, list[str]] = {}

    def resolve(self, name: str) -> list[str]:
        found: list[str] = []
        defined, modules = self.project.defined, self.project.modules
        if name in modules:  # `import pkg.mod` runs the module
            found.append(f"{name}:{MODULE_CODE}")
        target = self.index.aliases.get(name)
        if target:
            found += _lookup(target, defined, modules)
            parent = target.rpartition(".")[0]
            if parent in modules:  # `from pkg.mod import f` runs pkg.mod too
                found.append(f"{parent}:{MODULE_CODE}")
            if target in modules:  # `mod.func()`: the names read next to the module's
                found += self._names_beside(target)
        if "." in name:  # `import a.b` reads "a.b": not a leaf, look it up in full
            for scope in self.scopes:
                found += _lookup(scope + name, defined, _NO_MODULES)
        else:
            for members in self.scope_members:
                node = members.get(name)
                if node:
                    found.append(node)
        by_leaf = self.project.by_leaf.get(name, ())
        if not found and len(by_leaf) == 1:
            found = list(by_leaf)  # `obj.method()`: a method name defined once in the project
        return found

    def _names_beside(self, target: str) -> list[str]:
        if target not in self._beside:
            members = self.project.members.get(target + ".", {})
            self._beside[target] = [
                n for other in self.names
                for n in (_lookup(f"{target}.{other}", self.project.defined, _NO_MODULES) if "." in other
                          else [members[other]] if other in members else [])]
        return self._beside[target]


_NO_MODULES: frozenset[str] = frozenset()


def _lookup(dotted: str, defined: dict[str, str], modules: "set[str] | frozenset[str]") -> list[str]:
    if dotted in defined:
        return [defined[dotted]]
    init = defined.get(f"{dotted}.__init__")
    if init:
        return [init]  # calling a class runs its __init__
    if dotted in modules:
        return [f"{dotted}:{MODULE_CODE}"]  # importing a module runs its top level
    return []


_MAIN_BLOCK = re.compile(rb"^if\s+__name__\s*==\s*['\"]__main__['\"]\s*:", re.MULTILINE)


def entry_points(root: Path | None, paths: Iterable[Path]) -> list[EntryPoint]:
    """Console scripts from pyproject.toml, ``__main__`` modules and files with a
    main block, among ``paths`` (found without parsing anything)."""
    modules = {}
    found = []
    for path in paths:
        module = module_name(path)
        modules[module] = path
        if module == "__main__" or module.endswith(".__main__"):
            package = module.rsplit(".", 1)[0] if "." in module else module
            found.append(EntryPoint(f"{module}:{MODULE_CODE}", f"`python -m {package}`"))
        elif _has_main_block(path):
            found.append(EntryPoint(f"{module}:{MODULE_CODE}", f"`python {_display(path)}`"))
    for name, target in _console_scripts(root):
        module, _, func = target.partition(":")
        if module.strip() in modules:  # scripts outside the scanned files tell nothing
            found.insert(0, EntryPoint(f"{module.strip()}:{func.split('[')[0].strip() or MODULE_CODE}", f"console script `{name}`"))
    return found


def _has_main_block(path: Path) -> bool:
    try:
        return _MAIN_BLOCK.search(path.read_bytes()) is not None
    except OSError:
        return False


def _console_scripts(root: Path | None) -> list[tuple[str, str]]:
    if root is None or not (root / "pyproject.toml").is_file():
        return []
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
    except (OSError, ValueError):
        return []
    project = data.get("project", {})
    scripts = {**project.get("scripts", {}), **project.get("gui-scripts", {})}
    return [(str(k), str(v)) for k, v in scripts.items()]


def build_project_graph(paths: Iterable[Path], root: Path | None, outlines: dict[str, FileIndex] | None = None,
                        entries: list[EntryPoint] | None = None) -> ProjectGraph:
    """A lazy graph of the scanned files and the project's entry points
    (``entries``: ``entry_points(root, paths)`` when the caller already has it,
    which spares reading every file again)."""
    python_files = [p for p in paths if p.suffix == ".py"]
    return ProjectGraph(python_files, entry_points(root, python_files) if entries is None else entries, outlines)


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


__all__ = ["EntryPoint", "ProjectGraph", "CallGraph", "build_call_graph", "build_project_graph", "call_edges", "entry_points"]
