"""Measure what importing one installed (or stdlib) module loads: its closure,
each module with its self time, as an isolated ``python -I -X importtime -c
"import x"`` run shows it. Which modules a closure holds comes from fork
trees (``advisor.evidence.closure_tree``: many closures per interpreter,
each child forked from a state its import passes through); what a tree
cannot tell is measured in a fresh interpreter per module. What each
module costs comes from union runs (``advisor.evidence.self_times``).

Why cached per interpreter, module and module version only: a closure depends on the interpreter and the installed
packages, never on the scanned project, so editing a project file must not
re-measure anything (the startup model joins closures with the project's
own static imports; ``advisor.evidence.startup``). Runs go through
``run_isolated``: no directory of the scanned tree is ever on ``sys.path``.

Besides the closure, each run lists the package's direct submodules, so that
``from pkg import sub`` can be told apart from ``from pkg import name``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

from advisor.evidence.importtime import first_self_us, run_isolated

#: Bump when what is stored or how it is measured changes.
CACHE_FORMAT = 2
_START = "@@advisor-closure-start@@"
_END = "@@advisor-closure-end@@"
_SCRIPT = """\
import sys
sys.stderr.write('\\n{start}\\n'); sys.stderr.flush()
import {module}
sys.stderr.write('\\n{end}\\n'); sys.stderr.flush()
import json, pkgutil
path = getattr(sys.modules[{module!r}], '__path__', None)
print(json.dumps(sorted(m.name for m in pkgutil.iter_modules(path)) if path is not None else []))
"""


#: Modules never imported to measure them, whatever a checkout names: importing
#: them does something beyond loading code (opens a browser, prints, runs a
#: program: any ``__main__`` runs its package's command line, and
#: ``ensurepip.__main__`` would install into the interpreter).
NEVER_MEASURED = frozenset({"antigravity", "this", "__hello__", "__phello__", "idlelib.idle", "turtledemo",
                            "ensurepip", "tkinter", "turtle", "pydoc_data", "lib2to3.__main__"})


def measurable(module: str) -> bool:
    """Whether ``module`` may be imported in a measuring subprocess."""
    parts = module.split(".")
    return "__main__" not in parts and not any(".".join(parts[:i]) in NEVER_MEASURED for i in range(1, len(parts) + 1))


@dataclass(frozen=True)
class Closure:
    """What ``import module`` loads in a fresh interpreter."""

    #: Module -> self time in ms (the module itself included).
    modules: Mapping[str, float]
    #: Direct submodules of the package (empty for a plain module).
    submodules: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Failure:
    """A module that could not be imported on its own, and why (last error line)."""

    module: str
    reason: str


class ClosureStore:
    """Closures of modules in one interpreter, measured on demand, cached on disk."""

    def __init__(self, python: str, cache_file: Path | None, timeout: float = 60.0, jobs: int | None = None) -> None:
        self.python = python
        self.cache_file = cache_file
        self.timeout = timeout
        self.jobs = jobs or min(4, os.cpu_count() or 1)
        self.identity = interpreter_identity(python)
        self._entries: dict[str, dict[str, object]] = self._load()
        #: Subprocesses run by this store (benchmarks and tests count them).
        self.runs = 0
        #: The 1-minute load average while this store measured, when it was
        #: over twice the cores: figures taken then may be high.
        self.busy: float | None = None
        #: Where each top-level package lives in this interpreter (a probe's answer).
        self._roots: dict[str, tuple[str | None, list[str]]] = {}
        self._path: list[str] = []

    def closures(self, modules: Mapping[str, str | None], progress: Callable[[int, int], None] | None = None,
                 optional: Mapping[str, str | None] | None = None) -> tuple[dict[str, Closure], list[Failure]]:
        """``{module: version}`` -> the closures known or measured now, and the
        modules that failed; a module whose version is None (not installed) is
        skipped. ``optional``: ``pkg.name`` of ``from pkg import name``,
        measured (and returned) only if ``pkg`` lists ``name`` as a submodule."""
        wanted: dict[str, str | None] = {m: v for m, v in modules.items() if v and measurable(m)}
        maybe = self._submodules_to_ask(optional or {}, wanted)
        todo = sorted(m for m, v in wanted.items() if self._cached(m, v) is None)
        if todo:
            self._measure(todo, {**wanted, **maybe}, progress, maybe)
        wanted.update((m, v) for m, v in maybe.items() if self._cached(m, v) is not None)
        found: dict[str, Closure] = {}
        failed: list[Failure] = []
        for module, version in sorted(wanted.items()):
            entry = self._cached(module, version)
            if entry is None:
                continue
            if entry.get("ok"):
                times = entry["modules"]
                assert isinstance(times, dict)
                subs = entry.get("submodules", [])
                found[module] = Closure({m: us / 1000 for m, us in times.items()},
                                        frozenset(subs) if isinstance(subs, list) else frozenset())
            else:
                failed.append(Failure(module, str(entry.get("error", ""))))
        return found, failed

    def _submodules_to_ask(self, optional: Mapping[str, str | None], wanted: dict[str, str | None]) -> dict[str, str | None]:
        """Optional names whose package's cached listing decides them join
        ``wanted`` (or are dropped); the rest are asked of a fork tree."""
        maybe: dict[str, str | None] = {}
        for module, version in optional.items():
            package, _, name = module.rpartition(".")
            if not version or module in wanted or not package or not measurable(module):
                continue
            entry = self._cached(package, wanted.get(package, version))
            if entry is None:
                maybe[module] = version
            elif entry.get("ok") and name in (entry.get("submodules") or ()):  # type: ignore[operator]
                wanted[module] = version
        return maybe

    def _measure(self, todo: list[str], versions: Mapping[str, str | None],
                 progress: Callable[[int, int], None] | None, maybe: Mapping[str, str | None]) -> None:
        """Which modules each closure holds (fork trees, or one fresh
        interpreter per module), then what each module costs (union runs)."""
        from advisor.evidence.self_times import RUNS, self_times

        done = 0

        def counted(count: int) -> None:
            nonlocal done
            done += count
            if progress:
                progress(min(done, len(todo)), len(todo))

        load = _load()
        entries = self._first_runs(todo, counted, sorted(maybe))
        measured = sorted(m for m, e in entries.items() if e.get("ok"))
        times, runs = self_times(self.python, measured, self.timeout, RUNS, self.jobs)
        load = max(load, _load())
        if load > 2 * (os.cpu_count() or 1):
            self.busy = load
        self.runs += RUNS if measured else 0
        for module, entry in entries.items():
            closure = entry.get("modules")
            if isinstance(closure, dict) and runs:
                entry["modules"] = {m: times.get(m, us) for m, us in closure.items()}
                entry["runs"] = runs
            entry["version"] = versions[module]
            self._entries[module] = entry
        counted(len(todo))
        self._save()

    def _first_runs(self, modules: list[str], counted: Callable[[int], None],
                    maybe: list[str]) -> dict[str, dict[str, object]]:
        """A fork tree per slice of ``modules`` (sorted, so siblings share a
        slice and its package imports), one slice per job; whatever a tree
        could not tell is measured alone, one fresh interpreter each. Optional
        submodules (``maybe``) are asked of the tree that imports their package."""
        from concurrent.futures import ThreadPoolExecutor

        from advisor.evidence.closure_tree import can_fork, tree_nodes

        entries: dict[str, dict[str, object]] = {}
        alone = list(modules)
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            if can_fork() and modules:
                parts = _slices(modules, self.jobs)
                nodes = [set(tree_nodes(part)) for part in parts]
                asked = [[m for m in maybe if m.rpartition(".")[0] in part] for part in nodes]
                chains = [self._chains(modules)] * len(parts)
                for found in pool.map(self._run_tree, parts, asked, chains):
                    entries.update(found)
                    counted(len([m for m in found if m in modules]))
                alone = [m for m in modules if m not in entries]
            for module, entry in zip(alone, pool.map(self._run, alone)):
                entries[module] = entry
                counted(1)
        return entries

    def _chains(self, modules: list[str]) -> dict[str, list[str]]:
        """What each module's import is sure to load first, from the
        installed sources (one probe run finds the top-level packages)."""
        from advisor.evidence.closure_tree import tree_nodes
        from advisor.evidence.import_chains import PROBE, import_chains
        from advisor.evidence.importtime import run_isolated

        if len(modules) < 2:
            return {}  # one module's chain is its package prefixes
        tops = sorted({m.split(".")[0] for m in modules} - set(self._roots))
        if tops:
            self.runs += 1
            try:
                probe = run_isolated([self.python, "-c", PROBE, *tops], self.timeout)
                found = json.loads(probe.stdout.strip().splitlines()[-1]) if probe.returncode == 0 else {}
            except (OSError, subprocess.SubprocessError, ValueError, IndexError):
                found = {}
            roots = found.get("roots") if isinstance(found, dict) else None
            path = found.get("path") if isinstance(found, dict) else None
            self._path = [p for p in path if isinstance(p, str)] if isinstance(path, list) else self._path
            self._roots.update(
                (name, (where[0] if isinstance(where[0], str) else None, [str(p) for p in where[1]]))
                for name, where in (roots.items() if isinstance(roots, dict) else ())
                if isinstance(where, list) and len(where) == 2 and isinstance(where[1], list))
        return import_chains(tree_nodes(modules), self._roots, self._path)

    def _run_tree(self, modules: list[str], maybe: list[str] | None = None,
                  chains: Mapping[str, list[str]] | None = None) -> dict[str, dict[str, object]]:
        """Entries for ``modules`` (and the ``maybe`` that are submodules)
        from one fork-tree run (missing: measure alone)."""
        from advisor.evidence.closure_tree import measure_tree

        self.runs += 1
        wanted = {*modules, *(maybe or ())}
        entries: dict[str, dict[str, object]] = {}
        found = measure_tree(self.python, modules, self.timeout, maybe or (), chains)
        for module, result in found.items():
            if module not in wanted or result.absent:
                continue
            if result.ok:
                entries[module] = {"ok": True, "modules": dict(result.modules), "submodules": list(result.submodules)}
            else:
                entries[module] = {"ok": False, "error": result.error or "import failed"}
        return entries

    def _run(self, module: str) -> dict[str, object]:
        code = _SCRIPT.format(start=_START, end=_END, module=module)
        self.runs += 1
        try:
            result = run_isolated([self.python, "-X", "importtime", "-c", code], self.timeout)
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": f"timed out after {self.timeout:.0f} s"}
        except (OSError, subprocess.SubprocessError) as exc:
            return {"ok": False, "error": f"cannot run {self.python}: {exc}"}
        if result.returncode != 0:
            lines = [line for line in result.stderr.splitlines()
                     if line.strip() and not line.startswith("import time:") and line not in (_START, _END)]
            return {"ok": False, "error": lines[-1][:200] if lines else f"exit {result.returncode}"}
        times = first_self_us(result.stderr.partition(_START)[2].partition(_END)[0])
        try:
            subs = json.loads(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            subs = []
        return {"ok": True, "modules": times, "submodules": [s for s in subs if isinstance(s, str)]}

    def _cached(self, module: str, version: str | None) -> dict[str, object] | None:
        entry = self._entries.get(module)
        return entry if entry is not None and entry.get("version") == version else None

    def _load(self) -> dict[str, dict[str, object]]:
        if self.cache_file is None:
            return {}
        from advisor.cache_files import damaged, read_document

        document = read_document(self.cache_file, "closures", CACHE_FORMAT)
        if document is None:
            return {}
        interpreters = document.get("interpreters")
        entries = interpreters.get(self.identity) if isinstance(interpreters, dict) else None
        if not isinstance(entries, dict):
            return {}
        valid = {k: v for k, v in entries.items() if _valid(v)}
        if len(valid) != len(entries):
            damaged(self.cache_file, f"{len(entries) - len(valid)} malformed closures")
        return valid

    def _save(self) -> None:
        if self.cache_file is None:
            return
        from advisor.cache_files import read_document, write_document

        document = read_document(self.cache_file, "closures", CACHE_FORMAT) if self.cache_file.exists() else None
        interpreters = document.get("interpreters") if document else None
        if not isinstance(interpreters, dict):
            interpreters = {}
        interpreters[self.identity] = self._entries
        write_document(self.cache_file, "closures", CACHE_FORMAT, {"interpreters": interpreters})


def _load() -> float:
    """The 1-minute load average (0 where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def _slices(modules: list[str], count: int) -> list[list[str]]:
    """``count`` contiguous slices of the sorted modules, as even as can be."""
    ordered = sorted(modules)
    size = -(-len(ordered) // max(1, count))
    return [ordered[i:i + size] for i in range(0, len(ordered), size)] if ordered else []


def interpreter_identity(python: str) -> str:
    """Which interpreter: the directory it is called from (a virtualenv's
    ``bin``), its real path, size and mtime (a rebuilt or upgraded Python is
    another one). The installed packages are keyed per module by the version
    of the distribution that provides it."""
    real = os.path.realpath(python)
    python = os.path.dirname(os.path.abspath(python))
    try:
        status = os.stat(real)
        stamp = f"{status.st_size}-{status.st_mtime_ns}"
    except OSError:
        stamp = "missing"
    return hashlib.sha256(f"{python}\0{real}\0{stamp}".encode("utf-8", "surrogatepass")).hexdigest()[:20]


def _valid(entry: object) -> bool:
    """The shape ``_measure`` stores."""
    if not isinstance(entry, dict) or not isinstance(entry.get("version"), str) or type(entry.get("ok")) is not bool:
        return False
    if not entry["ok"]:
        return isinstance(entry.get("error", ""), str)
    modules, subs = entry.get("modules"), entry.get("submodules", [])
    if type(entry.get("runs", 1)) is not int:
        return False
    return (isinstance(modules, dict) and all(isinstance(k, str) and type(v) is int for k, v in modules.items())
            and isinstance(subs, list) and all(isinstance(s, str) for s in subs))


def top_levels(modules: Iterable[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


__all__ = ["Closure", "ClosureStore", "Failure", "NEVER_MEASURED", "interpreter_identity", "measurable", "top_levels"]
