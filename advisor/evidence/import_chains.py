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
any ``if``, ``try``, ``with``, loop, function or class, count, and only
modules under site-packages of another top-level package; a source that
cannot be found or parsed gives no anchor, and the chain is the package
prefixes, which is exact.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Iterable, Mapping, Sequence

#: Finds where each top-level package lives, in the measured interpreter
#: (``find_spec`` of a top-level name runs finders only, imports nothing).
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
print(json.dumps(out))
"""

def import_chains(modules: Iterable[str], roots: Mapping[str, tuple[str | None, Sequence[str]]]) -> dict[str, list[str]]:
    """Each module's chain: its package prefixes and itself, after the
    prefixes of its *anchor* when it has one: the deepest installed
    (site-packages) module of another top-level package that it, or one of
    its packages, imports unconditionally at module level, and that is
    measured too. One anchor, not a chain of them: each step is one more
    fork, and a fork costs its child about a millisecond of copied pages
    (``docs/performance.md``), so only a framework's import is worth
    sharing (``django.db.models`` under ``modelcluster.fields``). Within one
    top-level package the chain is its package lines, which is exact.
    ``roots``: the probe's ``{top-level: (origin, search locations)}``."""
    wanted = sorted(set(modules))
    universe = {".".join(m.split(".")[:i]) for m in wanted for i in range(1, m.count(".") + 2)}
    found = {module: locate(module, roots) for module in universe}
    real = {module for module, where in found.items() if where is not None and _installed(where)}
    deps: dict[str, list[str]] = {}
    chains: dict[str, list[str]] = {}
    for module in wanted:
        top = module.split(".")[0]
        anchor: str | None = None
        for prefix in _prefixes(module):  # a package's own imports run before its submodules
            if prefix not in deps:
                where = found.get(prefix)
                deps[prefix] = _top_level_imports(where, prefix) if where is not None and where.suffix == ".py" else []
            for dep in deps[prefix]:
                if dep in real and dep.split(".")[0] != top and (anchor is None or _deeper(dep, anchor)):
                    anchor = dep
        chains[module] = (_prefixes(anchor) if anchor else []) + _prefixes(module)
    return chains


def _deeper(one: str, other: str) -> bool:
    return (one.count("."), one) > (other.count("."), other)


def _installed(where: Path) -> bool:
    """Under site-packages (or Debian's dist-packages): a distribution, not the stdlib."""
    return any(part in ("site-packages", "dist-packages") for part in where.parts)


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


def _prefixes(module: str) -> list[str]:
    return [".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 2)]


def _top_level_imports(source: Path, module: str) -> list[str]:
    """Modules named by the import statements that always run when ``source``
    is imported: ``import a.b`` gives ``a.b``; ``from a import b`` gives
    ``a`` and ``a.b`` (a name that is a submodule is loaded by the import)."""
    try:
        tree = ast.parse(_head(source.read_bytes()), str(source))
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    package = module if source.name == "__init__.py" else module.rpartition(".")[0]
    found: list[str] = []
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            found += [alias.name for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom):
            base = _absolute(statement, package)
            if base:
                found.append(base)
                found += [f"{base}.{alias.name}" for alias in statement.names if alias.name != "*"]
    return found


_BODY = re.compile(rb"^(?:def|class|async def|@)[ \t\\(]", re.MULTILINE)


def _head(source: bytes) -> bytes:
    """The source up to its first top-level ``def``, ``class`` or decorator,
    where a module's imports are (parsing a whole large module would cost
    more than it tells; a later import is only missed, never invented)."""
    first = _BODY.search(source)
    if first is None:
        return source
    head = source[: first.start()]
    try:
        ast.parse(head)
    except (SyntaxError, ValueError):
        return source  # the cut fell inside a string or a bracket
    return head


def _absolute(statement: ast.ImportFrom, package: str) -> str | None:
    if not statement.level:
        return statement.module
    parts = package.split(".") if package else []
    if statement.level - 1 > len(parts) or not parts:
        return None
    base = parts[: len(parts) - (statement.level - 1)]
    return ".".join(base + ([statement.module] if statement.module else [])) or None


__all__ = ["PROBE", "import_chains", "locate"]
