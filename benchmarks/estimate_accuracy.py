"""How close lazy-imports' estimates are to a fresh `python -X importtime`.

Usage: python benchmarks/estimate_accuracy.py [PROJECT] [--runs N]

Scans PROJECT (default: fixtures/slowcli, copied to a temporary directory
with no caches) and, for every lazy-imports finding, times the reported
statement in N fresh interpreters with `-X importtime` (the sum of the self
times of every module the statement loads; median over the runs). Prints
both figures and their ratio; the foundation issue asks for a ratio within
0.5..2. advisor's estimate is the *incremental* cost (what this import adds
on top of the module's other eager imports), so it may be lower than the
isolated figure when they share dependencies.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from advisor.evidence.importtime import parse_importtime  # noqa: E402


def fresh_ms(statement: str, cwd: Path, runs: int) -> float:
    totals = []
    for _ in range(runs):
        result = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import sys; sys.stderr.write('@@mark@@\\n')\n{statement}"],
                                cwd=cwd, capture_output=True, text=True)
        after = result.stderr.partition("@@mark@@")[2]
        totals.append(sum(r.self_us for r in parse_importtime(after)) / 1000)
    return statistics.median(totals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("project", nargs="?", type=Path, default=REPO / "fixtures" / "slowcli")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / args.project.name
        shutil.copytree(args.project, copy, ignore=shutil.ignore_patterns("__pycache__", ".advisor"))
        scan = subprocess.run([sys.executable, "-m", "advisor", "scan", "--select", "lazy-imports", "--format", "json"],
                              cwd=copy, capture_output=True, text=True)
        findings = json.loads(scan.stdout)["findings"]
        print(f"{'statement':<50} {'advisor ms':>10} {'fresh ms':>9} {'ratio':>6}")
        ratios = []
        for finding in findings:
            statement = finding["data"]["statement"]
            estimate = finding["impact"]["estimate_ms"]
            fresh = fresh_ms(statement, copy, args.runs)
            ratio = estimate / fresh if fresh else float("inf")
            ratios.append(ratio)
            print(f"{statement:<50} {estimate:>10.1f} {fresh:>9.1f} {ratio:>6.2f}")
        inside = sum(0.5 <= r <= 2 for r in ratios)
        print(f"{inside}/{len(ratios)} estimates within a factor of two")


if __name__ == "__main__":
    main()
