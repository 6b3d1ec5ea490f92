"""Why a lazy-imports claim can fall short of the median measured saving:
compare the closure store's figure for a module (what the startup model's
claims are made of: advisor.evidence.closures, each module's fastest of 1-3
isolated runs) with whole runs of the same measurement, taken alternately so
that both see the same machine load.

For each module, ``--rounds`` rounds of: one store figure (a fresh cache, the
module marked precise, so the store applies its own run policy) and one plain
run (the store's own measuring code, once). Printed per module, in ms of
summed self time of the closure: the store figure (median over the rounds),
the best, median and worst plain run, and store / median.

    python benchmarks/claim_statistics.py --python benchmarks/.work/venv/bin/python \\
        json email.mime.multipart agate sqlalchemy --rounds 9
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.evidence.closures import ClosureStore  # noqa: E402


def store_figure(python: str, module: str, version: str) -> tuple[float, int]:
    """(ms, subprocesses) of a fresh store's closure of ``module``, as a scan gets it."""
    with tempfile.TemporaryDirectory(prefix="advisor-claims-") as temp:
        store = ClosureStore(python, Path(temp) / "closures.json", jobs=1)
        found, failed = store.closures({module: version}, precise={module})
        if failed or module not in found:
            raise SystemExit(f"{module}: {failed[0].reason if failed else 'not measured'}")
        return sum(found[module].modules.values()), store.runs


def plain_run(python: str, module: str) -> float:
    """One run of the same measurement, its closure's summed self time in ms."""
    store = ClosureStore(python, None, jobs=1)
    entry = store._run(module)  # noqa: SLF001 - the very code the store measures with
    times = entry.get("modules")
    if not entry.get("ok") or not isinstance(times, dict):
        raise SystemExit(f"{module}: {entry.get('error')}")
    return sum(times.values()) / 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="+")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    print(f"python {args.python}, {args.rounds} rounds, load average at start {os.getloadavg()[0]:.1f}")
    print("| module | store runs | store figure (median) | plain runs: best / median / worst | store / median run |")
    print("| --- | ---: | ---: | --- | ---: |")
    for module in args.modules:
        figures, plain, runs = [], [], 0
        for _ in range(args.rounds):
            ms, used = store_figure(args.python, module, "claims-benchmark")
            figures.append(ms)
            runs = used
            plain.append(plain_run(args.python, module))
        store, median = statistics.median(figures), statistics.median(plain)
        print(f"| {module} | {runs} | {store:.1f} | {min(plain):.1f} / {median:.1f} / {max(plain):.1f} | "
              f"{store / median:.2f} |", flush=True)
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
