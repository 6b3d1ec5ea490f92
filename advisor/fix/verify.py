"""``--verify CMD``: prove the fixes, or find and roll back the ones that
break CMD.

1. Run CMD with every fix in place; if it passes, keep everything.
2. Else run it with every fix rolled back: if it fails there too, the fixes
   are not the cause; they are all rolled back and the run is reported broken.
3. Else try each fixed file alone (the others rolled back); for each file
   that fails alone, try each of its findings alone.
4. Write what passed alone, together, and run CMD once more; if the
   combination fails, roll everything back (fixes that interact).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from advisor.fix.runner import refix, restore

if TYPE_CHECKING:
    from advisor.findings import Finding
    from advisor.fix.runner import FileFix, FixReport

Runner = Callable[[], tuple[bool, str]]


@dataclass
class VerifyResult:
    """What --verify kept and rolled back, in words and data."""

    command: str
    runs: int = 0
    kept: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    #: CMD fails even with no fix applied (or with the surviving ones).
    broken: bool = False
    output: str = ""

    def lines(self) -> list[str]:
        head = f"verify: `{self.command}` ran {self.runs} time{'s' if self.runs != 1 else ''}"
        if self.broken:
            return [f"{head}: it fails even without the fixes: every fix was rolled back", *_tail(self.output)]
        if not self.rolled_back:
            return [f"{head}: passes with every fix kept"]
        out = [f"{head}: kept {len(self.kept)}, rolled back {len(self.rolled_back)}"]
        out.extend(f"  rolled back: {item}" for item in self.rolled_back)
        out.extend(f"  kept: {item}" for item in self.kept)
        return out + _tail(self.output)


def _tail(output: str, lines: int = 8) -> list[str]:
    text = output.strip().splitlines()[-lines:]
    return [f"  | {line}" for line in text]


def command_runner(command: str, cwd: Path, timeout: float) -> Runner:
    """Run ``command`` through the shell; (passed, combined output)."""
    import subprocess

    def run() -> tuple[bool, str]:
        try:
            done = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, f"timed out after {timeout:.0f} s"
        return done.returncode == 0, (done.stdout or "") + (done.stderr or "")
    return run


def verify(command: str, report: "FixReport", cwd: Path, timeout: float) -> VerifyResult:
    return verify_with(command_runner(command, cwd, timeout), command, report.changed)


def verify_with(run: Runner, command: str, files: list["FileFix"]) -> VerifyResult:
    """The algorithm, with CMD injected (tests pass a fake)."""
    result = VerifyResult(command)

    def attempt() -> bool:
        result.runs += 1
        passed, output = run()
        if not passed:
            result.output = output
        return passed

    if attempt():
        result.kept = [_name(f, x) for f in files for x in f.applied]
        return result
    for entry in files:
        restore(entry, entry.original)
    if not attempt():
        result.broken = True
        result.rolled_back = [_name(f, x) for f in files for x in f.applied]
        _forget(files)
        return result
    keep: dict[int, list[Finding]] = {}
    for index, entry in enumerate(files):
        restore(entry, entry.fixed or entry.original)
        passed = attempt()
        restore(entry, entry.original)
        if passed:
            keep[index] = list(entry.applied)
            continue
        keep[index] = []
        for finding in entry.applied:
            restore(entry, refix(entry, [finding]))
            if attempt():
                keep[index].append(finding)
            restore(entry, entry.original)
    return _finish(files, keep, attempt, result)


def _finish(files: list["FileFix"], keep: dict[int, list["Finding"]], attempt: Callable[[], bool],
            result: VerifyResult) -> VerifyResult:
    for index, entry in enumerate(files):
        if keep[index]:
            data = entry.fixed if keep[index] == entry.applied else refix(entry, keep[index])
            restore(entry, data or entry.original)
    if any(keep.values()) and not attempt():
        for entry in files:
            restore(entry, entry.original)
        keep = {i: [] for i in keep}
    for index, entry in enumerate(files):
        kept = keep[index]
        result.kept.extend(_name(entry, f) for f in kept)
        result.rolled_back.extend(_name(entry, f) for f in entry.applied if f not in kept)
        if kept != entry.applied:
            entry.fixed = refix(entry, kept) if kept else None
            entry.applied = list(kept)
    return result


def _forget(files: list["FileFix"]) -> None:
    for entry in files:
        entry.fixed, entry.applied = None, []


def _name(entry: "FileFix", finding: "Finding") -> str:
    return f"{entry.display}:{finding.span.line} `{finding.data.get('statement', finding.message)}`"


__all__ = ["VerifyResult", "verify", "verify_with"]
