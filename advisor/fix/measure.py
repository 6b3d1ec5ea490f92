"""``--measure CMD``: wall time of CMD before and after fixing.

Each side runs CMD once to warm caches (the first run after a fix also
writes the new .pyc files), then ``runs`` times; the median is reported,
with the spread, because one slow run says nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from advisor.errors import UsageError


@dataclass(frozen=True)
class Timing:
    """Wall times of several runs of one command, in seconds."""

    times: tuple[float, ...]

    @property
    def median(self) -> float:
        import statistics

        return statistics.median(self.times)


def time_command(command: str, runs: int, cwd: Path, timeout: float) -> Timing:
    """Run ``command`` (shell) once to warm up, then ``runs`` times, timed."""
    import subprocess

    times = []
    for index in range(runs + 1):
        started = time.perf_counter()
        try:
            done = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise UsageError(f"--measure: `{command}` took longer than {timeout:.0f} s") from None
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            detail = (done.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:]
            raise UsageError(f"--measure: `{command}` failed (exit {done.returncode}){': ' + detail[0] if detail else ''}")
        if index:
            times.append(elapsed)
    return Timing(tuple(times))


def render_measure(command: str, before: Timing, after: Timing) -> str:
    """Median before/after and the saving, in milliseconds."""
    saving = before.median - after.median
    share = saving / before.median * 100 if before.median else 0.0
    return (
        f"measure: `{command}`, median of {len(before.times)} runs\n"
        f"  before {before.median * 1000:8.1f} ms  (min {min(before.times) * 1000:.1f}, max {max(before.times) * 1000:.1f})\n"
        f"  after  {after.median * 1000:8.1f} ms  (min {min(after.times) * 1000:.1f}, max {max(after.times) * 1000:.1f})\n"
        f"  saving {saving * 1000:8.1f} ms  ({share:.0f}%)\n"
    )
