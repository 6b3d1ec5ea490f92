"""Command line: parse, build Config, call one function, render.

Only stdlib modules are imported here, and only the parser that the command
line needs is built: ``advisor --help`` gets one stub per command (its name
and summary from :data:`advisor.commands.SUMMARIES`) and imports no command
module; ``advisor scan ...`` imports and builds ``scan`` alone. Each command
imports the heavy parts it needs when it runs, so ``advisor --help`` starts
in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import sys

from advisor import __version__
from advisor.commands import SUMMARIES
from advisor.errors import AdvisorError

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~5 ms at startup
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

#: Subcommand modules in advisor.commands, in --help order. Each has
#: ``add_parser(subparsers)`` and ``run(args) -> int``.
COMMANDS = tuple(SUMMARIES)

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


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter minus two imports the top-level help never needs
    (~5 ms together): ``shutil`` (which loads bz2, lzma, fnmatch) only to read
    the terminal width, and ``textwrap`` for help lines that fit as they are.
    The output is the same, character for character."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) < 4 and kwargs.get("width") is None:  # width: 4th positional parameter
            kwargs["width"] = _columns() - 2  # as argparse computes it
        super().__init__(*args, **kwargs)

    def _split_lines(self, text: str, width: int) -> list[str]:
        matcher = getattr(self, "_whitespace_matcher", None)  # argparse's own, so spacing is identical
        flat = matcher.sub(" ", text).strip() if matcher else ""
        if flat and len(flat) <= width:
            return [flat]  # what textwrap.wrap returns for a line that fits
        return super()._split_lines(text, width)


def _columns() -> int:
    """``shutil.get_terminal_size().columns``, as argparse reads it, without shutil."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def build_parser(command: str | None = None, *, full: bool = False) -> argparse.ArgumentParser:
    """The top-level parser with every command listed. Only ``command`` (or,
    with ``full``, every command) gets its real subparser, which imports its
    module; the others are stubs that carry the name and the summary, which
    is all the top-level help and the 'invalid choice' error show."""
    parser = argparse.ArgumentParser(
        prog="advisor",
        description="A performance advisor for Python code: finds what makes a program slow to "
        "start or slow to run, ranks it by measured cost, and fixes the safe cases.",
        epilog=EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"advisor {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if full or name == command:
            module = __import__(f"advisor.commands.{name}", fromlist=["add_parser"])
            module.add_parser(subparsers)
        else:
            subparsers.add_parser(name, help=SUMMARIES[name], add_help=False)
    return parser


def command_in(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names, if any: its first token that is not an
    option (the top-level options take no value, so none can hide it)."""
    for token in argv:
        if token == "--":
            return None
        if not token.startswith("-"):
            return token if token in SUMMARIES else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``advisor`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(command_in(argv))
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    if not hasattr(args, "run"):  # argparse chose a command that command_in() did not see
        args = build_parser(args.command).parse_args(argv)
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
