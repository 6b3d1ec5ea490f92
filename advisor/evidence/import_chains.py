"""Which installed module a module's import is sure to load first, read from
the installed sources: where a fork tree forks its measurement from.

Why: a fork tree along package lines measures ``modelcluster.fields`` and
``taggit.managers`` from a fresh interpreter each, so each imports Django's
``django.db.models`` again. Both sources import it unconditionally at module
level (``from django.db import models``), so it is in both closures: a child
forked from the tree's ``django.db.models`` node is a state both imports
pass through. The measured closure is the union of the logs along the path.

This holds when a module's imports do not depend on what was imported
before it, the same assumption as timing a closure outside its program
(``benchmarks/closure_tree_check.py`` compares the sets with one fresh
interpreter per module). Only statements at a module's top level, outside
any ``if``, ``try``, ``with``, loop, function or class, count (followed
through the installed and stdlib sources the measured interpreter would
load); a source that cannot be found or parsed gives no anchor, and the
chain is the package prefixes, which is exact.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from advisor.engine.module_imports import resolve_from
from advisor.evidence.startup import package_prefixes

#: Finds where each top-level package lives, in the measured interpreter
#: (``find_spec`` of a top-level name runs finders only, imports nothing),
#: and its ``sys.path``, where other top-level modules are looked up.
PROBE = r"""
import sys, json, importlib.util
out = {}
for name in sys.argv[1:]:
    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        spec = None
    if spec is not None:
        out[name] = [spec.origin if spec.has_location else None, list(spec.submodule_search_locations or [])]
print(json.dumps({"roots": out, "path": [p for p in sys.path if isinstance(p, str)]}))
"""

#: Files read to follow imports, at most (a bound on a first scan's cost).
_MAX_FILES = 2000
#: An anchor must load at least this many modules to be worth a fork.
_MIN_REACH = 8


def import_chains(modules: Iterable[str], roots: Mapping[str, tuple[str | None, Sequence[str]]],
                  path: Sequence[str] = ()) -> dict[str, list[str]]:
    """Each module's chain: its package prefixes and itself, after the chain
    of its *anchor* when it has one: of the measured modules its import is
    sure to load (unconditional top-level imports, followed through the
    installed sources), the one that loads the most, when that is at least
    ``_MIN_REACH`` modules. Each step is one more fork and wait, so only a
    big import is worth sharing: ``django.db.models`` under ``modelcluster.fields`` and under
    ``django.contrib.admin``. ``roots``: the probe's ``{top-level: (origin,
    search locations)}`` and ``path``, its ``sys.path``."""
    wanted = sorted(set(modules))
    universe = {prefix for module in wanted for prefix in package_prefixes(module)}
    graph = _Graph(roots, path)
    chains: dict[str, list[str]] = {}

    def chain(module: str, depth: int) -> list[str]:
        if module in chains:
            return chains[module]
        reach = graph.reach(module)
        inside = set(package_prefixes(module))
        candidates = [d for d in reach & universe if d not in inside and not d.startswith(module + ".")
                      and module not in graph.reach(d) and len(graph.reach(d)) >= _MIN_REACH]
        anchor = max(candidates, key=lambda d: (len(graph.reach(d)), d), default=None)
        before = chain(anchor, depth + 1) if anchor is not None and depth < 8 else []
        chains[module] = before + [p for p in package_prefixes(module) if p not in before]
        return chains[module]

    return {m: chain(m, 0) for m in wanted}


class _Graph:
    """Unconditional module-level imports between installed and stdlib
    modules, read from their sources on demand."""

    def __init__(self, roots: Mapping[str, tuple[str | None, Sequence[str]]], path: Sequence[str]) -> None:
        self.roots = dict(roots)
        self.path = [entry for entry in path if entry and os.path.isdir(entry)]
        self.read = 0
        self._deps: dict[str, list[str]] = {}
        self._reach: dict[str, frozenset[str]] = {}
        self._located: dict[str, Path | None] = {}

    def where(self, module: str) -> Path | None:
        if module not in self._located:
            top = module.partition(".")[0]
            if top not in self.roots:
                self.roots[top] = _find_top(top, self.path)
            self._located[module] = locate(module, self.roots)
        return self._located[module]

    def deps(self, module: str) -> list[str]:
        """What ``module``'s own source always imports (modules that exist)."""
        if module not in self._deps:
            where = self.where(module)
            found: list[str] = []
            if where is not None and where.suffix == ".py" and self.read < _MAX_FILES:
                self.read += 1
                found = [d for d in _top_level_imports(where, module) if d != module and self.where(d) is not None]
            self._deps[module] = found
        return self._deps[module]

    def reach(self, module: str) -> frozenset[str]:
        """Every module ``import module`` is sure to load (itself included);
        a cycle is cut where it closes, which can only leave modules out."""
        if module in self._reach:
            return self._reach[module]
        seen = {module}
        stack = [module]
        while stack:
            current = stack.pop()
            for step in [*package_prefixes(current)[:-1], *self.deps(current)]:
                if step not in seen:
                    known = self._reach.get(step)
                    seen.update(known if known is not None else (step,))
                    if known is None:
                        stack.append(step)
        self._reach[module] = frozenset(seen)
        return self._reach[module]


