"""Static structure of the project for ranking: where each function starts
and ends, where its loops are, and which functions the entry points reach.

Built with the stdlib ``ast`` (a fraction of libcst's parse time) in the main
process, so ranking works the same for cached and fresh results. networkx
and radon are imported only when a call graph or a complexity is needed.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from advisor.source import SourceError, module_name, read_source

if TYPE_CHECKING:
    import networkx as nx

#: Node name of a module's own top-level code.
MODULE_CODE = "<module>"


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """One ``def`` (or ``async def``) of the project."""

    path: str
    module: str
    #: Dotted within the module: ``Client.fetch``, ``outer.inner``.
    qualname: str
    #: The first decorator's line: what ``co_firstlineno`` reports.
    first_line: int
    def_line: int
    end_line: int

    @property
    def node(self) -> str:
        return f"{self.module}:{self.qualname}"


@dataclass
class FileIndex:
    """Functions and loops of one file, by line."""

    path: str
    module: str
    functions: list[FunctionInfo] = field(default_factory=list)
    #: (first body line, last line, qualname of the function that owns the loop or "").
    loops: list[tuple[int, int, str]] = field(default_factory=list)
    #: Calls and references: caller qualname (or MODULE_CODE) -> names it mentions.
    mentions: dict[str, set[str]] = field(default_factory=dict)
    #: Local alias -> project-wide dotted name, from the file's imports.
    aliases: dict[str, str] = field(default_factory=dict)
    #: The text, kept only when indexed in this process; an outline from the
    #: result cache reads the file again on the rare call that needs it.
    source: str = ""
    _comprehensions: list[tuple[int, int, str]] | None = field(default=None, repr=False)
    #: def line -> radon complexity, computed on first use.
    _complexities: dict[int, int] | None = field(default=None, repr=False)

    def enclosing(self, line: int) -> FunctionInfo | None:
        """The innermost function whose lines (decorators included) hold ``line``."""
        best = None
        for fn in self.functions:
            if fn.first_line <= line <= fn.end_line and (best is None or fn.first_line >= best.first_line):
                best = fn
        return best

    def loop_depth(self, line: int, owner: str) -> int:
        """How many loops (statements and comprehensions) of the same function run the code at ``line``."""
        if self._comprehensions is None:
            self._comprehensions = self._find_comprehensions()
        return sum(1 for start, end, loop_owner in (*self.loops, *self._comprehensions)
                   if loop_owner == owner and start <= line <= end)

    def _find_comprehensions(self) -> list[tuple[int, int, str]]:
        """Walked only for files with findings: expressions are many."""
        found = []
        kinds = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
        for node in ast.walk(ast.parse(self.text())):
            if isinstance(node, kinds):
                fn = self.enclosing(node.lineno)
                found.append((node.lineno, node.end_lineno or node.lineno, fn.qualname if fn else ""))
        return found

    def text(self) -> str:
        if not self.source:
            try:
                self.source = read_source(Path(self.path)).text
            except SourceError:
                return ""
        return self.source

    def outline(self) -> "FileIndex":
        """A copy without the text, for the result cache."""
        return FileIndex(self.path, self.module, self.functions, self.loops, self.mentions, self.aliases)

    def relabelled(self, path: str) -> "FileIndex":
        """The same outline for a file shown under another path (a scan from elsewhere)."""
        if path == self.path:
            return self
        functions = [FunctionInfo(path, f.module, f.qualname, f.first_line, f.def_line, f.end_line) for f in self.functions]
        return FileIndex(path, self.module, functions, self.loops, self.mentions, self.aliases, self.source)

    def function(self, qualname: str) -> FunctionInfo | None:
        return next((fn for fn in self.functions if fn.qualname == qualname), None)

    def complexity(self, fn: FunctionInfo) -> int | None:
        """Radon's cyclomatic complexity of ``fn`` (None if radon cannot tell)."""
        if self._complexities is None:
            self._complexities = _radon_complexities(self.text())
        return self._complexities.get(fn.def_line)


def _radon_complexities(source: str) -> dict[int, int]:
    """def line -> cyclomatic complexity of every function and method."""
    try:
        from radon.complexity import cc_visit

        blocks = cc_visit(source)
    except (ImportError, SyntaxError, ValueError, RecursionError):
        return {}
    found = {}
    todo = list(blocks)
    while todo:
        block = todo.pop()
        todo.extend(getattr(block, "methods", None) or [])
        todo.extend(getattr(block, "closures", None) or [])
        if not hasattr(block, "methods"):  # a function, not a class
            found[int(block.lineno)] = int(block.complexity)
    return found


