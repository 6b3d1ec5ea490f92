"""How a cold scan's cost grows with the number of files and with file size.

Usage: python benchmarks/scaling.py [--runs N] [--jobs N]

1. Files: cold scans (`--no-cache --no-measure`) of the first N files of the
   peers corpus (benchmarks/peers.py downloads it) for growing N, each copied
   to a temporary tree; prints seconds, ms per file and the peak RSS of the
   main process and of the largest worker.
2. File size: one generated module of growing size (the same function
   repeated), analysed in this process; prints ms per 1,000 lines, split into
   libcst's parse and advisor's own walk, for a file with no findings and for
   one with a finding in every function.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "benchmarks" / ".work" / "peers-corpus"
if importlib.util.find_spec("advisor") is None:  # not installed: use this checkout
    sys.path.insert(0, str(REPO))

QUIET = "def f{n}(items):\n    total = 0\n    for item in items:\n        total += item\n    return total\n\n\n"
NOISY = "def f{n}(items):\n    out = ''\n    for item in items:\n        out += str(item)\n    return out\n\n\n"


def _advisor() -> list[str]:
    script = Path(sys.executable).parent / "advisor"
    return [str(script)] if script.exists() else [sys.executable, "-m", "advisor"]


def by_files(counts: list[int], runs: int, jobs: int) -> None:
    files = sorted(CORPUS.rglob("*.py"))
    if not files:
        raise SystemExit("no corpus: run benchmarks/peers.py --skip-peers once to download it")
    print(f"{'files':>6} {'lines':>8} {'median s':>9} {'ms/file':>8} {'main MiB':>9} {'worker MiB':>11}")
    for count in counts:
        chosen = files[:count]
        with tempfile.TemporaryDirectory() as tmp:
            for index, path in enumerate(chosen):
                target = Path(tmp) / f"m{index // 200}" / f"f{index}.py"
                target.parent.mkdir(exist_ok=True)
                shutil.copyfile(path, target)
            lines = sum(p.read_bytes().count(b"\n") for p in chosen)
            times, main_rss, worker_rss = [], [], []
            for _ in range(runs):
                seconds, main, worker = _measure([*_advisor(), "scan", tmp, "-q", "--no-cache", "--no-measure",
                                                  "--jobs", str(jobs)])
                times.append(seconds)
                main_rss.append(main)
                worker_rss.append(worker)
        median = statistics.median(times)
        print(f"{len(chosen):>6} {lines:>8} {median:>9.2f} {1000 * median / len(chosen):>8.1f} "
              f"{max(main_rss):>9.0f} {max(worker_rss):>11.0f}")


def _measure(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MiB) of the main process and of its largest worker
    (read by the process itself at exit: RUSAGE_CHILDREN covers the joined workers)."""
    wrapper = (
        "import atexit, resource, sys\n"
        "def report():\n"
        "    main, workers = (resource.getrusage(w).ru_maxrss for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))\n"
        "    sys.stderr.write(f'\\nRSS {main} {workers}\\n')\n"
        "atexit.register(report)\n"
        "sys.argv = ['advisor', *sys.argv[1:]]\n"
        "from advisor.cli import main\n"
        "code = main()\n"
        "report(); atexit.unregister(report)\n"
        "sys.exit(code)\n"
    )
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", wrapper, *argv[1:]], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    line = next((line.split() for line in result.stderr.splitlines() if line.startswith("RSS ")), ["RSS", "0", "0"])
    return seconds, float(line[1]) / 1024, float(line[2]) / 1024


def by_size(sizes: list[int], runs: int) -> None:
    import libcst as cst

    from advisor.engine.analyse import _run_rules
    from advisor.config import Config
    from advisor.engine.scan import select_rules
    from advisor.rule import FileContext

    config = Config(root=REPO)
    rules = select_rules(config)
    print(f"\n{'lines':>8} {'kind':>6} {'parse ms/kloc':>14} {'advisor ms/kloc':>16} {'findings':>9}")
    for functions in sizes:
        for kind, template in (("quiet", QUIET), ("noisy", NOISY)):
            text = "".join(template.format(n=n) for n in range(functions))
            lines = text.count("\n")
            parse, walk, found = [], [], 0
            for _ in range(runs):
                started = time.process_time()
                tree = cst.parse_module(text)
                parse.append(time.process_time() - started)
                context = FileContext("gen.py", "gen", config, tuple(text.splitlines()), False)
                started = time.process_time()
                result = _run_rules(tree, context, rules, text)
                walk.append(time.process_time() - started)
                found = len(result.findings)
            kloc = lines / 1000
            print(f"{lines:>8} {kind:>6} {1000 * statistics.median(parse) / kloc:>14.1f} "
                  f"{1000 * statistics.median(walk) / kloc:>16.1f} {found:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--counts", default="250,500,1000,2000", help='file counts ("" to skip)')
    parser.add_argument("--sizes", default="100,1000,10000")
    args = parser.parse_args()
    if args.counts:
        by_files([int(n) for n in args.counts.split(",")], args.runs, args.jobs)
    by_size([int(n) for n in args.sizes.split(",")], args.runs)


if __name__ == "__main__":
    main()
