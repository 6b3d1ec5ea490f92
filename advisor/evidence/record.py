"""``advisor profile``'s run: the command under the recorder (pyinstrument
plus round trips, calls and memory; see advisor/evidence/recorder/), then the
session and the runtime evidence moved into place, or merged with the saved
ones (``--merge``). A failed run leaves the earlier files as they were."""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

from advisor.errors import UsageError
from advisor.evidence import runtime as runtime_file


def record_run(python: str, options: list[str], target: list[str], root: Path, out: Path, partial: Path,
               args: argparse.Namespace) -> tuple[int, Path]:
    """Run ``target``; return its exit status and where the runtime evidence went."""
    from advisor.evidence.recorder.bootstrap import command

    runtime = out.with_name("runtime.json") if args.out else root / runtime_file.DEFAULT_RUNTIME
    runtime_partial = runtime.with_name(runtime.name + ".partial")
    flags = ["--session", str(partial), "--runtime", str(runtime_partial), "--root", str(root),
             "--interval", str(args.interval)]
    flags += ["--memory"] if getattr(args, "memory", False) else []
    flags += ["--no-calls"] if getattr(args, "no_calls", False) else []
    flags += ["--sampler", getattr(args, "sampler", "thread")]
    code = subprocess.run(command(python, options, flags, target)).returncode
    if not partial.is_file() or partial.stat().st_size == 0 or not runtime_partial.is_file():
        partial.unlink(missing_ok=True)
        runtime_partial.unlink(missing_ok=True)
        raise UsageError(f"no profile saved: the command failed before advisor could save its evidence (exit status {code})")
    if getattr(args, "merge", False):
        _merge_session(out, partial)
        _merge_runtime(runtime, runtime_partial)
    os.replace(partial, out)
    os.replace(runtime_partial, runtime)
    return code, runtime


def _merge_session(saved: Path, new: Path) -> None:
    """pyinstrument's own ``Session.combine``, written over the new file."""
    if not saved.is_file():
        return
    from pyinstrument.session import Session

    try:
        combined = Session.combine(Session.load(saved), Session.load(new))
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"cannot merge with {saved}: {exc}") from None
    combined.save(new)


def _merge_runtime(saved: Path, new: Path) -> None:
    if not saved.is_file():
        return
    try:
        merged = runtime_file.merge([runtime_file.load(saved), runtime_file.load(new)])
    except runtime_file.RuntimeFormatError as exc:
        raise UsageError(f"cannot merge with {saved}: {exc}") from None
    runtime_file.save(merged, new)
