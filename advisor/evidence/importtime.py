"""Parse ``python -X importtime`` logs and measure import statements in the
scanned project's own interpreter, once per statement and module version.

Why per statement, in a fresh interpreter: ``-X importtime`` lists each module
the first time it loads, with its own (self) time. The modules a statement
newly loads after another set of imports is then a set difference, so the
saving of deferring one import on a given startup path is the sum of self
times of the modules only it brings in.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")
_MARK = "@@advisor-importtime-mark@@"
#: Bump when the cache layout or the measuring method changes.
CACHE_FORMAT = 2


@dataclass(frozen=True)
class ImportRecord:
    """One line of an importtime log."""

    module: str
    self_us: int
    cumulative_us: int
    depth: int


def parse_importtime(text: str) -> list[ImportRecord]:
    """Every ``import time:`` line of a log, in order (other lines ignored)."""
    records = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            indent = len(match.group(3)) - 1
            records.append(ImportRecord(match.group(4), int(match.group(1)), int(match.group(2)), max(indent, 0) // 2))
    return records


def records_after_mark(stderr: str) -> list[ImportRecord]:
    """Records logged after the marker line (what the measured code loaded)."""
    _, found, after = stderr.partition(_MARK)
    return parse_importtime(after if found else stderr)


_PROBE = r"""
import importlib.util, json, os, sys, sysconfig
try:
    from importlib.metadata import packages_distributions, version
    dists = packages_distributions()
except Exception:
    dists = {}
stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
out = {}
for name in sys.argv[1:]:
    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        spec = None
    if spec is None:
        out[name] = None
        continue
    origin = spec.origin or ""
    if name in sys.builtin_module_names or origin in ("built-in", "frozen") or os.path.realpath(origin).startswith(stdlib + os.sep) and "site-packages" not in origin:
        out[name] = "stdlib-" + sys.version.split()[0]
        continue
    for dist in dists.get(name, []):
        try:
            out[name] = "dist-%s-%s" % (dist, version(dist))
            break
        except Exception:
            pass
    else:
        try:
            st = os.stat(origin)
            out[name] = "file-%s-%d-%d" % (origin, st.st_mtime_ns, st.st_size)
        except OSError:
            out[name] = "unknown"
paths = {}
for entry in sys.path:
    try:
        paths[entry] = os.stat(entry or ".").st_mtime_ns
    except OSError:
        pass
