"""After ``fix --verify``: import each startup entry the model used, before
and after the fixes, and roll back a written file that removed nothing.

Why: the startup model is static; it cannot see a module the program loads
through ``importlib`` or a plugin hook, so a fix it expects to pay may
remove nothing. ``--verify`` means the user agreed to run the project, so
the entries' imports are run as they are (``python -X importtime -c
"import ROOTS"`` in the project's interpreter, from the project root, one
run per tree; the set of modules loaded does not wobble with the machine's
load). A written file whose module some checked entry loads, but whose
deferred modules still load with every entry that loads it, goes back to
its original bytes (the rule of ``paid.py`` for ``--measure``, per entry).

Putting such a file back re-adds only imports of modules every entry that
loads it still loads, so no other file's saving depends on it; the
combination was never run, though, so ``CMD`` runs once more after a
rollback, and if it fails every fix goes back (as ``verify.py`` does).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

if TYPE_CHECKING:
    from advisor.fix.measure import Version
    from advisor.fix.runner import FileFix, FixReport

#: The modules of one entry -> (the -X importtime log of importing them, or None when it failed; why it failed).
ImportLog = Callable[[Sequence[str]], tuple[str | None, str]]


@dataclass(frozen=True)
class EntryLoads:
    """What one entry loaded on each tree ({} when it was not checked)."""

    name: str
    before: frozenset[str] = frozenset()
    after: frozenset[str] = frozenset()
    #: Self time (ms) of each module it loaded before, for the figure of what went.
    self_ms: dict[str, float] = field(default_factory=dict)
    #: Why it gave no evidence ("" when it did).
    unchecked: str = ""
    #: It imported without the fixes and fails with them (why): the fixes broke it.
    broken: str = ""

    @property
    def removed(self) -> frozenset[str]:
        return self.before - self.after


@dataclass
class EntryCheck:
    """The check's findings, in words for the fix summary."""

    loads: list[EntryLoads] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    #: CMD failed with the rolled-back files restored: every fix went back.
    reverted_all: str = ""

    def lines(self) -> list[str]:
        if not self.loads:
            return []
        out = ["startup check: each entry point imported before and after the fixes (-X importtime, one run each):"]
        unchanged = [e.name for e in self.loads if not e.unchecked and not e.removed]
        for entry in self.loads:
            if entry.unchecked:
                out.append(f"  {entry.name}: not checked ({entry.unchecked})")
            elif entry.removed:
                ms = sum(entry.self_ms.get(m, 0.0) for m in entry.removed)
                count = len(entry.removed)
                out.append(f"  {entry.name}: {count} module{'s' if count != 1 else ''} no longer loaded ({ms:.1f} ms self time)")
        if unchanged:
            names = ", ".join(unchanged[:3]) + (f" and {len(unchanged) - 3} more" if len(unchanged) > 3 else "")
            out.append(f"  {names}: no module less")
        out.extend(f"  rolled back {line}" for line in self.rolled_back)
        if self.reverted_all:
            out.append(f"  {self.reverted_all}")
        return out


def check_entries(report: "FixReport", python: str, cwd: Path, run_cmd: Callable[[], tuple[bool, str]] | None,
                  timeout: float, log: ImportLog | None = None) -> EntryCheck:
    """Check the entries on the tree as it is now (after ``--verify``'s own rollback)."""
    from advisor.fix.measure import Version, current_versions

    result = EntryCheck()
    changed = report.changed
    if not changed or not report.entries:
        return result
    logger = log or _import_logger(python, cwd, report.source_roots, timeout)
    now = current_versions([entry.path for entry in changed])
    was = [Version(v.path, entry.original, v.mtime_ns - 2_000_000_000) for v, entry in zip(now, changed)]
    result.loads = [_loads(name, roots, logger, was, now) for name, roots in report.entries]
    broken = next((e for e in result.loads if e.broken), None)
    if broken is not None:  # CMD passed, yet an entry no longer imports: nothing here is safe to keep
        for entry in changed:
            _roll_back(entry, f"{broken.name} no longer imports with the fixes ({broken.broken})")
        result.reverted_all = f"{broken.name} imports without the fixes but not with them: every fix was rolled back"
        return result
    for entry in changed:
        why = _removed_nothing(entry, result.loads)
        if why:
            _roll_back(entry, why)
            result.rolled_back.append(f"{entry.display}: {why}")
    if result.rolled_back and run_cmd is not None:
        passed, _ = run_cmd()
        if not passed:
            for entry in report.changed:
                _roll_back(entry, "the --verify command failed once the files that removed nothing were put back")
            result.reverted_all = "the --verify command failed with those files put back: every fix was rolled back"
    return result