def locate(module: str, roots: Mapping[str, tuple[str | None, Sequence[str]]]) -> Path | None:
    """Where ``module`` lives: its ``.py`` source, or (a namespace package,
    an extension, a built-in) some other path; ``None`` when it is not a
    module under its top-level package's locations (a class name, say)."""
    top, _, rest = module.partition(".")
    if top not in roots:
        return None
    origin, locations = roots[top]
    if not rest:
        return Path(origin or locations[0] if origin or locations else top)
    parts = rest.split(".")
    for location in locations:
        base = Path(location, *parts[:-1])
        for candidate in (base / parts[-1] / "__init__.py", base / f"{parts[-1]}.py"):
            if candidate.is_file():
                return candidate
        if (base / parts[-1]).is_dir():
            return base / parts[-1]
        extension = next((c for c in base.glob(f"{parts[-1]}.*") if c.suffix in (".so", ".pyd", ".pyc")), None)
        if extension is not None:
            return extension
    return None


def _find_top(name: str, path: Sequence[str]) -> tuple[str | None, Sequence[str]]:
    """Where a top-level module is on ``sys.path``, as a file finder looks:
    a package directory, a ``.py`` file, an extension (nothing found: not
    followed)."""
    for entry in path:
        package = Path(entry, name)
        if (package / "__init__.py").is_file():
            return str(package / "__init__.py"), [str(package)]
        if Path(entry, f"{name}.py").is_file():
            return str(Path(entry, f"{name}.py")), []
        if package.is_dir() or any(Path(entry).glob(f"{name}.*.so")):
            return None, []
    return None, []


def _top_level_imports(source: Path, module: str) -> list[str]:
    """Modules named by the import statements that always run when ``source``
    is imported: ``import a.b`` gives ``a.b``; ``from a import b`` gives
    ``a`` and ``a.b`` (a name that is a submodule is loaded by the import)."""
    try:
        tree = _parse_head(source.read_bytes(), str(source))
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    package = module if source.name == "__init__.py" else module.rpartition(".")[0]
    found: list[str] = []
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            found += [alias.name for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom):
            base = resolve_from(statement.module or "", statement.level, package)
            if base:
                found.append(base)
                found += [f"{base}.{alias.name}" for alias in statement.names if alias.name != "*"]
    return found


_BODY = re.compile(rb"^(?:def|class|async def|@)[ \t\\(]", re.MULTILINE)


def _parse_head(source: bytes, filename: str) -> ast.Module:
    """The tree of the source up to its first top-level ``def``, ``class``
    or decorator, where a module's imports are (parsing a whole large module
    would cost more than it tells; a later import is only missed, never
    invented); the whole source when the cut falls inside a string or a
    bracket."""
    first = _BODY.search(source)
    if first is not None:
        try:
            return ast.parse(source[: first.start()], filename)
        except (SyntaxError, ValueError):
            pass
    return ast.parse(source, filename)


__all__ = ["PROBE", "import_chains", "locate"]
