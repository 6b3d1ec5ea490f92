"""Where a closure's self times come from, checked against the program:
each module's self time in the real entry's own ``-X importtime`` log,
against union runs (what ``advisor`` uses: plain interpreters importing
every measured module, ``advisor/evidence/self_times.py``) and against one
fresh interpreter per module. Every figure is a module's fastest of the
same number of runs; the sums are over the modules all three saw, outside
the entry's own package.

    python benchmarks/self_time_check.py --python PY --entry datasette.cli --modules-from CACHE_DIR/closures.json [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.evidence.closures import ClosureStore  # noqa: E402
from advisor.evidence.importtime import parse_importtime, run_isolated  # noqa: E402
from advisor.evidence.self_times import self_times  # noqa: E402


def fastest_of(logs: list[str]) -> dict[str, int]:
    best: dict[str, int] = {}
    for log in logs:
        seen: set[str] = set()
        for record in parse_importtime(log):
            if record.module not in seen:
                seen.add(record.module)
                best[record.module] = min(record.self_us, best.get(record.module, record.self_us))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", required=True)
    parser.add_argument("--entry", required=True, help="the module the program imports first, e.g. datasette.cli")
    parser.add_argument("--modules-from", type=Path, required=True, help="a scan's closures.json")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    document = json.loads(args.modules_from.read_text())
    modules = sorted({m for entries in document["interpreters"].values() for m, e in entries.items() if e.get("ok")})
    entry = fastest_of([run_isolated([args.python, "-X", "importtime", "-c", f"import {args.entry}"], 300).stderr
                        for _ in range(args.runs)])
    union, _ = self_times(args.python, modules, 60.0, runs=args.runs, jobs=1)
    store = ClosureStore(args.python, None, jobs=1)
    alone: dict[str, int] = {}
    for _ in range(args.runs):
        seen: dict[str, int] = {}
        for module in modules:  # one fresh interpreter per module; a module counted once per round
            times = store._run(module).get("modules")
            for name, us in (times.items() if isinstance(times, dict) else ()):
                seen.setdefault(name, us)
        for name, us in seen.items():
            alone[name] = min(us, alone.get(name, us))
    own = args.entry.split(".")[0]
    common = [m for m in entry if m in union and m in alone and m.split(".")[0] != own]
    total = {way: sum(found[m] for m in common) / 1000 for way, found in
             (("entry", entry), ("union", union), ("alone", alone))}
    print(f"{len(common)} modules the entry `{args.entry}` loads, each its fastest of {args.runs} runs:\n")
    print("| where the self times come from | sum (ms) | vs the entry |\n| --- | ---: | ---: |")
    for way, label in (("entry", "the entry's own log"), ("union", "union runs (advisor)"),
                       ("alone", "one fresh interpreter per module")):
        print(f"| {label} | {total[way]:.1f} | {total[way] / total['entry']:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