def _loads(name: str, roots: Sequence[str], logger: ImportLog, was: Sequence["Version"],
           now: Sequence["Version"]) -> EntryLoads:
    """One import-time log of the entry on each tree (the fixed tree is put back after)."""
    from advisor.evidence.importtime import parse_importtime
    from advisor.fix.measure import _put, _restoring

    if any(r == "__main__" or r.endswith(".__main__") for r in roots):
        return EntryLoads(name, unchecked="importing a __main__ module runs the program")
    with _restoring(now):
        _put(was)
        before, why_before = logger(roots)
        _put(now)
        after, why_after = logger(roots)
    if before is not None and after is None:
        return EntryLoads(name, unchecked=f"the import fails with the fixes: {why_after}", broken=why_after)
    if before is None or after is None:
        return EntryLoads(name, unchecked=f"the import failed: {why_before or why_after}")
    records = parse_importtime(before)
    if not records:
        return EntryLoads(name, unchecked="no -X importtime log")
    self_ms: dict[str, float] = {}
    for record in records:
        self_ms.setdefault(record.module, record.self_us / 1000)
    return EntryLoads(name, frozenset(self_ms), frozenset(r.module for r in parse_importtime(after)), self_ms)


def _removed_nothing(entry: "FileFix", loads: Sequence[EntryLoads]) -> str:
    """Why the file's fixes removed nothing ("" when they did, or no checked entry loads it)."""
    from advisor.fix.paid import deferred_modules
    from advisor.source import module_name

    module, deferred = module_name(entry.path), deferred_modules(entry.applied)
    loading = [e for e in loads if not e.unchecked and module in e.after]
    if not deferred or not loading or any(deferred & e.removed for e in loading):
        return ""
    still = sorted(deferred & loading[0].after)[:3]
    names = ", ".join(e.name for e in loading[:2]) + (" ..." if len(loading) > 2 else "")
    return (f"{names} still load{'s' if len(loading) == 1 else ''} {', '.join(still) or 'what it deferred'} "
            "with it fixed: the fix removed nothing")


def _roll_back(entry: "FileFix", why: str) -> None:
    from advisor.fix.runner import restore

    restore(entry, entry.original)
    entry.fixed, entry.applied, entry.rolled_back = None, [], why


def _import_logger(python: str, cwd: Path, source_roots: Sequence[Path], timeout: float) -> ImportLog:
    """Run ``import ROOTS`` in the project's interpreter, from the project root,
    with its source roots first on ``sys.path`` (the user asked for --verify)."""
    paths = [str(p) for p in source_roots]

    def log(roots: Sequence[str]) -> tuple[str | None, str]:
        code = f"import sys; sys.path[:0] = {paths!r}\n" + "".join(f"import {r}\n" for r in roots)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPROFILEIMPORTTIME"}
        try:
            done = subprocess.run([python, "-X", "importtime", "-c", code], cwd=cwd, env=env, capture_output=True,
                                  text=True, errors="replace", timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return None, f"timed out after {timeout:.0f} s"
        except OSError as exc:
            return None, f"cannot run {python}: {exc.strerror or exc}"
        if done.returncode != 0:
            from advisor.evidence.unmeasured import failure_reason

            return None, failure_reason(done.stderr, done.returncode)
        return done.stderr, ""
    return log


__all__ = ["EntryCheck", "EntryLoads", "check_entries"]
