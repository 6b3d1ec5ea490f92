"""Command line: parse, build Config, call one function, render.

Only stdlib modules are imported here; each command imports the heavy parts
it needs when it runs, so ``advisor --help`` starts in milliseconds.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from advisor import __version__
from advisor.errors import AdvisorError

#: Subcommand modules in advisor.commands, in --help order. Each has
#: ``add_parser(subparsers)`` and ``run(args) -> int``.
COMMANDS = ("scan", "fix", "rules", "explain", "budget", "profile")

EPILOG = """\
exit codes:
  0  no findings
  1  findings were reported
  2  usage or configuration error, or some file could not be analysed
     (everything else is still reported)

examples:
  advisor scan .                       ranked findings with estimated savings
  advisor scan src --format json -o advisor.json
  advisor explain lazy-imports         what a rule finds and how to fix it
  advisor budget --max-ms 150 -- python -c "import pkg"   fail CI on slow startup
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="advisor",
        description="A performance advisor for Python code: finds what makes a program slow to "
        "start or slow to run, ranks it by measured cost, and fixes the safe cases.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"advisor {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"advisor.commands.{name}")
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``advisor`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except AdvisorError as exc:
        print(f"advisor: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("advisor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if args.debug:
            raise
        print(f"advisor: internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
