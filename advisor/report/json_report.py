"""JSON output, schema version 1 (documented in docs/json-schema.md)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from advisor import __version__

if TYPE_CHECKING:
    from advisor.findings import ScanReport
    from advisor.findings import FileError, Finding
    from advisor.report import RenderOptions

SCHEMA_VERSION = 1


def finding_to_dict(finding: "Finding") -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "path": finding.path,
        "line": finding.span.line,
        "column": finding.span.column,
        "end_line": finding.span.end_line,
        "end_column": finding.span.end_column,
        "message": finding.message,
        "score": finding.score,
        "impact": {
            "kind": finding.impact.kind,
            "estimate_ms": finding.impact.estimate_ms,
            "source": finding.impact.source,
        },
        "fix": {"available": finding.fix.available, "safety": finding.fix.safety},
        "reason": finding.reason,
        "fingerprint": finding.fingerprint,
        "data": {k: v for k, v in finding.data.items() if k != "key"},
        "evidence": dict(finding.evidence),
    }


def error_to_dict(error: "FileError") -> dict[str, Any]:
    entry: dict[str, Any] = {"path": error.path, "kind": error.kind, "message": error.message}
    if error.rule:
        entry["rule"] = error.rule
    return entry


def render(report: "ScanReport", options: "RenderOptions") -> str:
    document = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "advisor", "version": __version__},
        "findings": [finding_to_dict(f) for f in report.findings],
        "errors": [error_to_dict(e) for e in report.errors],
        "summary": {
            "files": report.files,
            "cached": report.cached,
            "findings": len(report.findings),
            "errors": len(report.errors),
            "seconds": round(report.seconds, 3),
            "rules": report.rules,
            "notices": report.notices,
            "interpreter": report.interpreter,
            **_startup(report),
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _startup(report: "ScanReport") -> dict[str, Any]:
    """The startup model's figures (docs/json-schema.md), when it ran."""
    from advisor.report import startup_figures

    figures = startup_figures(report)
    if figures is None:
        return {}
    return {"startup_total_ms": figures["startup_total_ms"], "startup_saving_ms": figures["startup_saving_ms"],
            "fixable_saving_ms": figures["fixable_saving_ms"], "startup_source": figures.get("source", ""),
            "startup_project_timed": bool(figures.get("project_timed", False)),
            "startup_entries": figures.get("entries", [])}
