"""Each module's self time from plain interpreters that import every measured
module in turn: the figures a closure's total is made of.

Why not the fork tree's own figures: a forked child pays copy-on-write
faults for every page of its parents' memory it touches (refcounts on
Django's classes, free slots in their allocator pools), and that cost lands
in the self times of whatever it imports: about a millisecond on each
node's first import, 12 % on ``modelcluster.fields`` five forks deep under
Django. A module's self time
is its own body's work, with the time of the imports it starts taken out,
so it hardly depends on what else is loaded: one interpreter that imports
everything once, as a program does, gives every module's self time at the
cost of one import of the union. The tree says *which* modules a closure
holds; these runs say what each costs.

Several runs, and each module keeps its *median*, not its fastest: a claim
is checked against a program's typical run, and over many modules the sum
of the fastest of three came out at 0.65-0.82 of a typical whole run
(``benchmarks/claim_statistics.py``, ``docs/fix.md``), while the sum of
medians is what a typical run adds up to.
"""

from __future__ import annotations

from typing import Iterable

from advisor.evidence.importtime import first_self_us, isolated_stderr

#: Imports each module named in argv (after the alarm seconds) under an
#: alarm that ends only that import; a failure ends only that import too.
_UNION = r"""
import sys, _signal
def stop(number, frame):
    raise TimeoutError('import took too long')
_signal.signal(_signal.SIGALRM, stop)
alarm = int(sys.argv[1])
for name in sys.argv[2:]:
    _signal.alarm(alarm)
    try:
        __import__(name)
    except BaseException:
        pass
    _signal.alarm(0)
"""

#: Union runs per first measurement: each module keeps its median.
RUNS = 3


def self_times(python: str, modules: Iterable[str], timeout: float, runs: int = RUNS,
               jobs: int = 2) -> tuple[dict[str, int], int]:
    """``{module: self time in us}`` for every module the runs loaded (the
    median of its ``runs``), and how many runs gave figures. A run that dies
    (a module that ends its process) still gives what it logged before."""
    import statistics
    from concurrent.futures import ThreadPoolExecutor

    names = sorted(set(modules))
    if not names:
        return {}, 0
    alarm = max(1, int(timeout))
    argv = [python, "-X", "importtime", "-c", _UNION, str(alarm), *names]
    budget = timeout + 0.5 * len(names)
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, runs))) as pool:
        logs = list(pool.map(lambda _: isolated_stderr(argv, budget), range(runs)))
    samples: dict[str, list[int]] = {}
    for log in logs:
        for module, us in first_self_us(log).items():
            samples.setdefault(module, []).append(us)
    return {m: round(statistics.median(us)) for m, us in samples.items()}, sum(1 for log in logs if log)


__all__ = ["RUNS", "self_times"]
