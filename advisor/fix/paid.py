"""After ``fix --measure``: roll back a written file whose fixes removed
nothing from the measured command's startup.

Why: the startup model says what a fix should stop loading; the measured
run (one ``-X importtime`` log per variant) says what it did. A file whose
module the command loads, yet whose deferred modules all still load, was
rewritten for nothing: it goes back to its original bytes, and the summary
says so. A file the command never loads is no evidence either way: kept.
Running the command is the user's explicit choice (``--measure``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from advisor.findings import Finding
    from advisor.fix.measure import Measurement
    from advisor.fix.runner import FixReport


def roll_back_what_removed_nothing(report: "FixReport", measured: "Measurement") -> str:
    """Restore each such file; the lines that say which and why ("" when none)."""
    from advisor.fix.runner import restore
    from advisor.source import module_name

    if not measured.delta.logged or not measured.loaded_after:
        return ""
    lines = []
    for entry in report.changed:
        module = module_name(entry.path)
        deferred = deferred_modules(entry.applied)
        if not deferred or module not in measured.loaded_after:
            continue
        if deferred & set(measured.delta.removed):
            continue
        restore(entry, entry.original)
        entry.fixed = entry.original
        kept = ", ".join(sorted(deferred)[:3])
        lines.append(f"  rolled back {entry.display}: `{measured.command}` still loads {kept} with it fixed")
    return "\n".join(lines) + "\n" if lines else ""


def deferred_modules(findings: Iterable["Finding"]) -> set[str]:
    """The modules the applied lazy-imports fixes stop importing eagerly
    (``from pkg import sub`` may name a submodule: both are candidates)."""
    found: set[str] = set()
    for finding in findings:
        statement = str(finding.data.get("statement", ""))
        parts = statement.split()
        if len(parts) < 2:
            continue
        found.add(parts[1])
        if parts[0] == "from":
            found.update(f"{parts[1]}.{name.strip(',')}" for name in parts[3:])
    return found


__all__ = ["deferred_modules", "roll_back_what_removed_nothing"]
