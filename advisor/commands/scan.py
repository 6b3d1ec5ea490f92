"""``advisor scan``: find optimization opportunities and rank them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from advisor.commands import SUMMARIES
from advisor.commands.common import Progress, add_config_options, load_config_for, use_color, with_measuring_interpreter

if TYPE_CHECKING:
    from collections import Counter

    from advisor.findings import ScanReport

DESCRIPTION = """\
Scan Python files for costly patterns and list them, costliest first, with
the time each is estimated to cost. Import costs of installed and stdlib
modules are measured with `python -I -X importtime` (--python), outside the
scanned tree, and cached; a project module's cost is derived from what it
imports (--measure-project imports it instead). Scanning runs none of the
scanned code; plugins named in its config do run (--isolated ignores it).
See docs/security.md.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "scan", help=SUMMARIES["scan"], description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes: 0 no findings, 1 findings, 2 usage/config error or a file not analysed",
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or directories (default: .)")
    add_config_options(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--format", "-f", metavar="FORMAT", help="text (default), json, sarif, github, markdown, html")
    out.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE (format guessed from its extension)")
    out.add_argument("--quiet", "-q", action="store_true", help="print nothing; only the exit code tells")
    out.add_argument("--verbose", "-v", action="store_true", help="show tracebacks of rule crashes and routine cache notices")
    out.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour the text output (default: auto)")
    out.add_argument("--limit", type=int, default=20, metavar="N", help="show at most N findings in text output (0: all; default 20)")
    run = parser.add_argument_group("execution")
    run.add_argument("--jobs", "-j", type=int, metavar="N", help="worker processes (default: all cores)")
    run.add_argument("--no-cache", action="store_true", help="ignore and do not update the result cache")
    run.add_argument("--no-measure", action="store_true", help="do not run the interpreter to measure import costs; use the bundled table")
    evidence = parser.add_argument_group("evidence (see docs/ranking.md)")
    evidence.add_argument("--profile", action="append", type=Path, metavar="FILE",
                          help="rank by this profile: pyinstrument session or JSON, speedscope JSON (py-spy), "
                          "cProfile/pstats, or a -X importtime log (repeatable; default: .advisor/profile.pyisession if present)")
    evidence.add_argument("--no-profile", action="store_true", help="ignore .advisor/profile.pyisession; rank by static signals")
    base = parser.add_argument_group("baseline and pre-commit")
    base.add_argument("--baseline", metavar="FILE", type=Path, help="report only findings not recorded in FILE (see --write-baseline)")
    base.add_argument("--write-baseline", metavar="FILE", type=Path, help="record the current findings in FILE and exit 0 (2 if a file was not analysed)")
    base.add_argument("--whole-project", action="store_true",
                      help="analyse the whole project (so facts such as names other modules import are complete) "
                      "but report only on the given PATHs; what the pre-commit hook does")
    parser.set_defaults(run=run_scan)


def run_scan(args: argparse.Namespace) -> int:
    from advisor.config import with_overrides
    from advisor.engine.scan import scan
    from advisor.errors import UsageError
    from advisor.report import RenderOptions, get_renderer, guess_format

    from advisor.cache_files import set_verbose

    set_verbose(args.verbose)
    paths = args.paths or [Path(".")]
    config = load_config_for(paths, args)
    if args.no_measure:
        config = with_overrides(config, measure_imports=False)
    config = with_measuring_interpreter(config, paths, args)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    accepted = _load_baseline(args)
    from advisor.evidence.profile import find_evidence

    evidence = find_evidence(args.profile or [], config.root, use_default=not (args.no_profile or args.isolated))
    fmt = args.format or guess_format(args.output) or "text"
    renderer = get_renderer(fmt)
    progress = Progress(enabled=not args.quiet)  # stderr only: any format, any destination
    scan_paths = _whole_project(paths, config.root) if args.whole_project else paths
    try:
        report = scan(scan_paths, config, jobs=args.jobs, use_cache=not args.no_cache, progress=progress, evidence=evidence)
    finally:
        progress.clear()
    if args.whole_project:
        _keep_only(report, paths)
    if _apply_baseline(report, args, accepted):
        return 2 if report.errors else 0
    stream = sys.stdout
    options = RenderOptions(
        color=fmt == "text" and not args.output and use_color(args.color, stream),
        verbose=args.verbose,
        limit=args.limit if fmt == "text" else 0,
    )
    text = renderer(report, options)
    if args.output:
        from advisor.atomic import atomic_write_text

        atomic_write_text(Path(args.output), text)
    elif not args.quiet:
        stream.write(text)
    if report.errors:
        return 2
    return 1 if report.findings else 0


def _load_baseline(args: argparse.Namespace) -> "Counter[str] | None":
    """Check the baseline options and read --baseline before the scan, to fail fast."""
    from advisor.baseline import load_baseline
    from advisor.errors import UsageError

    if args.baseline and args.write_baseline:
        raise UsageError("use either --baseline or --write-baseline, not both")
    return load_baseline(args.baseline) if args.baseline else None


def _apply_baseline(report: "ScanReport", args: argparse.Namespace, accepted: "Counter[str] | None") -> bool:
    """Filter by --baseline, or record --write-baseline; True when a baseline was written."""
    from advisor.baseline import filter_new, write_baseline

    if args.write_baseline:
        count = write_baseline(args.write_baseline, report.findings)
        if not args.quiet:
            print(f"advisor: recorded {count} finding{'s' if count != 1 else ''} in {args.write_baseline}", file=sys.stderr)
        return True
    if accepted is not None:
        report.findings, hidden = filter_new(report.findings, accepted, args.baseline.parent)
        if hidden:
            report.notices.append(f"{hidden} finding{'s' if hidden != 1 else ''} hidden by the baseline {args.baseline}")
    return False


def _whole_project(paths: list[Path], root: Path) -> list[Path]:
    """The project root, plus any given path outside it."""
    project = root.resolve()
    return [project] + [p for p in paths if not _under(p.resolve(), [project])]


def _keep_only(report: "ScanReport", paths: list[Path]) -> None:
    """Drop findings and errors outside ``paths`` (after a --whole-project scan)."""
    roots = [p.resolve() for p in paths]
    report.findings = [f for f in report.findings if _under(Path(f.path).resolve(), roots)]
    report.errors = [e for e in report.errors if _under(Path(e.path).resolve(), roots)]


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)
