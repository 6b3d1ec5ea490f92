"""Closures as the store measures them (fork trees for the sets, union runs
for the self times) against closures from one fresh interpreter per module,
on the same interpreter in the same run: the module sets (must be equal),
each module's closure total (fastest and median run of each way; the ratio
should sit at 1 within noise), and the wall time of each way.

    python benchmarks/closure_tree_check.py --python PY [--runs 3] [--jobs 2] MODULE ...
    python benchmarks/closure_tree_check.py --python PY --from-cache CACHE_DIR/closures.json

``--from-cache`` takes the modules a scan measured (its ``closures.json``:
scan with ``ADVISOR_CACHE_DIR`` pointed at an empty directory first).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.evidence.closures import ClosureStore  # noqa: E402


def alone(python: str, modules: list[str], jobs: int) -> dict[str, dict[str, int] | None]:
    """One fresh interpreter per module (the way before fork trees)."""
    store = ClosureStore(python, None, jobs=jobs)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        entries = list(pool.map(store._run, modules))
    return {m: e["modules"] if e.get("ok") else None for m, e in zip(modules, entries)}  # type: ignore[misc]


def tree(python: str, modules: list[str], jobs: int) -> dict[str, dict[str, int] | None]:
    """What the store does: fork trees (with import chains) for which modules
    each closure holds, union runs for what each costs; no cache."""
    found, _ = ClosureStore(python, None, jobs=jobs).closures({m: "benchmark" for m in modules})
    return {m: {k: round(ms * 1000) for k, ms in found[m].modules.items()} if m in found else None for m in modules}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*")
    parser.add_argument("--python", required=True)
    parser.add_argument("--from-cache", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    modules = list(args.modules)
    if args.from_cache:
        document = json.loads(args.from_cache.read_text())
        for entries in document["interpreters"].values():
            modules += [m for m, e in entries.items() if e.get("ok")]
    modules = sorted(set(modules))
    if not modules:
        parser.error("no modules: name some or give --from-cache")
    ways = {"alone": alone, "tree": tree}
    walls: dict[str, list[float]] = {w: [] for w in ways}
    fastest: dict[str, dict[str, int]] = {w: {} for w in ways}
    sets: dict[str, dict[str, set[str] | None]] = {w: {} for w in ways}
    for index in range(args.runs):
        for way in (("alone", "tree") if index % 2 == 0 else ("tree", "alone")):
            started = time.perf_counter()
            found = ways[way](args.python, modules, args.jobs)
            walls[way].append(time.perf_counter() - started)
            for module, times in found.items():
                sets[way].setdefault(module, set(times) if times is not None else None)
                for name, us in (times or {}).items():  # each module's fastest, over every run of this way
                    fastest[way][name] = min(us, fastest[way].get(name, us))
            print(f"run {index + 1} {way}: {walls[way][-1]:.2f} s", file=sys.stderr)
    differ = [m for m in modules if sets["alone"].get(m) != sets["tree"].get(m)]
    def total(way: str, module: str) -> float:
        return sum(fastest[way][m] for m in sets[way].get(module) or ()) / 1000

    compared = [m for m in modules if sets["tree"].get(m) and sets["alone"].get(m) and total("alone", m) >= 1.0]
    ratios = {"each module's fastest": [total("tree", m) / total("alone", m) for m in compared]}
    print(f"{len(modules)} modules, {args.runs} runs each way, {args.jobs} jobs\n")
    print("| way | wall, median (s) | wall, each run (s) |\n| --- | ---: | --- |")
    for way in ways:
        print(f"| {way} | {statistics.median(walls[way]):.2f} | {', '.join(f'{w:.2f}' for w in walls[way])} |")
    print(f"\nmodule sets that differ: {len(differ)}" + (f" ({', '.join(differ[:10])})" if differ else ""))
    for module in differ[:5]:
        a, t = sets["alone"].get(module) or set(), sets["tree"].get(module) or set()
        print(f"  {module}: only alone {sorted(a - t)[:8]}, only tree {sorted(t - a)[:8]}")
    for name, values in ratios.items():
        if values:
            print(f"closure total, tree / alone ({name} run, {len(values)} closures of 1 ms or more): "
                  f"median {statistics.median(values):.2f}, range {min(values):.2f}-{max(values):.2f}")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
