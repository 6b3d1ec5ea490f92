"""``--measure CMD``: time CMD on the tree before and after fixing, run by run.

The fixed files are swapped between their original and fixed bytes between
runs (``advisor.evidence.interleave`` explains why alternating matters), and
put back as fixed at the end, even when a run fails or is interrupted.

Bytecode: a swapped file's ``.pyc`` belongs to the other variant, so every
run compiles the changed files again, on both sides alike (a few ms per
file; nothing else is recompiled). A separate bytecode cache per variant
(``PYTHONPYCACHEPREFIX``) was tried and dropped: where bytecode is not
written (``PYTHONDONTWRITEBYTECODE``, ``-B``), it makes every run compile
the whole standard library, which measured 4x the real startup here.

One extra run per variant with ``PYTHONPROFILEIMPORTTIME=1`` gives the
deterministic figure: the modules no longer loaded and their self time.
"""

from __future__ import annotations

import os
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from advisor.errors import UsageError
from advisor.evidence.import_delta import ImportDelta, import_delta
from advisor.evidence.interleave import Comparison, interleave


@dataclass(frozen=True)
class Version:
    """One file's bytes and modification time in one variant of the tree."""

    path: Path
    data: bytes
    mtime_ns: int


@dataclass(frozen=True)
class Measurement:
    """What ``--measure`` found."""

    command: str
    comparison: Comparison
    delta: ImportDelta

    def render(self) -> str:
        head = f"measure: `{self.command}`, {len(self.comparison.before.times_ms)} runs each, interleaved"
        return "\n".join([head, *self.comparison.lines(), *self.delta.lines()]) + "\n"


def current_versions(paths: Sequence[Path]) -> list[Version]:
    """The files as they are on disk now."""
    return [Version(p, p.read_bytes(), p.stat().st_mtime_ns) for p in paths]


def measure_fix(command: str, before: Sequence[Version], after: Sequence[Version], runs: int, cwd: Path,
                timeout: float, run: Callable[[str, dict[str, str]], float] | None = None,
                log: Callable[[str, dict[str, str]], str] | None = None) -> Measurement:
    """Interleave ``runs`` runs of ``command`` on each variant; leave ``after`` in place.

    ``run`` (time one run, in ms) and ``log`` (one run's import-time log)
    default to running ``command`` in a shell in ``cwd``; tests pass fakes."""
    runner = run or _shell_runner(cwd, timeout)
    logger = log or (lambda cmd, env: _importtime_log(cmd, env, cwd, timeout))
    env = dict(os.environ)
    with _restoring(after):

        def side(files: Sequence[Version]) -> Callable[[], float]:
            def once() -> float:
                _put(files)
                return runner(command, env)
            return once

        comparison = interleave(side(before), side(after), runs)
        logs = []
        for files in (before, after):
            _put(files)
            logs.append(logger(command, dict(env, PYTHONPROFILEIMPORTTIME="1")))
    return Measurement(command, comparison, import_delta(logs[0], logs[1]))


def _shell_runner(cwd: Path, timeout: float) -> Callable[[str, dict[str, str]], float]:
    def run(command: str, env: dict[str, str]) -> float:
        started = time.perf_counter()
        try:
            done = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, timeout=timeout, env=env,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise UsageError(f"--measure: `{command}` took longer than {timeout:.0f} s") from None
        elapsed = (time.perf_counter() - started) * 1000
        if done.returncode != 0:
            detail = (done.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:]
            raise UsageError(f"--measure: `{command}` failed (exit {done.returncode}){': ' + detail[0] if detail else ''}")
        return elapsed
    return run


def _importtime_log(command: str, env: dict[str, str], cwd: Path, timeout: float) -> str:
    try:
        done = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              env=env, text=True, errors="replace")
    except subprocess.TimeoutExpired:
        return ""
    return done.stderr or ""


def _put(files: Sequence[Version]) -> None:
    """Make each file hold this variant's bytes and modification time."""
    from advisor.atomic import atomic_write_bytes

    for version in files:
        if version.path.read_bytes() != version.data:
            atomic_write_bytes(version.path, version.data)
        os.utime(version.path, ns=(time.time_ns(), version.mtime_ns))


@contextmanager
def _restoring(files: Sequence[Version]) -> Iterator[None]:
    """Put ``files`` back however the block ends (a failed run, Ctrl-C)."""
    try:
        yield
    finally:
        _put(files)


__all__ = ["Measurement", "Version", "current_versions", "measure_fix"]
