"""Renderers, one module per format, imported only when asked for.

Each is ``render(report, options) -> str``: pure, never prints or probes the
terminal (the CLI decides colour and passes it in).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from advisor.errors import UsageError

if TYPE_CHECKING:
    from advisor.findings import ScanReport

#: Format name -> "module:function".
RENDERERS: dict[str, str] = {
    "text": "advisor.report.text:render",
    "json": "advisor.report.json_report:render",
    "sarif": "advisor.report.sarif:render",
    "github": "advisor.report.github:render",
    "markdown": "advisor.report.markdown:render",
    "html": "advisor.report.html:render",
}
#: Output file extension -> format, for ``--output report.json`` without ``--format``.
EXTENSIONS: dict[str, str] = {
    # ".sarif.json" before ".json": the first matching suffix wins.
    ".sarif.json": "sarif", ".sarif": "sarif", ".json": "json", ".txt": "text",
    ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
}


@dataclass(frozen=True)
class RenderOptions:
    """What the CLI decided about the destination."""

    color: bool = False
    verbose: bool = False
    #: Show at most this many findings in formats meant for people (0: all).
    limit: int = 0


class Renderer(Protocol):
    def __call__(self, report: "ScanReport", options: RenderOptions) -> str: ...


def get_renderer(name: str) -> Renderer:
    """Import and return the renderer for ``name``."""
    try:
        path = RENDERERS[name]
    except KeyError:
        raise UsageError(f"unknown format {name!r}; choose from {', '.join(sorted(RENDERERS))}") from None
    module_name, _, attr = path.partition(":")
    return getattr(importlib.import_module(module_name), attr)  # type: ignore[no-any-return]


def guess_format(output: str | None) -> str | None:
    """The format implied by an output file's extension, if any."""
    if not output:
        return None
    for extension, name in EXTENSIONS.items():
        if output.lower().endswith(extension):
            return name
    return None


def startup_figures(report: "ScanReport") -> dict[str, Any] | None:
    """The scan's startup figures (``report.summary["startup"]``: computed on
    the startup graph, never a sum of findings), or None when no model ran."""
    figures = report.summary.get("startup") if isinstance(report.summary, dict) else None
    return figures if isinstance(figures, dict) and "startup_saving_ms" in figures else None


def headline_entry(report: "ScanReport") -> dict[str, Any] | None:
    """The entry point whose startup the findings shorten most (its name,
    ``total_ms``, ``saving_ms``, ``fixable_saving_ms``), as the model computed
    them together; None without startup figures or savings."""
    figures = startup_figures(report)
    entries = [e for e in (figures or {}).get("entries", []) if isinstance(e, dict) and e.get("saving_ms")]
    return max(entries, key=lambda e: (e["saving_ms"], e["name"])) if entries else None


def saving_totals(report: "ScanReport") -> dict[str, float]:
    """Savings to show per impact kind: startup from the model, for the entry
    it helps most (overlapping findings are not added up); run time from the
    findings' own figures."""
    totals: dict[str, float] = {}
    entry = headline_entry(report)
    if entry is not None:
        totals["startup"] = float(entry["saving_ms"])
    runtime = report.runtime_total_ms if report.runtime_total_ms is not None and any(
        f.impact.kind == "runtime" for f in report.findings) else \
        sum(f.impact.estimate_ms or 0.0 for f in report.findings if f.impact.kind == "runtime")  # (overlaps: ranking)
    if runtime:
        totals["runtime"] = runtime
    return totals
