"""A startup-time budget for CI: time a command, and when it is over budget,
name the imports that pushed it over.

Why the median: a budget gate must not flap. The first run is a warm-up
(it pays for cold disk caches and writing ``.pyc`` files) and is not
counted; of the counted runs the median is what a user typically waits, and
one slow outlier (a noisy CI neighbour) cannot move it. The fastest run is
shown too: it is the least noisy estimate of the command's own cost, but
gating on it would let a change that slows most runs pass on one lucky run.

Why an import-time log on failure: startup time is mostly imports.
``PYTHONPROFILEIMPORTTIME=1`` (the environment form of ``-X importtime``)
makes every Python process the command starts log each import with its
self and cumulative time, whatever the command is (a console script, ``python
-m``, a shell wrapper). Modules that a bare ``python -c pass`` also imports
are left out: the command cannot avoid them.

Why ``--against DIR``: "did this change make startup slower?" is a
comparison, and timing the two trees in separate blocks turns machine drift
into a fake difference. The old tree (DIR) and the current one run
alternately (``advisor.evidence.interleave``), and the verdict says "no
measurable change" when the difference is within the paired runs' noise;
the modules one tree loads and the other does not stand beside it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Collection, Sequence

from advisor.evidence.importtime import ImportRecord, parse_importtime

if TYPE_CHECKING:
    from advisor.evidence.import_delta import ImportDelta
    from advisor.evidence.interleave import Comparison

#: Runs that are timed by default (after one warm-up run).
DEFAULT_RUNS = 5
_PYTHON = re.compile(r"^(python|pypy)(\d+(\.\d+)*)?(\.exe)?$", re.IGNORECASE)


class CommandFailed(Exception):
    """The timed command exited non-zero: its time says nothing."""

    def __init__(self, returncode: int, stderr: str) -> None:
        super().__init__(f"the command exited with status {returncode}")
        self.returncode = returncode
        self.stderr = stderr


@dataclass(frozen=True)
class Timing:
    """Wall-clock times of the counted runs, in ms."""

    runs_ms: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        import statistics

        return float(statistics.median(self.runs_ms))

    @property
    def fastest_ms(self) -> float:
        return min(self.runs_ms)

    @property
    def mad_ms(self) -> float:
        """Median absolute deviation of the runs: their scatter, robust to one outlier."""
        import statistics

        median = self.median_ms
        return float(statistics.median(abs(t - median) for t in self.runs_ms))


@dataclass(frozen=True)
class Culprit:
    """A top-level import of the command and what it cost (cumulative)."""

    module: str
    cumulative_ms: float
    #: Its costliest direct imports (module, cumulative ms): what to look at
    #: when the culprit is the program's own package.
    children: tuple[tuple[str, float], ...] = ()


@dataclass
class Verdict:
    """The outcome of one budget check."""

    timing: Timing
    max_ms: float
    culprits: list[Culprit] = field(default_factory=list)
    #: Why there are no culprits, when there are none.
    diagnosis_note: str = ""
    #: With ``--against DIR``: the old tree against this one, and its module delta.
    comparison: "Comparison | None" = None
    delta: "ImportDelta | None" = None

    @property
    def over(self) -> bool:
        return self.timing.median_ms > self.max_ms

    @property
    def overshoot_ms(self) -> float:
        return self.timing.median_ms - self.max_ms


Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def time_command(
    argv: Sequence[str], runs: int = DEFAULT_RUNS, *, warmup: bool = True,
    run: Runner = subprocess.run, clock: Callable[[], float] = time.perf_counter,
    env: dict[str, str] | None = None, timeout: float = 300.0,
) -> Timing:
    """Run ``argv`` ``runs`` times (after a warm-up) and time each run."""
    times: list[float] = []
    for index in range(runs + (1 if warmup else 0)):
        started = clock()
        result = run(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                     text=True, errors="replace", env=env, timeout=timeout)
        elapsed = (clock() - started) * 1000
        if result.returncode != 0:
            raise CommandFailed(result.returncode, result.stderr or "")
        if index or not warmup:
            times.append(elapsed)
    return Timing(tuple(times))


def is_python(argv: Sequence[str]) -> bool:
    """Whether the command runs a Python interpreter directly."""
    return bool(argv) and bool(_PYTHON.match(os.path.basename(argv[0])))


def importtime_log(argv: Sequence[str], *, run: Runner = subprocess.run, timeout: float = 300.0,
                   cwd: Path | None = None) -> str:
    """The command's stderr with import-time logging switched on."""
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    extra = {"cwd": cwd} if cwd is not None else {}
    result = run(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                 text=True, errors="replace", env=env, timeout=timeout, **extra)
    return result.stderr or ""


def bare_startup_modules(python: str, *, run: Runner = subprocess.run) -> set[str]:
    """Modules ``python -c pass`` imports anyway (site, encodings, ...)."""
    try:
        result = run([python, "-X", "importtime", "-c", "pass"], stdin=subprocess.DEVNULL,
                     capture_output=True, text=True, errors="replace", timeout=60)
    except (OSError, subprocess.SubprocessError):
        return set()
    return {record.module for record in parse_importtime(result.stderr or "")}


