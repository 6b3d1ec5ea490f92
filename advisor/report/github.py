"""GitHub Actions workflow commands: one ``::warning`` annotation per finding.

GitHub shows annotations on the pull request's diff. It displays only the
first few per step, so findings come costliest first (the report's order).
Escaping follows the runner's rules (actions/toolkit ``command.ts``): in the
message ``%``, CR and LF are percent-encoded; in properties ``:`` and ``,``
are too, since they delimit the property list.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advisor.engine.scan import ScanReport
    from advisor.findings import Finding
    from advisor.report import RenderOptions


def escape_data(text: str) -> str:
    """Escape a command's message (after ``::``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (``file=...``, ``title=...``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: object) -> str:
    """``::name key=value,...::message`` with everything escaped."""
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value is not None)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def render(report: "ScanReport", options: "RenderOptions") -> str:
    lines = [_finding(f) for f in report.findings]
    for error in report.errors:
        rule = f" (rule {error.rule})" if error.rule else ""
        lines.append(command("error", f"not analysed{rule}: {error.message}", file=error.path,
                             title=f"advisor: {error.kind} error"))
    for notice in report.notices:
        lines.append(command("notice", notice, title="advisor"))
    return "".join(line + "\n" for line in lines)


def _finding(finding: "Finding") -> str:
    span = finding.span
    saving = finding.impact.estimate_ms
    title = f"advisor {finding.rule}"
    if saving is not None:
        title += f": ~{saving:.0f} ms {finding.impact.kind}"
    message = finding.message
    path = shlex.quote(finding.path)
    if finding.fix.safety == "safe":
        message += f"\nFix: advisor fix --rule {finding.rule} {path}"
    elif finding.fix.safety == "unsafe":
        message += f"\nFix (review it): advisor fix --unsafe --rule {finding.rule} {path}"
    end_line = span.end_line if span.end_line >= span.line else None
    return command(
        "warning", message,
        file=finding.path, line=span.line, endLine=end_line,
        col=span.column + 1, endColumn=span.end_column + 1 if end_line == span.line else None,
        title=title,
    )
