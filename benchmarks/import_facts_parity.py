"""Parity of advisor.rules.lazy_imports.facts (CPython ``ast``) with the libcst walk.

    python benchmarks/import_facts_parity.py DIR [--show N] [--defaults]

For every .py file under DIR: the ast facts must equal lazy-imports'
``facts["imports"]`` (without ``deferrable``), and ``may_defer`` must be
True wherever the rule reports a candidate (before refine, include-tests
on unless ``--defaults``). advisor.rules.lazy_imports.reports.lazy_reports must give
the same reports (span, message, data) and the same facts (with
``deferrable``) as the libcst walk (``analysis.FIRST_PASS`` off). Prints
mismatches, counts, the share of files and bytes where ``may_defer`` is
False, and CPU seconds per phase (``time.process_time``).
"""

from __future__ import annotations

import argparse
import ast
import gc
import sys
import time
from pathlib import Path
from typing import Any

from advisor.engine.analyse import analyse_text
from advisor.config import config_from_table
from advisor.rules.lazy_imports.facts import analyse
from advisor.rules.lazy_imports.reports import lazy_reports
from advisor.rule import build_options
from advisor.source import SourceError, is_test_path, module_name, read_source


def _load(path: Path) -> str | None:
    try:
        return read_source(path).text
    except SourceError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--show", type=int, default=5, help="mismatches shown in detail")
    parser.add_argument("--defaults", action="store_true", help="the rule's default options (include-tests off)")
    args = parser.parse_args(argv)
    from advisor.engine import analyse as analysis
    from advisor.rules.lazy_imports.rule import LazyImports

    analysis.FIRST_PASS = False  # the libcst walk is the reference
    table: dict[str, Any] = {"measure-imports": False}
    if not args.defaults:
        table["rules"] = {"lazy-imports": {"include-tests": True}}
    config = config_from_table(table, root=args.root)
    options = build_options(LazyImports, config.rule_options.get("lazy-imports", {}))
    times = {"ast parse": 0.0, "import_facts+may_defer": 0.0, "lazy_reports (facts+reports)": 0.0,
             "libcst analyse_text": 0.0}
    counts = {"files": 0, "empty": 0, "skipped (unreadable/unparsable)": 0, "fact mismatches": 0,
              "rule reports, may_defer False": 0, "files with a report": 0, "may_defer False": 0,
              "reports (libcst)": 0, "report mismatches (files)": 0}
    bytes_total = bytes_false = 0
    shown = 0
    for path in sorted(args.root.rglob("*.py")):
        text = _load(path)
        if text is None or not text.strip():
            counts["skipped (unreadable/unparsable)" if text is None else "empty"] += 1
            continue
        module, is_package = module_name(path), path.name == "__init__.py"
        gc.disable()  # as in the worker (analysis.analyse_text)
        start = time.process_time()
        try:
            tree: Any = compile(text, str(path), "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            gc.enable()
            counts["skipped (unreadable/unparsable)"] += 1
            continue
        parsed = time.process_time()
        display = str(path.relative_to(args.root))
        try:
            facts, defer = analyse(tree, module, is_package, text)
        except RecursionError:
            facts, defer = None, True
        done = time.process_time()
        try:
            ast_reports: Any = lazy_reports(tree, module, display.endswith("__init__.py"), text,
                                            is_test_path(Path(display)), options, config)
        except RecursionError:
            ast_reports = None
        reported_at = time.process_time()
        gc.enable()
        result = analyse_text(text, display, module, [LazyImports], config)
        end = time.process_time()
        times["ast parse"] += parsed - start
        times["import_facts+may_defer"] += done - parsed
        times["lazy_reports (facts+reports)"] += reported_at - done
        times["libcst analyse_text"] += end - reported_at
        if result.errors:
            counts["skipped (unreadable/unparsable)"] += 1
            continue
        counts["files"] += 1
        size = len(text.encode())
        bytes_total += size
        expected = dict(result.facts.get("lazy-imports", {}).get("imports", {}))
        expected.pop("deferrable", None)
        reported = any(f.rule == "lazy-imports" for f in result.findings)
        counts["files with a report"] += reported
        if not defer:
            counts["may_defer False"] += 1
            bytes_false += size
        problems = _problems(expected, facts, reported, defer)
        counts["reports (libcst)"] += sum(f.rule == "lazy-imports" for f in result.findings)
        report_problem = _report_problems(result, ast_reports)
        if report_problem:
            counts["report mismatches (files)"] += 1
            problems["reports"] = report_problem
        counts["fact mismatches"] += "facts" in problems
        counts["rule reports, may_defer False"] += "may_defer" in problems
        if problems and shown < args.show:
            shown += 1
            print(f"MISMATCH {display}: {problems}")
    _summary(counts, times, bytes_total, bytes_false)
    return 1 if counts["fact mismatches"] or counts["rule reports, may_defer False"] or counts["report mismatches (files)"] else 0


def _report_problems(result: Any, ast_reports: Any) -> dict[str, Any]:
    """What differs between the libcst findings/facts and lazy_reports' (empty: nothing)."""
    if ast_reports is None:
        return {"ast": "RecursionError"}
    facts, reports = ast_reports
    expected = sorted(((f.span.line, f.span.column, f.span.end_line, f.span.end_column, f.message, f.data)
                       for f in result.findings if f.rule == "lazy-imports"), key=repr)
    got = sorted(((r.span.line, r.span.column, r.span.end_line, r.span.end_column, r.message, r.data)
                  for r in reports), key=repr)
    problems: dict[str, Any] = {}
    if got != expected:
        problems["libcst only"] = [e for e in expected if e not in got]
        problems["ast only"] = [g for g in got if g not in expected]
    expected_facts = result.facts.get("lazy-imports", {}).get("imports", {})
    if facts != expected_facts:
        problems["facts"] = {k: {"libcst": expected_facts.get(k), "ast": facts.get(k)}
                             for k in sorted(set(expected_facts) | set(facts)) if expected_facts.get(k) != facts.get(k)}
    return problems


def _problems(expected: dict[str, Any], facts: dict[str, Any] | None, reported: bool, defer: bool) -> dict[str, Any]:
    problems: dict[str, Any] = {}
    if facts != expected:
        keys = sorted(set(expected) | set(facts or {}))
        problems["facts"] = {k: {"libcst": expected.get(k), "ast": (facts or {}).get(k)}
                             for k in keys if expected.get(k) != (facts or {}).get(k)}
    if reported and not defer:
        problems["may_defer"] = "False but the rule reports"
    return problems


def _summary(counts: dict[str, int], times: dict[str, float], bytes_total: int, bytes_false: int) -> None:
    for key, count in counts.items():
        print(f"{key:38} {count}")
    files = counts["files"] or 1
    print(f"{'may_defer False, share of files':38} {counts['may_defer False'] / files:.1%}")
    print(f"{'may_defer False, share of bytes':38} {bytes_false / (bytes_total or 1):.1%}")
    for key, seconds in times.items():
        print(f"{key + ' (CPU s)':38} {seconds:.2f}")
    if times["ast parse"]:
        print(f"{'import_facts+may_defer / ast parse':38} {times['import_facts+may_defer'] / times['ast parse']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