print(json.dumps({"python": sys.version, "executable": sys.executable, "versions": out, "paths": paths}))
"""


class ImportTimer:
    """Measures import statements in one interpreter, with an on-disk cache."""

    def __init__(
        self,
        python: str,
        cwd: Path,
        pythonpath: Iterable[Path] = (),
        cache_file: Path | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.python = python
        self.cwd = cwd
        self.pythonpath = [str(p) for p in pythonpath]
        self.cache_file = cache_file
        self.timeout = timeout
        self._cache: dict[str, dict[str, object]] = self._load_cache()
        self._versions: dict[str, str | None] = {}
        self.available = True
        self.problem = ""

    # -- public ------------------------------------------------------------------

    def versions(self, top_levels: Iterable[str], extra_key: Callable[[str], str | None] | None = None) -> dict[str, str | None]:
        """Version key of each top-level module (None: not importable here)."""
        top_levels = list(top_levels)
        self._versions.update(self._cached_versions(top_levels))
        wanted = sorted({t for t in top_levels if t not in self._versions})
        if wanted:
            try:
                result = self._run([self.python, "-c", _PROBE, *wanted])
                data = json.loads(result.stdout)
                self._versions.update(data["versions"])
                self._remember_versions(data["versions"], data.get("paths", {}))
            except (OSError, ValueError, KeyError, subprocess.SubprocessError) as exc:
                self.available = False
                self.problem = f"cannot run {self.python}: {exc}"
                return {t: None for t in top_levels}
        return {t: self._versions.get(t) for t in top_levels}

    def measure(self, statements: Iterable[tuple[str, str]], progress: Callable[[int, int], None] | None = None,
                warm_up: Callable[[str], bool] = lambda statement: False) -> None:
        """Measure (statement, version) pairs missing from the cache.

        ``warm_up(statement)`` says whether to import once unmeasured first, so
        that the project's own modules are timed with their bytecode cached,
        as every run after the first sees them, not while being compiled.
        """
        todo = [(s, v) for s, v in statements if self._cached(s, v) is None]
        for index, (statement, version) in enumerate(todo):
            if warm_up(statement):
                self._measure_once(statement)
            modules = self._measure_once(statement)
            if modules is not None and _near_threshold(modules):
                # Could be a cheap import slowed by a busy machine: two more runs,
                # keep each module's fastest time (noise only ever adds time).
                runs = [modules, self._measure_once(statement) or modules, self._measure_once(statement) or modules]
                modules = {m: min(r.get(m, modules[m]) for r in runs) for m in modules}
            self._cache[statement] = {"version": version, "modules": modules, "ok": modules is not None}
            if progress:
                progress(index + 1, len(todo))
        if todo:
            self._save_cache()

    def closure(self, statement: str, version: str) -> dict[str, int] | None:
        """Modules the statement loads in a fresh interpreter -> self time (us)."""
        entry = self._cached(statement, version)
        if entry is None or not entry.get("ok"):
            return None
        modules = entry.get("modules")
        return dict(modules) if isinstance(modules, dict) else None

    # -- internals ---------------------------------------------------------------

    def _cached_versions(self, top_levels: list[str]) -> dict[str, str | None]:
        """Versions from an earlier probe, if no sys.path directory changed since.

        Installing, upgrading or removing a package changes its directory's
        mtime, so an unchanged set of mtimes means unchanged versions; this
        saves a subprocess on every warm scan.
        """
        probe = self._cache.get("__probe__")
        if not isinstance(probe, dict):
            return {}
        paths, known = probe.get("paths", {}), probe.get("versions", {})
        if not isinstance(paths, dict) or not isinstance(known, dict):
            return {}
        for entry, mtime in paths.items():
            try:
                if os.stat(os.path.join(str(self.cwd), entry) if entry else str(self.cwd)).st_mtime_ns != mtime:
                    return {}
            except OSError:
                return {}
        return {t: known[t] for t in top_levels if t in known}

    def _remember_versions(self, versions: dict[str, str | None], paths: dict[str, int]) -> None:
        probe = self._cache.get("__probe__")
        earlier = probe.get("versions", {}) if isinstance(probe, dict) and probe.get("paths") == paths else {}
        known: dict[str, str | None] = dict(earlier) if isinstance(earlier, dict) else {}
        known.update(versions)
        self._cache["__probe__"] = {"versions": known, "paths": paths}
        self._save_cache()

    def _cached(self, statement: str, version: str) -> dict[str, object] | None:
        entry = self._cache.get(statement)
        return entry if entry is not None and entry.get("version") == version else None

    def _measure_once(self, statement: str) -> dict[str, int] | None:
        code = f"import sys; sys.stderr.write('\\n{_MARK}\\n'); sys.stderr.flush()\n{statement}\n"
        try:
            result = self._run([self.python, "-X", "importtime", "-c", code])
        except (OSError, subprocess.SubprocessError):
            return None
        if result.returncode != 0:
            return None
        modules: dict[str, int] = {}
        for record in records_after_mark(result.stderr):
            modules.setdefault(record.module, record.self_us)
        return modules

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        env.pop("PYTHONSTARTUP", None)
        if self.pythonpath:
            env["PYTHONPATH"] = os.pathsep.join(self.pythonpath + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        return subprocess.run(
            argv, cwd=self.cwd, env=env, capture_output=True, text=True,
            timeout=self.timeout, stdin=subprocess.DEVNULL, errors="replace",
        )

    def _load_cache(self) -> dict[str, dict[str, object]]:
        if self.cache_file is None or not self.cache_file.is_file():
            return {}
        try:
            data = json.loads(self.cache_file.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        if data.get("format") != CACHE_FORMAT or data.get("python") != self.python:
            return {}
        entries = data.get("entries", {})
        return entries if isinstance(entries, dict) else {}

    def _save_cache(self) -> None:
        if self.cache_file is None:
            return
        from advisor.atomic import atomic_write_text

        payload = {"format": CACHE_FORMAT, "python": self.python, "entries": self._cache}
        try:
            atomic_write_text(self.cache_file, json.dumps(payload, sort_keys=True))
        except OSError:
            pass  # a cache that cannot be written only costs time


def _near_threshold(modules: dict[str, int]) -> bool:
    total_ms = sum(modules.values()) / 1000
    return 1.0 <= total_ms <= 60.0


def incremental_us(candidate: dict[str, int], already_loaded: Iterable[str]) -> int:
    """Self time of the modules the candidate loads that are not loaded already."""
    loaded = set(already_loaded)
    return sum(us for module, us in candidate.items() if module not in loaded)
