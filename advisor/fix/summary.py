"""Text a person reads after ``advisor fix``: what changed where, what was
left alone and why; and the unified diff for ``--diff``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advisor.fix.runner import FileFix, FixReport
    from advisor.fix.entry_check import EntryCheck
    from advisor.fix.verify import VerifyResult


def unified_diff(report: "FixReport") -> str:
    """One unified diff for every file that would change (in path order)."""
    import difflib  # only `fix --diff` needs it

    chunks: list[str] = []
    for entry in sorted(report.changed, key=lambda f: f.display):
        before = entry.original.decode(entry.encoding).splitlines(keepends=True)
        after = (entry.fixed or b"").decode(entry.encoding).splitlines(keepends=True)
        name = entry.display.replace("\\", "/")
        chunks.extend(difflib.unified_diff(before, after, f"a/{name}", f"b/{name}"))
        if chunks and not chunks[-1].endswith(("\n", "\r")):
            chunks.append("\n\\ No newline at end of file\n")
    return "".join(chunks)


def render_summary(report: "FixReport", verified: "VerifyResult | None" = None,
                   checked: "EntryCheck | None" = None) -> str:
    """Changed files with what moved where; then what was left alone, and why."""
    lines: list[str] = []
    verb = "fixed" if report.written else "would fix"
    for entry in sorted(report.files.values(), key=lambda f: f.display):
        lines.extend(_file_lines(entry, verb))
    for kept in report.left_alone:
        cost = f" (~{kept.ms:.0f} ms)" if kept.ms is not None else ""
        lines.append(f"{kept.path}:{kept.line}: left alone: `{kept.statement}`{cost}: {kept.reason}")
    for error in report.errors:
        lines.append(f"{error.path}: not analysed ({error.kind}): {error.message}")
    changed = report.changed
    applied = sum(len(f.applied) for f in changed)
    left = sum(1 for f in report.files.values() for o in f.outcomes if not o.applied and o.finding not in f.applied)
    rolled = len({(f.display, o.finding.span.line, o.finding.data.get("statement")) for f in report.files.values()
                  for o in f.outcomes if o.applied and o.finding not in f.applied})
    tail = f"{applied} fix{'es' if applied != 1 else ''} in {len(changed)} file{'s' if len(changed) != 1 else ''}"
    tail += " written" if report.written else " (--diff: nothing written)"
    if rolled:
        tail += f"; {rolled} rolled back"
    if left:
        tail += f"; {left} left alone"
    if report.rounds > 1:
        tail += f"; {report.rounds} rounds"
    lines.append(f"advisor fix --rule {report.rule}: {tail}" if changed or left or rolled else
                 f"advisor fix --rule {report.rule}: nothing to fix")
    lines.extend(_expected_lines(report))
    lines.extend(f"note: {n}" for n in report.notices)
    if verified is not None:
        lines.extend(verified.lines())
    if checked is not None:
        lines.extend(checked.lines())
    return "\n".join(lines) + "\n"


def _file_lines(entry: "FileFix", verb: str) -> list[str]:
    lines = []
    if entry.skipped:
        return [f"{entry.display}: skipped: {entry.skipped}"]
    seen = set()
    for outcome in sorted(entry.outcomes, key=lambda o: o.finding.span.line):
        finding = outcome.finding
        key = (finding.data.get("statement"), outcome.applied, outcome.detail)
        if key in seen:
            continue
        seen.add(key)
        where = f"{entry.display}:{finding.span.line}"
        if outcome.applied and finding in entry.applied:
            lines.append(f"{where}: {verb}: {outcome.detail}")
        elif outcome.applied:
            why = entry.rolled_back or "the --verify command failed with it"
            lines.append(f"{where}: rolled back: {outcome.detail} ({why})")
        elif not outcome.applied and finding not in entry.applied:
            statement = finding.data.get("statement", finding.message)
            lines.append(f"{where}: left alone: `{statement}`: {outcome.detail}")
    if entry.changed and entry.checked and entry.checked != "compile()":
        lines.append(f"{entry.display}: checked with the {entry.checked}")
    return lines


def _expected_lines(report: "FixReport") -> list[str]:
    """The startup saving the fixes should bring, per entry point (the startup
    model's figure, computed with every fix together; not a measurement)."""
    if not report.expected:
        return []
    verb = "saving" if report.written else "saving if written"
    lines = [f"expected startup {verb}, per entry point (the startup model, all fixes together):"]
    for entry in sorted(report.expected, key=lambda e: (-float(e["saving_ms"]), str(e["name"]))):  # type: ignore[arg-type]
        lines.append(f"  {entry['name']}: ~{float(entry['saving_ms']):.0f} ms of ~{float(entry['total_ms']):.0f} ms")  # type: ignore[arg-type]
    return lines
