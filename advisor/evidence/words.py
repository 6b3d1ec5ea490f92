"""Runtime evidence in words, the same in every report: "1,800 queries of one
shape from pricing.py:7, 0.31 s". Figures are printed as recorded, rounded
only for display."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: Version of the ``evidence`` object findings carry (docs/json-schema.md).
EVIDENCE_VERSION = 1


def count(n: int) -> str:
    return f"{n:,}"


def plural(n: int, word: str) -> str:
    return f"{count(n)} {word}{'' if n == 1 else 's'}"


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value >= 0.1 else f"{value * 1000:.1f} ms"


def megabytes(value: int) -> str:
    return f"{value / 1e6:.1f} MB" if value >= 100_000 else f"{value / 1e3:.1f} kB"


def place(path: str, line: int, root: Path | None = None) -> str:
    """``pricing.py:7``, relative to the root when given (else the file name)."""
    if root is not None:
        try:
            shown = os.path.relpath(path, root)
        except ValueError:
            shown = path
        if not shown.startswith(".."):
            return f"{shown}:{line}"
    return f"{os.path.basename(path)}:{line}"


def describe(evidence: dict[str, Any]) -> str:
    """One sentence for a finding's ``evidence`` object ("" when empty)."""
    parts = []
    if "round_trips" in evidence:
        noun = "quer" + ("ies" if evidence["round_trips"] != 1 else "y") if evidence.get("kind") == "sql" else (
            "request" if evidence["round_trips"] == 1 else "requests")
        text = f"{count(evidence['round_trips'])} {noun} of one shape from {evidence.get('site', '?')}"
        if evidence.get("loop"):
            text += f" in the loop at {evidence['loop']}"
        parts.append(text)
    if "calls" in evidence:
        text = f"{plural(evidence['calls'], 'call')} with {plural(evidence.get('distinct_args', 0), 'distinct argument')}"
        if evidence.get("results") == "equal":
            text += ", equal results for equal arguments"
        parts.append(text)
    if "seconds" in evidence:
        traced = " (timed while tracing memory, so inflated)" if evidence.get("timed_with_memory_tracing") else ""
        parts.append(seconds(float(evidence["seconds"])) + traced)
    if "share" in evidence:
        parts.append(f"{float(evidence['share']):.0%} of sampled time")
    if "import_bytes" in evidence:
        parts.append(f"its first import kept {megabytes(int(evidence['import_bytes']))} in the recorded run")
    if "peak_bytes" in evidence:
        parts.append(f"{megabytes(int(evidence['peak_bytes']))} held at the memory peak")
    if evidence.get("runs", 1) > 1:
        parts.append(f"over {evidence['runs']} runs")
    return ", ".join(parts)
