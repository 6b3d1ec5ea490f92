"""Cold scan vs warm rescan of an unchanged tree (issue: "a second scan is at
least 10x faster than the first").

Usage: python benchmarks/cache_speed.py [TREE ...] [--runs N]

Each TREE (default: the bundled fixtures/slowcli and the installed networkx
package, ~300 files) is copied to a temporary directory, then scanned:
cold = no result cache and no import-time cache (deleted before every run);
warm = the same command again with both caches in place (answered by the
whole-scan memo); touched = warm, but one file's mtime changed (same bytes),
so the memo misses and every file is answered by the per-file result cache.
Prints the median of each and the cold/warm ratio. Timing is wall clock of
the real CLI in a subprocess. The caches live in a temporary directory
(ADVISOR_CACHE_DIR), never in the user's cache.
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

REPO = Path(__file__).resolve().parent.parent


def default_trees() -> list[Path]:
    trees = [REPO / "fixtures" / "slowcli"]
    try:
        import networkx

        trees.append(Path(networkx.__file__).parent)
    except ImportError:
        pass
    return trees


def timed_scan(tree: Path, cache: Path) -> float:
    env = {**os.environ, "ADVISOR_CACHE_DIR": str(cache)}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "advisor", "scan", str(tree), "-q"], cwd=tree, capture_output=True,
                            text=True, env=env)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1, 2):
        raise SystemExit(f"scan failed: {result.stderr}")
    return elapsed


def bench(tree: Path, runs: int) -> tuple[int, float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        copy, cache = Path(tmp) / tree.name, Path(tmp) / "cache"
        shutil.copytree(tree, copy, ignore=shutil.ignore_patterns("__pycache__", ".advisor"))
        files = sorted(copy.rglob("*.py"))
        cold = []
        for _ in range(runs):
            shutil.rmtree(copy / ".advisor", ignore_errors=True)  # (where caches lived before issue 16)
            shutil.rmtree(cache, ignore_errors=True)
            cold.append(timed_scan(copy, cache))
        warm = [timed_scan(copy, cache) for _ in range(runs)]
        touched = []
        for run in range(runs):
            stat = files[0].stat()
            os.utime(files[0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000 * (run + 1)))
            touched.append(timed_scan(copy, cache))
    return len(files), statistics.median(cold), statistics.median(warm), statistics.median(touched)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'tree':<24} {'files':>6} {'cold (s)':>9} {'warm (s)':>9} {'touched (s)':>12} {'cold/warm':>10}")
    for tree in args.trees or default_trees():
        files, cold, warm, touched = bench(tree, args.runs)
        print(f"{tree.name:<24} {files:>6} {cold:>9.2f} {warm:>9.2f} {touched:>12.2f} {cold / warm:>9.1f}x")


if __name__ == "__main__":
    main()
