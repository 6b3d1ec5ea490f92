"""``advisor profile``: run a Python command under pyinstrument, save the
session where ``advisor scan`` finds it, and say where the time went."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from advisor.commands import SUMMARIES

DESCRIPTION = """\
Run a Python program under pyinstrument in its own interpreter and save the
session (default .advisor/profile.pyisession in the project root), which
`advisor scan` then uses to rank findings by measured time. CMD is
`python -m pkg ...`, `python script.py ...` or a console script.
With --imports the command runs a second time with `python -X importtime`
and the log is saved next to the session (.advisor/importtime.log).
"""

#: Interpreter options that take a separate value (`-X importtime`, `-W error`).
_VALUE_OPTIONS = {"-X", "-W", "--check-hash-based-pycs"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "profile", help=SUMMARIES["profile"], description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example: advisor profile --imports -- python -m myapp build\n"
               "exit codes: the command's own when it fails, 2 when it cannot be profiled",
    )
    parser.add_argument("--out", "-o", type=Path, metavar="FILE", help="where to save the session (default: .advisor/profile.pyisession)")
    parser.add_argument("--imports", action="store_true", help="also record a -X importtime log (runs the command twice)")
    parser.add_argument("--interval", type=float, default=0.001, metavar="S", help="seconds between samples (default 0.001)")
    parser.add_argument("--limit", type=int, default=8, metavar="N", help="functions to list in the summary (default 8)")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]")
    parser.set_defaults(run=run_profile)


def run_profile(args: argparse.Namespace) -> int:
    from advisor.config import find_project_root
    from advisor.errors import UsageError
    from advisor.evidence.profile import DEFAULT_IMPORTTIME, DEFAULT_PROFILE, load_evidence
    from advisor.rank.score import time_table

    import subprocess

    command = args.command[1:] if args.command[:1] == ["--"] else list(args.command)
    if not command:
        raise UsageError("give the command to profile after `--`, e.g. advisor profile -- python -m myapp")
    python, options, target = split_python_command(command)
    _check_pyinstrument(python)
    root = find_project_root(Path.cwd())
    out = args.out or root / DEFAULT_PROFILE
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")  # an earlier session survives a failed run
    argv = [python, *options, "-m", "pyinstrument", "-o", str(partial), "-r", "pyisession", "-i", str(args.interval), *target]
    code = subprocess.run(argv).returncode
    if not partial.is_file() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        raise UsageError(f"no profile saved: the command failed before pyinstrument could save a session (exit status {code})")
    os.replace(partial, out)
    sources = [out]
    if args.imports:
        log = out.parent / DEFAULT_IMPORTTIME.name if args.out else root / DEFAULT_IMPORTTIME
        _record_importtime(python, options, target, log)
        sources.append(log)
    evidence = load_evidence(sources)
    print(f"advisor: saved {_shown(out)} ({evidence.total_s:.2f} s sampled)" + (f" and {_shown(sources[1])}" if args.imports else ""),
          file=sys.stderr)
    table = time_table(evidence, args.limit)
    sys.stdout.write("\n".join(table) + "\n" if table else "no time sampled in application code\n")
    if code:
        print(f"advisor: note: the command exited with status {code}", file=sys.stderr)
    return code


def split_python_command(command: list[str]) -> tuple[str, list[str], list[str]]:
    """(interpreter, its options, target) for `python [opts] -m mod|-c code|script args`
    or a console script (its interpreter is read from the shebang)."""
    import shutil

    from advisor.errors import UsageError

    first = command[0]
    if _is_python(first):
        python = shutil.which(first) or first
        options, rest = _split_options(command[1:])
        if not rest:
            raise UsageError("the command starts no program: give `-m MODULE`, `-c CODE` or a script")
        if rest[0] not in ("-m", "-c"):
            rest = [os.path.abspath(rest[0]), *rest[1:]]  # absolute, so frames name the real file
        return python, options, rest
    script = shutil.which(first) or (first if os.path.isfile(first) else None)
    interpreter = _shebang_python(Path(script)) if script else None
    if not script or not interpreter:
        raise UsageError(f"`{first}` is not a Python program advisor can profile; run `python -m ...` or a script instead")
    return interpreter, [], [os.path.abspath(script), *command[1:]]


def _is_python(word: str) -> bool:
    name = Path(word).name.lower().removesuffix(".exe")
    return name.startswith(("python", "pypy")) and all(c.isdigit() or c == "." for c in name.lstrip("pythonpy"))


def _split_options(args: list[str]) -> tuple[list[str], list[str]]:
    options: list[str] = []
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] not in ("-m", "-c", "-"):
        options.append(args[index])
        if args[index] in _VALUE_OPTIONS and index + 1 < len(args):
            index += 1
            options.append(args[index])
        index += 1
    return options, args[index:]


def _shebang_python(script: Path) -> str | None:
    import shutil

    try:
        with script.open("rb") as handle:
            head = handle.read(512).decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    if not head or not head[0].startswith("#!"):
        return None
    words = head[0][2:].split()
    if words and Path(words[0]).name == "env":
        words = words[1:]
    if words and _is_python(words[0]):
        return shutil.which(words[0]) or words[0]
    if len(head) > 1 and head[1].startswith("'''exec' "):  # pip's launcher for long interpreter paths
        return head[1].split()[1]
    return None


def _check_pyinstrument(python: str) -> None:
    import subprocess

    from advisor.errors import UsageError

    try:
        found = subprocess.run([python, "-c", "import pyinstrument"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError) as exc:
        raise UsageError(f"cannot run {python}: {exc}") from None
    if not found:
        raise UsageError(f"pyinstrument is not installed for {python}; install it there: {python} -m pip install pyinstrument")


def _record_importtime(python: str, options: list[str], target: list[str], log: Path) -> None:
    """Run the command again with -X importtime; keep its import lines, pass the rest on."""
    import subprocess

    print("advisor: running the command again with -X importtime", file=sys.stderr)
    result = subprocess.run([python, "-X", "importtime", *options, *target], stderr=subprocess.PIPE, text=True, errors="replace")
    lines = result.stderr.splitlines(keepends=True)
    log.write_text("".join(line for line in lines if line.startswith("import time:")), "utf-8")
    sys.stderr.write("".join(line for line in lines if not line.startswith("import time:")))


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)
