"""``advisor budget``: fail CI when a command starts slower than a budget."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from advisor.commands import SUMMARIES

DESCRIPTION = """\
Run CMD several times and compare its median wall-clock time with a budget.
The first run is a warm-up and is not counted; the median of the rest is the
figure that gates (one noisy run cannot flip it), and the fastest run is
shown too. Over budget, CMD runs once more with Python's import-time log
switched on (PYTHONPROFILEIMPORTTIME=1, the same as -X importtime) and the
imports that cost the most are named.

With --against DIR (an old tree, e.g. a checkout of the main branch), CMD
also runs with DIR as its working directory, alternating with the current
directory run by run; the change is reported with best and median of each,
the noise of the paired differences ("no measurable change" within it) and
the modules one tree loads and the other does not.
"""

EPILOG = """\
examples:
  advisor budget --max-ms 150 -- python -c "import mypkg"
  advisor budget --max-ms 300 --runs 9 -- mycli --help
  advisor budget --max-ms 150 --against ../main-checkout -- python -c "import mypkg"

exit codes: 0 within budget, 1 over budget, 2 usage error or CMD failed
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "budget", help=SUMMARIES["budget"], description=DESCRIPTION,
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--max-ms", type=float, required=True, metavar="N", help="the budget: median wall-clock ms")
    parser.add_argument("--runs", type=int, default=5, metavar="K", help="timed runs after one warm-up (default: 5)")
    parser.add_argument("--python", metavar="PATH",
                        help="interpreter whose bare startup imports are not blamed (default: CMD's, if CMD is python, else this one)")
    parser.add_argument("--against", type=Path, metavar="DIR",
                        help="an old tree: run CMD there too, alternating run by run, and report the change")
    parser.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ...", help="the command to time")
    parser.set_defaults(run=run_budget)


def run_budget(args: argparse.Namespace) -> int:
    from advisor.errors import UsageError
    from advisor.evidence.budget import CommandFailed, check_budget, format_verdict

    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise UsageError("no command to time: advisor budget --max-ms N -- CMD ...")
    if args.runs < 1:
        raise UsageError("--runs must be at least 1")
    if args.max_ms < 0:
        raise UsageError("--max-ms must not be negative")
    if args.against is not None and not args.against.is_dir():
        raise UsageError(f"--against {args.against}: not a directory")
    try:
        verdict = check_budget(cmd, args.max_ms, args.runs, args.python, against=args.against)
    except FileNotFoundError:
        raise UsageError(f"command not found: {cmd[0]}") from None
    except CommandFailed as exc:
        tail = "\n".join(exc.stderr.rstrip().splitlines()[-5:])
        print(f"advisor budget: {exc}; its time would mean nothing" + (f":\n{tail}" if tail else ""), file=sys.stderr)
        return 2
    sys.stdout.write(format_verdict(verdict))
    return 1 if verdict.over else 0
