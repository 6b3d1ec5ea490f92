"""``advisor fix``: apply a rule's safe fixes, then optionally prove them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from advisor.commands import SUMMARIES
from advisor.commands.common import Progress, add_config_options, load_config_for, with_measuring_interpreter

if TYPE_CHECKING:
    from advisor.config import Config
    from advisor.fix.entry_check import EntryCheck
    from advisor.fix.runner import FixReport

DESCRIPTION = """\
Rewrite files to apply a rule's fixes, keeping comments and formatting.
The whole project is scanned first so that project-wide safety checks see
every module and test; only files under the given PATHs are written. The
package being fixed is never imported (its import costs are derived from
what it imports, unless --measure-project); stub files (.pyi) are never
rewritten. See docs/security.md.

lazy-imports strategies (chosen per finding unless --strategy forces one):
  inline          move the import into each function that uses it (default below 3.15)
  type-checking   names used only in annotations go under `if TYPE_CHECKING:`
  lazy            `lazy import x` (PEP 810; default when target-version >= 3.15)
  lazy-modules    list the module in `__lazy_modules__` (only on request)
  getattr         a module __getattr__ imports it on first access (PEP 562): keeps the
                  module attribute; the default of unsafe-tier findings below 3.15
"""

EPILOG = """\
exit codes:
  0  done: every finding was fixed (or there was nothing to fix);
     with --diff: nothing would change
  1  some findings were left as they were (see the summary), or --verify
     rolled fixes back; with --diff: there are changes to apply
  2  usage or configuration error, a file could not be analysed or written,
     or the --verify command fails even with every fix rolled back

examples:
  advisor fix src --rule lazy-imports --diff
  advisor fix src --rule lazy-imports --verify "pytest -q" --measure "python -c 'import pkg'"
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "fix", help=SUMMARIES["fix"],
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or directories to fix (default: .)")
    parser.add_argument("--rule", default="lazy-imports", metavar="ID", help="the rule whose findings to fix (default: lazy-imports)")
    parser.add_argument("--diff", action="store_true", help="print a unified diff and write nothing")
    parser.add_argument("--unsafe", action="store_true", help="also apply fixes the rule marks unsafe")
    parser.add_argument("--strategy", choices=("inline", "type-checking", "lazy", "lazy-modules", "getattr"),
                        help="force one lazy-imports strategy (findings it cannot serve are left alone)")
    parser.add_argument("--verify", metavar="CMD", help="run CMD after fixing; roll back the fixes that make it fail, "
                        "then import the entry points before and after and roll back files that removed nothing")
    parser.add_argument("--measure", metavar="CMD", help="time CMD on the tree before and after fixing, run by run, with a noise estimate")
    parser.add_argument("--runs", type=int, default=7, metavar="N", help="timed runs per side for --measure, after one warm-up (default 7)")
    parser.add_argument("--timeout", type=float, default=1800.0, metavar="S", help="time limit of one --verify/--measure run (default 1800)")
    parser.add_argument("--profile", metavar="FILE", help="a profile: never defer into the functions it shows are hot "
                        "(default: .advisor/profile.pyisession if present, as scan uses it)")
    parser.add_argument("--no-profile", action="store_true", help="ignore .advisor/profile.pyisession")
    add_config_options(parser)
    run = parser.add_argument_group("execution")
    run.add_argument("--jobs", "-j", type=int, metavar="N", help="worker processes (default: all cores)")
    run.add_argument("--no-cache", action="store_true", help="ignore and do not update the result cache")
    run.add_argument("--no-measure", action="store_true", help="do not measure import costs; use the bundled table")
    run.add_argument("--quiet", "-q", action="store_true", help="print only the diff (with --diff) and errors")
    parser.set_defaults(run=run_fix_command)


