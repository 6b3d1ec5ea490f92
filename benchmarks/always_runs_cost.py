"""What following always-run calls across the project costs a scan.

Runs `advisor scan --no-cache --no-measure` in-process on a tree, alternating
two variants run by run: as shipped, and with the always-run facts and walk
switched off (``always_facts`` returns nothing: the scan as it was before
``rules/lazy_imports/always_{facts,runs}.py``). Reports CPU time (this
process and its forked workers) and wall time, best and median of each,
and the CPU time of ``always_facts`` alone beside ``ast.parse`` on the
same files.

    python benchmarks/always_runs_cost.py /path/to/django [--runs 5] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def one_scan(tree: Path, jobs: int, off: bool) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, findings) of one uncached, unmeasured scan."""
    import advisor.rules.lazy_imports.always_facts as facts_module
    from advisor.config import config_from_table
    from advisor.engine.scan import scan

    original = facts_module.always_facts
    if off:
        facts_module.always_facts = lambda *args, **kwargs: {}  # type: ignore[assignment]
    config = config_from_table({"measure-imports": False}, root=tree)
    cwd = os.getcwd()
    os.chdir(tree)
    before, started = os.times(), time.perf_counter()
    try:
        report = scan([tree], config, jobs=jobs, use_cache=False)
    finally:
        facts_module.always_facts = original  # type: ignore[assignment]
        os.chdir(cwd)
    wall, after = time.perf_counter() - started, os.times()
    cpu = sum(getattr(after, f) - getattr(before, f) for f in ("user", "system", "children_user", "children_system"))
    return cpu, wall, len(report.findings)


def facts_cost(tree: Path) -> tuple[int, float, float]:
    """(files, CPU s of ast.parse, CPU s of always_facts) over every .py file of ``tree``."""
    import ast

    from advisor.rules.lazy_imports.always_facts import always_facts

    parsed, parse_s = [], 0.0
    for path in sorted(tree.rglob("*.py")):
        try:
            text = path.read_text("utf-8")
            started = time.process_time()
            parsed.append((ast.parse(text), ".".join(path.relative_to(tree).with_suffix("").parts)))
            parse_s += time.process_time() - started
        except (SyntaxError, ValueError, UnicodeDecodeError):
            continue
    started = time.process_time()
    for module_tree, module in parsed:
        always_facts(module_tree, module, module.endswith("__init__"))
    return len(parsed), parse_s, time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    results: dict[str, list[tuple[float, float, int]]] = {"before (off)": [], "after (shipped)": []}
    for run in range(args.runs):
        order = ["before (off)", "after (shipped)"] if run % 2 == 0 else ["after (shipped)", "before (off)"]
        for name in order:
            results[name].append(one_scan(args.tree.resolve(), args.jobs, name.startswith("before")))
    files, parse_s, facts_s = facts_cost(args.tree.resolve())
    print(f"tree: {args.tree}  runs: {args.runs}  jobs: {args.jobs}")
    print(f"always_facts alone: {facts_s:.2f} s CPU over {files} files (ast.parse of the same files: {parse_s:.2f} s)")
    print("| variant | CPU best | CPU median | wall best | wall median | findings |")
    print("| --- | --: | --: | --: | --: | --: |")
    for name, rows in results.items():
        cpu: list[Any] = [r[0] for r in rows]
        wall = [r[1] for r in rows]
        print(f"| {name} | {min(cpu):.2f} s | {statistics.median(cpu):.2f} s | {min(wall):.2f} s | "
              f"{statistics.median(wall):.2f} s | {rows[-1][2]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