def index_file(path: Path, display: str | None = None) -> FileIndex | None:
    """Index one file; None when it cannot be read or parsed."""
    try:
        source = read_source(path).text
    except SourceError:
        return None
    return index_text(source, display or str(path), module_name(path))


def index_text(source: str, display: str, module: str, tree: ast.Module | None = None) -> FileIndex | None:
    """Index decoded source (None if Python cannot parse it); ``tree``: its
    ``ast`` tree when the caller already parsed it."""
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    index = FileIndex(display, module, source=source)
    try:
        _index_statements(index, tree.body, "", "")
        _index_mentions(index, tree)
    except RecursionError:
        return None
    return index


def _index_statements(index: FileIndex, body: list[ast.stmt], scope: str, owner: str) -> None:
    """Functions, statement loops and imports: statements only, so
    that indexing a whole project stays cheap (expressions are never walked)."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            qualname = f"{scope}.{node.name}" if scope else node.name
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            index.functions.append(FunctionInfo(index.path, index.module, qualname, first, node.lineno, node.end_lineno or node.lineno))
            if owner:
                index.mentions.setdefault(owner, set()).add(node.name)  # a nested def: assume it runs
            _index_statements(index, node.body, qualname, qualname)
            continue
        if isinstance(node, ast.ClassDef):
            _index_statements(index, node.body, f"{scope}.{node.name}" if scope else node.name, owner)
            continue
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            start = node.lineno if isinstance(node, ast.While) else node.body[0].lineno
            index.loops.append((start, max(s.end_lineno or s.lineno for s in node.body), owner))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                head = alias.name.split(".")[0]
                index.aliases[alias.asname or head] = alias.name if alias.asname else head
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(index.module, node.module or "", node.level, index.path.endswith("__init__.py"))
            for alias in node.names:
                index.aliases[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.excepthandler, ast.match_case)):
                _index_statements(index, child.body, scope, owner)
        for field_name in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(node, field_name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                _index_statements(index, block, scope, owner)


def _index_mentions(index: FileIndex, tree: ast.Module) -> None:
    """Names each function reads (globals and attributes), from its compiled code
    objects: the compiler walks expressions in C, far faster than a visitor."""
    try:
        code = compile(tree, index.path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError):
        return
    starts = {(fn.first_line, fn.qualname.rsplit(".", 1)[-1]): fn.qualname for fn in index.functions}
    todo = [code]
    while todo:
        current = todo.pop()
        todo.extend(c for c in current.co_consts if hasattr(c, "co_names"))
        owner = starts.get((current.co_firstlineno, current.co_name))
        if owner is None and current is not code:
            fn = index.enclosing(current.co_firstlineno)  # a comprehension, lambda or class body
            owner = fn.qualname if fn else None
        names = index.mentions.setdefault(owner or MODULE_CODE, set())
        names.update(current.co_names if owner else _loaded_names(current))


def _loaded_names(code: Any) -> set[str]:
    """Names module or class-body code reads (globals, attributes, imports,
    locals): its stores are the definitions themselves (every ``def`` stores
    its name), which would reach everything. Decoded straight from the
    bytecode: ``dis.get_instructions`` costs more than compiling the file."""
    table = _name_ops()
    names = code.co_names
    raw = code.co_code
    found: set[str] = set()
    extended = 0
    for offset in range(0, len(raw), 2):
        op, arg = raw[offset], raw[offset + 1] | extended
        if op == _EXTENDED_ARG:
            extended = arg << 8
            continue
        extended = 0
        entry = table.get(op)
        if entry is None:
            continue
        if entry[0]:
            found.add(names[arg >> entry[1]])
        else:
            found.add(code._varname_from_oparg(arg))  # what dis itself uses for locals and cells
    return found


_EXTENDED_ARG = 144
_NAME_OPS: dict[int, tuple[bool, int]] = {}


def _name_ops() -> dict[int, tuple[bool, int]]:
    """opcode -> (indexes co_names?, bits to shift the argument) for this Python."""
    if not _NAME_OPS:
        import dis
        import sys

        global _EXTENDED_ARG
        _EXTENDED_ARG = dis.opmap["EXTENDED_ARG"]
        shifts = {"LOAD_GLOBAL": 1, "LOAD_ATTR": 1 if sys.version_info >= (3, 12) else 0, "LOAD_SUPER_ATTR": 2}
        for name, op in dis.opmap.items():
            if name in ("LOAD_NAME", "LOAD_GLOBAL", "LOAD_ATTR", "LOAD_METHOD", "IMPORT_NAME", "IMPORT_FROM",
                        "LOAD_FROM_DICT_OR_GLOBALS", "LOAD_SUPER_ATTR"):
                _NAME_OPS[op] = (True, shifts.get(name, 0))
            elif name in ("LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_AND_CLEAR", "LOAD_DEREF", "LOAD_CLOSURE",
                          "LOAD_CLASSDEREF", "LOAD_FROM_DICT_OR_DEREF"):
                _NAME_OPS[op] = (False, 0)
    return _NAME_OPS


def _absolute(module: str, target: str, level: int, is_package: bool) -> str:
    if not level:
        return target
    parts = module.split(".") if module else []
    keep = len(parts) - level + (1 if is_package else 0)
    base = parts[:max(keep, 0)]
    return ".".join([*base, target] if target else base)


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

    def reached_by(self, node: str) -> str | None:
        """Label of an entry point that reaches ``node``; None if none does."""
        if self._reach is None:
            self._reach = self._reachability()
        return self._reach.get(node)

    def _reachability(self) -> dict[str, str]:
        if not self.entry_points:
            return {}
        indexes = [i for i in (self.file(p) for p in self.paths) if i is not None]
        graph = build_call_graph(indexes)
        reach: dict[str, str] = {}
        import networkx as nx

        for entry in self.entry_points:
            if entry.node not in graph:
                continue
            for node in nx.descendants(graph, entry.node) | {entry.node}:
                reach.setdefault(node, entry.label)
        return reach


def build_call_graph(files: Iterable[FileIndex]) -> "nx.DiGraph":
    """Caller -> callee edges between project functions and module code."""
    import networkx as nx

    files = list(files)
    graph = nx.DiGraph()
    defined: dict[str, str] = {}  # "module.qualname" -> node
    by_leaf: dict[str, list[str]] = {}
    modules = {f.module for f in files if f.module}
    for index in files:
        graph.add_node(f"{index.module}:{MODULE_CODE}")
        for fn in index.functions:
            graph.add_node(fn.node)
            defined[f"{index.module}.{fn.qualname}"] = fn.node
            by_leaf.setdefault(fn.qualname.rsplit(".", 1)[-1], []).append(fn.node)
    for index in files:
        for caller, names in index.mentions.items():
            source = f"{index.module}:{caller}"
            for name in names:
                for target in _resolve(name, index, caller, names, defined, by_leaf, modules):
                    if target != source:
                        graph.add_edge(source, target)
    return graph


def _resolve(name: str, index: FileIndex, caller: str, names: set[str], defined: dict[str, str],
             by_leaf: dict[str, list[str]], modules: set[str]) -> list[str]:
    """Project nodes a name read by ``caller`` may stand for (generous: reachability only)."""
    found: list[str] = []
    if name in modules:  # `import pkg.mod` runs the module
        found.append(f"{name}:{MODULE_CODE}")
    target = index.aliases.get(name)
    if target:
        found += _lookup(target, defined, modules)
        parent = target.rpartition(".")[0]
        if parent in modules:  # `from pkg.mod import f` runs pkg.mod too
            found.append(f"{parent}:{MODULE_CODE}")
        if target in modules:  # `mod.func()`: the names read next to the module's
            found += [n for other in names for n in _lookup(f"{target}.{other}", defined, set())]
    scopes = [f"{index.module}.{name}"]
    parts = caller.split(".") if caller != MODULE_CODE else []
    scopes += [f"{index.module}.{'.'.join(parts[:i])}.{name}" for i in range(len(parts), 0, -1)]  # self.x, nested defs
    for dotted in scopes:
        found += _lookup(dotted, defined, set())
    if not found and len(by_leaf.get(name, ())) == 1:
        found = list(by_leaf[name])  # `obj.method()`: a method name defined once in the project
    return found


def _lookup(dotted: str, defined: dict[str, str], modules: set[str]) -> list[str]:
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


def build_project_graph(paths: Iterable[Path], root: Path | None,
                        outlines: dict[str, FileIndex] | None = None) -> ProjectGraph:
    """A lazy graph of the scanned files and the project's entry points."""
    python_files = [p for p in paths if p.suffix == ".py"]
    return ProjectGraph(python_files, entry_points(root, python_files), outlines)


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


__all__ = ["EntryPoint", "FileIndex", "FunctionInfo", "ProjectGraph", "build_call_graph", "build_project_graph", "index_file", "index_text"]
