"""Compare the wall time of two variants of a command, run by run.

Why interleaved: timing "before" in one block and "after" in another turns
any drift of a shared machine (another job starting, the CPU clocking down)
into a fake saving. Alternating the variants run by run, in ABBA order,
exposes both to the same drift, and each pair gives one difference.

Why a noise estimate: a difference smaller than the run-to-run scatter is
not a result. The scatter is the median absolute deviation (MAD) of the
paired differences, a spread that one outlier cannot inflate; the median
difference counts as a change only when it is larger than twice its
standard error estimated from that MAD (about a 95 % level for normal
noise), over at least three pairs. Otherwise the verdict is "no measurable
change", whatever the medians say.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

#: MAD -> standard deviation for normally distributed noise.
_MAD_TO_SD = 1.4826
#: Standard error of a median, in standard deviations times sqrt(n).
_MEDIAN_SE = 1.2533
MIN_PAIRS = 3


@dataclass(frozen=True)
class Runs:
    """Wall times of one variant's counted runs, in ms."""

    times_ms: tuple[float, ...]

    @property
    def best_ms(self) -> float:
        return min(self.times_ms)

    @property
    def median_ms(self) -> float:
        return _median(self.times_ms)


@dataclass(frozen=True)
class Comparison:
    """Interleaved runs of two variants and what their difference means."""

    before: Runs
    after: Runs

    @property
    def diffs_ms(self) -> tuple[float, ...]:
        """``after - before`` per pair: negative means faster after."""
        return tuple(a - b for b, a in zip(self.before.times_ms, self.after.times_ms))

    @property
    def change_ms(self) -> float:
        """Median paired difference (negative: a saving)."""
        return _median(self.diffs_ms)

    @property
    def mad_ms(self) -> float:
        median = self.change_ms
        return _median([abs(d - median) for d in self.diffs_ms])

    @property
    def noise_ms(self) -> float:
        """Twice the standard error of the median difference."""
        n = len(self.diffs_ms)
        return 2 * _MEDIAN_SE * _MAD_TO_SD * self.mad_ms / math.sqrt(n)

    @property
    def measurable(self) -> bool:
        return len(self.diffs_ms) >= MIN_PAIRS and abs(self.change_ms) > self.noise_ms

    def lines(self) -> list[str]:
        """The figures in words, for the terminal."""
        b, a = self.before, self.after
        out = [
            f"  before  best {b.best_ms:8.1f} ms  median {b.median_ms:8.1f} ms",
            f"  after   best {a.best_ms:8.1f} ms  median {a.median_ms:8.1f} ms",
        ]
        spread = f"noise ±{self.noise_ms:.1f} ms (MAD of the paired differences {self.mad_ms:.1f} ms)"
        if not self.measurable:
            why = f"fewer than {MIN_PAIRS} pairs" if len(self.diffs_ms) < MIN_PAIRS else spread
            out.append(f"  no measurable change: median paired difference {self.change_ms:+.1f} ms, {why}")
        else:
            verb = "saving" if self.change_ms < 0 else "slower by"
            share = abs(self.change_ms) / b.median_ms * 100 if b.median_ms else 0.0
            out.append(f"  {verb} {abs(self.change_ms):.1f} ms ({share:.0f} %), {spread}")
        return out


def _median(values: "tuple[float, ...] | list[float]") -> float:
    import statistics  # imported only when figures are asked for (advisor scans itself)

    return float(statistics.median(values))


def interleave(run_before: Callable[[], float], run_after: Callable[[], float], pairs: int,
               *, warmup: bool = True) -> Comparison:
    """Run the two variants alternately, ``pairs`` times each, in ABBA order
    (even pairs before-first, odd pairs after-first), after one uncounted
    warm-up run of each. Each callable runs its variant once and returns its
    wall time in ms."""
    if warmup:
        run_before()
        run_after()
    before: list[float] = []
    after: list[float] = []
    for index in range(pairs):
        if index % 2 == 0:
            before.append(run_before())
            after.append(run_after())
        else:
            after.append(run_after())
            before.append(run_before())
    return Comparison(Runs(tuple(before)), Runs(tuple(after)))


__all__ = ["Comparison", "Runs", "interleave"]
