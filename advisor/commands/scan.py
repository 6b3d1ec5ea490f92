"""``advisor scan``: find optimization opportunities and rank them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from advisor.commands.common import Progress, add_config_options, load_config_for, use_color

DESCRIPTION = """\
Scan Python files for costly patterns and list them, costliest first, with
the time each is estimated to cost. Import costs are measured with
`python -X importtime` in the project's interpreter (--python) and cached.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "scan", help="find and rank optimization opportunities", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes: 0 no findings, 1 findings, 2 usage/config error or a file not analysed",
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or directories (default: .)")
    add_config_options(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--format", "-f", metavar="FORMAT", help="text (default), json")
    out.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE (format guessed from its extension)")
    out.add_argument("--quiet", "-q", action="store_true", help="print nothing; only the exit code tells")
    out.add_argument("--verbose", "-v", action="store_true", help="say why each finding ranks where it does; tracebacks of rule crashes")
    out.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour the text output (default: auto)")
    out.add_argument("--limit", type=int, default=20, metavar="N", help="show at most N findings in text output (0: all; default 20)")
    run = parser.add_argument_group("execution")
    run.add_argument("--jobs", "-j", type=int, metavar="N", help="worker processes (default: all cores)")
    run.add_argument("--no-cache", action="store_true", help="ignore and do not update the result cache")
    run.add_argument("--no-measure", action="store_true", help="do not run the interpreter to measure import costs; use the bundled table")
    parser.set_defaults(run=run_scan)


def run_scan(args: argparse.Namespace) -> int:
    from advisor.config import with_overrides
    from advisor.engine import scan
    from advisor.errors import UsageError
    from advisor.report import RenderOptions, get_renderer, guess_format

    paths = args.paths or [Path(".")]
    config = load_config_for(paths, args)
    if args.no_measure:
        config = with_overrides(config, measure_imports=False)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    fmt = args.format or guess_format(args.output) or "text"
    renderer = get_renderer(fmt)
    progress = Progress(enabled=not args.quiet and fmt == "text" and not args.output)
    try:
        report = scan(paths, config, jobs=args.jobs, use_cache=not args.no_cache, progress=progress)
    finally:
        progress.clear()
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
