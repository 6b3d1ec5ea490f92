"""What measuring costs on a first scan: `advisor scan --no-cache` of a real
package with an empty cache directory (nothing measured yet), with import
measuring on and with `--no-measure`, alternately, several times; the ratio
of the medians (target: at most 1.5x) and how many subprocesses the
measuring interpreter ran (counted by a wrapper script that logs each start).

    python benchmarks/first_scan_cost.py benchmarks/.work/before/datasette-0.65.5 --paths datasette \\
        [--python benchmarks/.work/venv/bin/python] [--runs 3]

The tree is one benchmarks/fix_real_packages.py extracts (never committed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scan_once(tree: Path, paths: list[str], python: Path, measure: bool) -> tuple[float, int, str]:
    """(seconds, measuring subprocesses, the text report's last line) of one cold scan."""
    with tempfile.TemporaryDirectory(prefix="advisor-first-scan-") as scratch:
        log = Path(scratch) / "runs.log"
        wrapper = Path(scratch) / "bin" / "python"
        wrapper.parent.mkdir()
        wrapper.write_text(f"#!/bin/sh\necho run >> '{log}'\nexec '{python}' \"$@\"\n")
        wrapper.chmod(0o755)
        env = {**os.environ, "ADVISOR_CACHE_DIR": str(Path(scratch) / "cache")}
        argv = [sys.executable, "-m", "advisor", "scan", *paths, "--no-cache", "--python", str(wrapper)]
        if not measure:
            argv.append("--no-measure")
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True, timeout=7200)
        seconds = time.perf_counter() - started
        runs = log.read_text().count("run") if log.exists() else 0
        last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip()[-200:]
    return seconds, runs, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", type=Path)
    parser.add_argument("--paths", nargs="*", default=["."])
    parser.add_argument("--python", type=Path, default=HERE / ".work" / "venv" / "bin" / "python")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which(str(args.python)) is None and not args.python.exists():
        parser.error(f"{args.python}: no such interpreter")
    sides: dict[str, list[tuple[float, int, str]]] = {"measure": [], "no-measure": []}
    for index in range(args.runs):
        order = ("measure", "no-measure") if index % 2 == 0 else ("no-measure", "measure")
        for side in order:
            sides[side].append(scan_once(args.tree, args.paths, args.python.absolute(), side == "measure"))
            print(f"run {index + 1} {side}: {sides[side][-1][0]:.1f} s, {sides[side][-1][1]} subprocesses", flush=True)
    with_measuring = statistics.median(s for s, _, _ in sides["measure"])
    without = statistics.median(s for s, _, _ in sides["no-measure"])
    print()
    print("| tree | first scan, measuring (s) | first scan, --no-measure (s) | ratio | measuring subprocesses |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| {args.tree.name} ({' '.join(args.paths)}) | {with_measuring:.1f} | {without:.1f} | "
          f"{with_measuring / without:.2f}x | {sides['measure'][0][1]} |")
    print(f"\nmeasuring: {sides['measure'][0][2]}\nno-measure: {sides['no-measure'][0][2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
