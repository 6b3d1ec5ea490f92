"""Start-up time of the CLI against the bare interpreter (issue 7: "`advisor
--help` at most 2.5x the time of `python -c pass`").

Usage: python benchmarks/startup.py [--runs N] [--advisor PATH]

Runs `python -c pass`, `advisor --help`, `advisor rules` and `advisor explain
lazy-imports` N times each (default 20), interleaved round by round so that
machine noise hits every command alike, after one untimed warm-up round.
`python` is this interpreter and `advisor` the console script installed next
to it, i.e. what a user types. Measure in a venv where advisor is installed
normally: an editable install's import hook loads pathlib and importlib.util
at interpreter start and hides what advisor itself costs. The commands run in
an empty temporary directory, so no project configuration is read.
Prints the median and fastest wall-clock time of each and the ratio of the
medians to `python -c pass`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def commands(advisor: str) -> dict[str, list[str]]:
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "advisor --help": [advisor, "--help"],
        "advisor rules": [advisor, "rules"],
        "advisor explain lazy-imports": [advisor, "explain", "lazy-imports"],
    }


def timed(cmd: list[str], cwd: str) -> float:
    """Wall-clock seconds of one run; a failing command is an error, not a time."""
    started = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {result.returncode}: {result.stderr.decode(errors='replace')[-500:]}")
    return elapsed


def measure(cmds: dict[str, list[str]], runs: int, cwd: str) -> dict[str, list[float]]:
    for cmd in cmds.values():  # warm-up: page cache, .pyc files
        timed(cmd, cwd)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(runs):
        for name, cmd in cmds.items():
            times[name].append(timed(cmd, cwd))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, metavar="N", help="timed runs per command (default 20)")
    parser.add_argument("--advisor", metavar="PATH", help="the console script (default: the one next to this python)")
    args = parser.parse_args()
    advisor = args.advisor or str(Path(sys.executable).with_name("advisor"))
    if not Path(advisor).exists():
        sys.exit(f"no advisor console script at {advisor}: install advisor into this interpreter's environment")
    with tempfile.TemporaryDirectory() as cwd:
        times = measure(commands(advisor), args.runs, cwd)
    floor = statistics.median(times["python -c pass"])
    print(f"python: {sys.executable}\nadvisor: {advisor}\nruns: {args.runs} each, interleaved\n")
    print(f"{'command':<30} {'median ms':>10} {'fastest ms':>11} {'x python -c pass':>17}")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:<30} {median * 1000:>10.1f} {min(samples) * 1000:>11.1f} {median / floor:>17.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