def run_fix_command(args: argparse.Namespace) -> int:
    from advisor.config import with_overrides
    from advisor.errors import UsageError
    from advisor.fix.runner import FixRequest, run_fix

    if args.diff and (args.verify or args.measure):
        raise UsageError("--diff writes nothing, so it cannot be combined with --verify or --measure")
    if args.runs < 1 or (args.jobs is not None and args.jobs < 1):
        raise UsageError("--runs and --jobs must be at least 1")
    paths = args.paths or [Path(".")]
    config = load_config_for(paths, args)
    if args.no_measure:
        config = with_overrides(config, measure_imports=False)
    config = with_measuring_interpreter(config, paths, args)
    if args.profile and args.no_profile:
        raise UsageError("--profile and --no-profile contradict each other")
    profile, profile_note = _profile_for(args, config.root)
    hot = _hot_functions(profile, config, saved=bool(profile_note)) if profile else {}
    if hot is None:  # the saved profile was unusable (said on stderr)
        hot, profile_note = {}, ""
    cwd = Path.cwd()
    progress = Progress(enabled=not args.quiet)
    request = FixRequest(paths=paths, rule=args.rule, strategy=args.strategy, unsafe=args.unsafe,
                         write=not args.diff, jobs=args.jobs, use_cache=not args.no_cache, hot=hot)
    try:
        if args.diff:
            from advisor.fix.preview import preview_fix

            report = preview_fix(request, config, progress)
        else:
            report = run_fix(request, config, progress)
    finally:
        progress.clear()
    if profile_note:
        report.notices.append(profile_note)
    out = sys.stdout
    if args.diff:
        from advisor.fix.summary import unified_diff

        out.write(unified_diff(report))
    verified = checked = None
    if args.verify and report.changed:
        from advisor.fix.verify import verify

        verified = verify(args.verify, report, cwd, args.timeout)
        checked = _check_entries(args.verify, report, config, cwd, args.timeout) if not verified.broken else None
        if report.expected_for is not None:  # the saving of what stays written, not of what went back
            report.expected = report.expected_for([f for entry in report.changed for f in entry.applied])
    if not args.quiet or not args.diff:
        from advisor.fix.summary import render_summary

        (sys.stderr if args.diff else out).write(render_summary(report, verified, checked))
    if args.measure:
        out.write(_measure(args.measure, report, args.runs, cwd, args.timeout))
    rolled = checked is not None and bool(checked.rolled_back or checked.reverted_all)
    return _exit_code(report, verified, args.diff) or (1 if rolled else 0)


def _check_entries(command: str, report: "FixReport", config: "Config", cwd: Path, timeout: float) -> "EntryCheck":
    """--verify: import the entries before and after; roll back what removed nothing."""
    from advisor.fix.entry_check import check_entries
    from advisor.fix.verify import command_runner

    return check_entries(report, config.python, config.root, command_runner(command, cwd, timeout), timeout)


def _measure(command: str, report: "FixReport", runs: int, cwd: Path, timeout: float) -> str:
    """Interleaved runs of ``command`` on the tree as it was and as it is now
    (after fixing and any --verify rollback)."""
    from advisor.fix.measure import Version, current_versions, measure_fix

    now = current_versions([entry.path for entry in report.changed])
    was = [Version(v.path, entry.original, v.mtime_ns - 2_000_000_000) for v, entry in zip(now, report.changed)]
    changed = [(w, n) for w, n in zip(was, now) if w.data != n.data]
    if not changed:
        return f"measure: `{command}`: no file changed, nothing to measure\n"
    measured = measure_fix(command, [w for w, _ in changed], [n for _, n in changed], runs, cwd, timeout)
    from advisor.fix.paid import roll_back_what_removed_nothing

    return measured.render() + roll_back_what_removed_nothing(report, measured)


def _profile_for(args: argparse.Namespace, root: Path) -> tuple[str | None, str]:
    """The profile whose hot functions stay free of imports: --profile, else the
    one `advisor profile` saved (said in a note), unless --no-profile or --isolated."""
    if args.profile or args.no_profile or args.isolated:
        return args.profile, ""
    from advisor.evidence.profile import DEFAULT_PROFILE

    saved = root / DEFAULT_PROFILE
    if not saved.is_file():
        return None, ""
    return str(saved), f"hot functions from {DEFAULT_PROFILE} recorded by `advisor profile` (--no-profile to ignore)"


def _hot_functions(profile: str, config: Config, saved: bool) -> dict[str, frozenset[str]] | None:
    """``saved``: the tree's own file, not one the user named: read as text or
    JSON only, and ignored with a notice when unusable, as scan does (None)."""
    from advisor.evidence.hot import hot_functions
    from advisor.evidence.profile import ProfileError

    if not saved:
        return hot_functions(Path(profile), config)
    try:
        return hot_functions(Path(profile), config, allow_marshal=False)
    except ProfileError as exc:
        print(f"advisor: ignored the saved profile: {exc}", file=sys.stderr)
        return None


def _exit_code(report: "FixReport", verified: object, diff: bool) -> int:
    if report.errors or any(f.skipped for f in report.files.values()):
        return 2
    if verified is not None and getattr(verified, "broken", False):
        return 2
    if diff:
        return 1 if report.changed else 0
    left = any(not o.applied for f in report.files.values() for o in f.outcomes if o.finding not in f.applied)
    if left or (verified is not None and getattr(verified, "rolled_back", None)):
        return 1
    return 0
