"""Proof and payoff of the cheap first pass (advisor/first_pass.py).

Every file under DIR is analysed twice in the same process, with the first
pass on and off, every rule enabled and every ``include-tests`` option on (so
test files count too). The two results must be equal: findings (rule, line,
column, message) and project facts. Prints every difference, how many files
and bytes the first pass kept from libcst, and the CPU time of both modes.

Usage: python benchmarks/first_pass.py DIR [--jobs N] [--select RULE,...] [--limit N] [--defaults]
Exit status 1 when any file differs.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("advisor") is None:  # not installed: use this checkout
    sys.path.insert(0, str(REPO))

_SETUP: dict[str, Any] = {}


def _setup(select: str, defaults: bool = False) -> None:
    from advisor.config import Config
    from advisor.engine.scan import select_rules

    options = {} if defaults else {rule: {"include-tests": True} for rule in
                                   ("lazy-imports", "n-plus-one", "loop-invariant", "blocking-in-async", "sequential-await")}
    config = Config(root=REPO, rule_options=options)
    rules = select_rules(config)
    if select:
        rules = [r for r in rules if r.id in select.split(",")]
    _SETUP.update(config=config, rules=rules)


def _signature(result: Any) -> tuple[Any, ...]:
    """What the main process gets from a file: findings, errors and the project
    facts as it reads them (an absent ``deferrable`` reads as an empty one)."""
    from advisor.project import facts_from_result

    findings = sorted((f.rule, f.span.line, f.span.column, f.message) for f in result.findings)
    errors = sorted((e.kind, e.rule or "", e.message) for e in result.errors)
    return tuple(findings), tuple(errors), facts_from_result(result.path, result.facts, "")


def check(path: str) -> tuple[str, int, bool, float, float, str]:
    """(path, bytes, walked with the first pass, cpu on, cpu off, difference or "")."""
    from advisor.engine import analyse as analysis
    from advisor.source import SourceError, read_source

    try:
        text = read_source(Path(path)).text
    except SourceError:
        return path, 0, False, 0.0, 0.0, ""
    config, rules = _SETUP["config"], _SETUP["rules"]
    times, signatures, walked = [], [], False
    for enabled in (True, False):
        analysis.FIRST_PASS = enabled
        start = time.process_time()
        result = analysis.analyse_text(text, path, "corpus.module", rules, config)
        times.append(time.process_time() - start)
        signatures.append(_signature(result))
        if enabled:
            walked = _walks(path, text, rules, config)
    difference = "" if signatures[0] == signatures[1] else f"on:  {signatures[0]}\n  off: {signatures[1]}"
    return path, len(text.encode("utf-8", "replace")), walked, times[0], times[1], difference


def _walks(path: str, text: str, rules: list[Any], config: Any) -> bool:
    """Would the first pass send this file to libcst?"""
    from advisor.engine import analyse as analysis
    from advisor.rule import FileContext, build_options
    from advisor.source import is_test_path

    tree, _ = analysis._python_parse(text)
    if tree is None:
        return True
    context = FileContext(path, "corpus.module", config, (), is_test_path(Path(path)))
    chosen = [(r, build_options(r, config.rule_options.get(r.id, {}))) for r in rules]
    return bool(analysis._first_pass(chosen, tree, context, text)[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--select", default="", help="comma-separated rule ids (default: every rule)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N files")
    parser.add_argument("--defaults", action="store_true", help="the rules' default options (test files mostly skipped)")
    args = parser.parse_args()
    files = [str(p) for p in sorted(args.directory.rglob("*.py"))]
    if args.limit:
        files = files[: args.limit]
    with ProcessPoolExecutor(args.jobs, initializer=_setup, initargs=(args.select, args.defaults)) as pool:
        rows = list(pool.map(check, files, chunksize=8))
    differ = [row for row in rows if row[5]]
    for path, *_, difference in differ[:20]:
        print(f"DIFFERS {path}\n  {difference}")
    total_bytes = sum(r[1] for r in rows) or 1
    walked_bytes = sum(r[1] for r in rows if r[2])
    cpu_on, cpu_off = sum(r[3] for r in rows), sum(r[4] for r in rows)
    print(f"{len(rows)} files, {len(differ)} differ")
    print(f"libcst parses {sum(1 for r in rows if r[2])} files ({walked_bytes / total_bytes:.1%} of the bytes)")
    print(f"analysis CPU: first pass on {cpu_on:.1f} s, off {cpu_off:.1f} s ({cpu_on / max(cpu_off, 1e-9):.2f}x)")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