def culprits(records: Sequence[ImportRecord], unavoidable: Collection[str] = (), limit: int = 8) -> list[Culprit]:
    """The costliest outermost imports of a log, costliest first.

    Outermost means not nested in another logged import: what the program's
    own code imported. A log lists children before their parent, so a
    record's children are the deeper records logged since the previous
    record at its depth.
    """
    found: list[Culprit] = []
    children: dict[int, list[ImportRecord]] = {}
    top = min((r.depth for r in records), default=0)
    for record in records:
        kids = children.pop(record.depth + 1, [])
        children.setdefault(record.depth, []).append(record)
        if record.depth != top or record.module in unavoidable:
            continue
        costly = sorted((k for k in kids if k.cumulative_us >= max(record.cumulative_us / 10, 1000)),
                        key=lambda r: -r.cumulative_us)[:3]
        found.append(Culprit(record.module, record.cumulative_us / 1000,
                             tuple((k.module, k.cumulative_us / 1000) for k in costly)))
    found.sort(key=lambda c: -c.cumulative_ms)
    return found[:limit]


def compare_trees(argv: Sequence[str], old: Path, new: Path, runs: int, *, run: Runner = subprocess.run,
                  clock: Callable[[], float] = time.perf_counter) -> "tuple[Comparison, ImportDelta]":
    """Run ``argv`` in ``old`` and ``new`` alternately; then one import-time log each."""
    from advisor.evidence.import_delta import import_delta
    from advisor.evidence.interleave import interleave

    def side(cwd: Path) -> Callable[[], float]:
        def once() -> float:
            started = clock()
            result = run(list(argv), cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, errors="replace", timeout=300.0)
            elapsed = (clock() - started) * 1000
            if result.returncode != 0:
                raise CommandFailed(result.returncode, result.stderr or "")
            return elapsed
        return once

    comparison = interleave(side(old), side(new), runs)
    return comparison, import_delta(importtime_log(argv, run=run, cwd=old), importtime_log(argv, run=run, cwd=new))


def check_budget(argv: Sequence[str], max_ms: float, runs: int = DEFAULT_RUNS, python: str | None = None,
                 *, run: Runner = subprocess.run, clock: Callable[[], float] = time.perf_counter,
                 against: Path | None = None) -> Verdict:
    """Time ``argv`` (alternating with the old tree ``against`` when given);
    when over ``max_ms``, find the imports to blame."""
    if against is not None:
        comparison, delta = compare_trees(argv, against, Path.cwd(), runs, run=run, clock=clock)
        verdict = Verdict(Timing(comparison.after.times_ms), max_ms, comparison=comparison, delta=delta)
    else:
        verdict = Verdict(time_command(argv, runs, run=run, clock=clock), max_ms)
    if not verdict.over:
        return verdict
    records = parse_importtime(importtime_log(argv, run=run))
    if not records:
        verdict.diagnosis_note = "no import-time log: the command did not start a Python interpreter that kept the environment"
        return verdict
    interpreter = python or (argv[0] if is_python(argv) else None)
    unavoidable = bare_startup_modules(interpreter or sys.executable, run=run)
    verdict.culprits = culprits(records, unavoidable)
    if not verdict.culprits:
        verdict.diagnosis_note = "the command imports nothing beyond what a bare interpreter does"
    return verdict


def format_verdict(verdict: Verdict) -> str:
    """The verdict in words, for the terminal and the CI log."""
    t = verdict.timing
    figures = f"median {t.median_ms:.0f} ms (fastest {t.fastest_ms:.0f} ms, {len(t.runs_ms)} runs, MAD {t.mad_ms:.1f} ms)"
    if not verdict.over:
        return f"advisor budget: {figures} is within the budget of {verdict.max_ms:g} ms\n" + _comparison_text(verdict)
    lines = [f"advisor budget: {figures} is over the budget of {verdict.max_ms:g} ms by {verdict.overshoot_ms:.0f} ms"]
    if verdict.overshoot_ms <= 1.4826 * t.mad_ms:
        lines.append("(the overshoot is within the runs' scatter: more --runs would tell whether it is real)")
    if verdict.culprits:
        lines.append("imports that pushed it over (cumulative, from one run with -X importtime):")
        total = sum(c.cumulative_ms for c in verdict.culprits)
        covers = total >= verdict.overshoot_ms
        covered = 0.0
        for culprit in verdict.culprits:
            mark = "*" if covers and covered < verdict.overshoot_ms else " "
            covered += culprit.cumulative_ms
            lines.append(f" {mark}{culprit.cumulative_ms:8.1f} ms  {culprit.module}")
            lines.extend(f"   {ms:8.1f} ms    via {module}" for module, ms in culprit.children)
        if covers:
            lines.append("* deferring these would cover the overshoot; "
                         "`advisor scan --select lazy-imports` finds the statements that can move")
        else:
            lines.append(f"these imports take {total:.0f} ms, less than the overshoot: the rest is the "
                         "interpreter's own startup and the command's work, not its imports")
    elif verdict.diagnosis_note:
        lines.append(f"({verdict.diagnosis_note})")
    return "\n".join(lines) + "\n" + _comparison_text(verdict)


def _comparison_text(verdict: Verdict) -> str:
    if verdict.comparison is None or verdict.delta is None:
        return ""
    lines = [f"against the old tree, {len(verdict.comparison.diffs_ms)} runs each, interleaved "
             "(before = the old tree, after = this one):"]
    lines += verdict.comparison.lines() + verdict.delta.lines()
    return "\n".join(lines) + "\n"
