"""Parse ``python -X importtime`` logs and measure import statements in the
scanned project's own interpreter, once per statement and module version.

Measuring never runs the scanned tree's code unasked: every subprocess runs
``python -I`` (no PYTHON* variables, no script or current directory and no
user site on ``sys.path``) in a fresh temporary directory outside the tree,
so a ``json.py`` or ``sitecustomize.py`` in the checkout is never imported;
the interpreter's own site-packages stay visible. Only ``project_path``
(given for ``--measure-project``) puts the project's source roots on
``sys.path``, and only for the project's own statements.

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
#: Bump when the cache layout or the measuring method changes (3: isolated, -I).
CACHE_FORMAT = 3


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


def first_self_us(text: str) -> dict[str, int]:
    """Module -> self time (us) of its first ``import time:`` line in ``text``."""
    times: dict[str, int] = {}
    for record in parse_importtime(text):
        times.setdefault(record.module, record.self_us)
    return times


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
        project_path: Iterable[Path] = (),
        cache_file: Path | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.python = python
        self.cwd = cwd
        #: Source roots put on sys.path for project statements (--measure-project only).
        self.project_path = [str(p) for p in project_path]
        self.cache_file = cache_file
        self.timeout = timeout
        self._cache: dict[str, dict[str, object]] = self._load_cache()
        self._versions: dict[str, str | None] = {}
        self.available = True
        self.problem = ""
        #: Why the last runs of a statement failed (stored with its cache entry).
        self._failed: dict[str, str] = {}

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
                project: Callable[[str], bool] = lambda statement: False) -> None:
        """Measure (statement, version) pairs missing from the cache.

        ``project(statement)``: the statement imports the project's own code
        (--measure-project): it runs with ``project_path`` on sys.path, once
        unmeasured first, so that the project's modules are timed with their
        bytecode cached, as every run after the first sees them.
        """
        todo = [(s, v) for s, v in statements if self._cached(s, v) is None]
        for index, (statement, version) in enumerate(todo):
            own = project(statement)
            if own:
                self._measure_once(statement, own)
            modules = self._measure_once(statement, own)
            if modules is not None and _near_threshold(modules):
                # Could be a cheap import slowed by a busy machine: two more runs,
                # keep each module's fastest time (noise only ever adds time).
                runs = [modules, self._measure_once(statement, own) or modules, self._measure_once(statement, own) or modules]
                modules = {m: min(r.get(m, modules[m]) for r in runs) for m in modules}
            self._cache[statement] = {"version": version, "modules": modules, "ok": modules is not None}
            if modules is None:
                self._cache[statement]["error"] = self._failed.pop(statement, "failed")
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

    def failure(self, statement: str, version: str) -> str | None:
        """Why measuring the statement failed (the exception's class name, "timeout",
        ...: advisor.evidence.unmeasured), or None when it did not fail or never ran."""
        entry = self._cached(statement, version)
        if entry is None or entry.get("ok"):
            return None
        return str(entry.get("error") or "failed")

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

    def _measure_once(self, statement: str, project: bool = False) -> dict[str, int] | None:
        path = f"sys.path[:0] = {self.project_path!r}; " if project and self.project_path else ""
        code = f"import sys; {path}sys.stderr.write('\\n{_MARK}\\n'); sys.stderr.flush()\n{statement}\n"
        try:
            result = self._run([self.python, "-X", "importtime", "-c", code])
        except subprocess.TimeoutExpired:
            self._failed[statement] = "timeout"
            return None
        except (OSError, subprocess.SubprocessError) as exc:
            self._failed[statement] = type(exc).__name__
            return None
        if result.returncode != 0:
            from advisor.evidence.unmeasured import failure_reason

            self._failed[statement] = failure_reason(result.stderr, result.returncode)
            return None
        modules: dict[str, int] = {}
        for record in records_after_mark(result.stderr):
            modules.setdefault(record.module, record.self_us)
        return modules

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        return run_isolated(argv, self.timeout)

    def _load_cache(self) -> dict[str, dict[str, object]]:
        """The cache's entries, each checked (a damaged one is dropped, said once)."""
        if self.cache_file is None or not self.cache_file.is_file():
            return {}
        from advisor.cache_files import damaged, notice

        try:
            data = json.loads(self.cache_file.read_text("utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            notice(f"ignored a damaged cache file {self.cache_file} ({type(exc).__name__}); it will be rebuilt")
            return {}
        if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT or not isinstance(data.get("entries"), dict):
            notice(f"cache {self.cache_file} is of another advisor version or kind; rebuilding it", routine=True)
            return {}
        if data.get("python") != self.python:
            return {}
        entries = {k: v for k, v in data["entries"].items() if _valid_entry(k, v)}
        if len(entries) != len(data["entries"]):
            damaged(self.cache_file, f"{len(data['entries']) - len(entries)} malformed entries")
        return entries

    def _save_cache(self) -> None:
        if self.cache_file is None:
            return
        from advisor.atomic import atomic_write_text

        payload = {"format": CACHE_FORMAT, "python": self.python, "entries": self._cache}
        try:
            atomic_write_text(self.cache_file, json.dumps(payload, sort_keys=True))
        except OSError:
            pass  # a cache that cannot be written only costs time


def _valid_entry(key: str, entry: object) -> bool:
    """The shapes _save_cache writes: the probe's, or one measured statement's."""
    if not isinstance(entry, dict):
        return False
    if key == "__probe__":
        versions, paths = entry.get("versions"), entry.get("paths")
        return (isinstance(versions, dict) and all(v is None or isinstance(v, str) for v in versions.values())
                and isinstance(paths, dict) and all(type(v) is int for v in paths.values()))
    modules = entry.get("modules")
    return (isinstance(entry.get("version"), str) and type(entry.get("ok")) is bool
            and (modules is None or (isinstance(modules, dict) and all(type(v) is int for v in modules.values())))
            and (modules is not None or not entry["ok"]) and isinstance(entry.get("error", ""), str))


def run_isolated(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``argv[0]`` (a Python) as ``python -I ...`` with no PYTHON*
    variables, in a fresh empty directory: nothing of the scanned tree, the
    current directory or the environment's PYTHONPATH reaches ``sys.path``."""
    import tempfile

    env = {name: value for name, value in os.environ.items() if not name.startswith("PYTHON")}
    with tempfile.TemporaryDirectory(prefix="advisor-measure-") as empty:
        return subprocess.run(
            [argv[0], "-I", *argv[1:]], cwd=empty, env=env, capture_output=True, text=True,
            timeout=timeout, stdin=subprocess.DEVNULL, errors="replace",
        )


def isolated_stderr(argv: list[str], timeout: float) -> str:
    """What ``run_isolated`` wrote to stderr, including what it wrote before
    a timeout stopped it ("" when it could not run): the logs of a run that
    measures many modules are worth having even when it is cut short."""
    try:
        return run_isolated(argv, timeout).stderr
    except subprocess.TimeoutExpired as stopped:
        data = stopped.stderr
        return data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")
    except (OSError, subprocess.SubprocessError):
        return ""


def _near_threshold(modules: dict[str, int]) -> bool:
    total_ms = sum(modules.values()) / 1000
    return 1.0 <= total_ms <= 60.0


def incremental_us(candidate: dict[str, int], already_loaded: Iterable[str]) -> int:
    """Self time of the modules the candidate loads that are not loaded already."""
    loaded = set(already_loaded)
    return sum(us for module, us in candidate.items() if module not in loaded)
