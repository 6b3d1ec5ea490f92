"""Measure what importing one installed (or stdlib) module loads: its closure,
each module with its self time, from an isolated ``python -I -X importtime``
run, one module per subprocess.

Why one module at a time, and cached per interpreter, module and module
version only: a closure depends on the interpreter and the installed
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
from typing import AbstractSet, Callable, Iterable, Mapping

from advisor.evidence.importtime import parse_importtime, run_isolated

#: Bump when what is stored or how it is measured changes.
CACHE_FORMAT = 1
_START = "@@advisor-closure-start@@"
_END = "@@advisor-closure-end@@"
#: Runs of a closure whose figure decides a finding, by its first total (ms):
#: small closures, where a busy machine's noise matters most against the
#: threshold, are cheap to run again. Every other closure is timed once.
_RUNS_BY_TOTAL = ((1.0, 1), (40.0, 3), (200.0, 2))
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

    def closures(self, modules: Mapping[str, str | None], progress: Callable[[int, int], None] | None = None,
                 precise: AbstractSet[str] = frozenset()) -> tuple[dict[str, Closure], list[Failure]]:
        """``{module: version}`` -> the closures known or measured now, and the
        modules that failed; a module whose version is None (not installed) is
        skipped. ``precise``: modules whose figures decide a finding: timed
        again when small (``_RUNS_BY_TOTAL``); the rest are timed once."""
        wanted = {m: v for m, v in modules.items() if v and measurable(m)}
        todo = sorted(m for m, v in wanted.items() if self._cached(m, v) is None)
        todo += sorted(m for m, v in wanted.items() if m in precise and m not in todo and self._short(m, v))
        if todo:
            self._measure(todo, wanted, progress, precise)
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

    def _measure(self, todo: list[str], versions: Mapping[str, str | None],
                 progress: Callable[[int, int], None] | None, precise: AbstractSet[str]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        done = 0
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            jobs = pool.map(lambda m: self._measure_one(m, versions[m], m in precise), todo)
            for module, entry in zip(todo, jobs):
                entry["version"] = versions[module]
                self._entries[module] = entry
                done += 1
                if progress:
                    progress(done, len(todo))
        self._save()

    def _measure_one(self, module: str, version: str | None, precise: bool) -> dict[str, object]:
        """A new measurement, or more runs for a cached one that ``precise`` wants."""
        earlier = self._cached(module, version)
        first = dict(earlier) if earlier is not None and earlier.get("ok") else self._run(module)
        if not first.get("ok"):
            return first
        times = first["modules"]
        assert isinstance(times, dict)
        done = int(first.get("runs", 1))  # type: ignore[call-overload]
        # Decided once, from the first figures: the fastest of several runs must not ask for more.
        wanted = int(first.get("wanted", _wanted_runs(times))) if precise else 1  # type: ignore[call-overload]
        for _ in range(wanted - done):
            again = self._run(module)
            if again.get("ok") and isinstance(again["modules"], dict):
                # Noise only ever adds time: keep each module's fastest run.
                times = {m: min(us, again["modules"].get(m, us)) for m, us in times.items()}
            done += 1
        first["modules"], first["runs"] = times, done
        if precise:
            first["wanted"] = wanted
        return first

    def _short(self, module: str, version: str | None) -> bool:
        """A cached closure timed fewer times than a precise figure wants."""
        entry = self._cached(module, version) or {}
        times, runs = entry.get("modules"), entry.get("runs", 1)
        if not entry.get("ok") or not isinstance(times, dict) or not isinstance(runs, int):
            return False
        wanted = entry.get("wanted", _wanted_runs(times))
        return isinstance(wanted, int) and runs < wanted

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
            lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("import time:")]
            return {"ok": False, "error": lines[-1][:200] if lines else f"exit {result.returncode}"}
        between = result.stderr.partition(_START)[2].partition(_END)[0]
        times: dict[str, int] = {}
        for record in parse_importtime(between):
            times.setdefault(record.module, record.self_us)
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


def _wanted_runs(times: Mapping[str, int]) -> int:
    total = sum(times.values()) / 1000
    return next((n for limit, n in _RUNS_BY_TOTAL if total <= limit), 1)


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
    """The shape ``_measure_one`` stores."""
    if not isinstance(entry, dict) or not isinstance(entry.get("version"), str) or type(entry.get("ok")) is not bool:
        return False
    if not entry["ok"]:
        return isinstance(entry.get("error", ""), str)
    modules, subs = entry.get("modules"), entry.get("submodules", [])
    if type(entry.get("runs", 1)) is not int or type(entry.get("wanted", 1)) is not int:
        return False
    return (isinstance(modules, dict) and all(isinstance(k, str) and type(v) is int for k, v in modules.items())
            and isinstance(subs, list) and all(isinstance(s, str) for s in subs))


def top_levels(modules: Iterable[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


__all__ = ["Closure", "ClosureStore", "Failure", "NEVER_MEASURED", "interpreter_identity", "measurable", "top_levels"]
