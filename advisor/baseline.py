"""Baselines: adopt advisor on a large codebase and fail only on new findings.

A baseline file records the fingerprints of the findings a team accepts for
now. ``Finding.fingerprint`` hashes the rule, the path, the reported line's
stripped text and a rule-specific key -- not the line number -- so inserting
or deleting lines above a finding keeps it matched, while a new finding (or
the same pattern on a changed line) is reported.

Paths are made relative to the baseline file's directory before hashing, so
the same baseline matches whether ``advisor scan`` runs from the repository
root, a subdirectory, or pre-commit.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from advisor.errors import ConfigError, UsageError
from advisor.findings import Finding

#: Bump when the file layout or the fingerprint recipe changes.
BASELINE_VERSION = 1


def baseline_key(finding: Finding, base_dir: Path) -> str:
    """The finding's fingerprint with its path relative to ``base_dir`` (POSIX)."""
    return finding.with_(path=_relative_path(finding.path, base_dir)).fingerprint


def _relative_path(path: str, base_dir: Path) -> str:
    try:
        relative = os.path.relpath(os.path.abspath(path), os.path.abspath(base_dir))
    except ValueError:  # another drive on Windows: keep the path as given
        relative = path
    return Path(relative).as_posix()


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    """Record ``findings`` in ``path`` (atomically); return how many."""
    import json

    from advisor import __version__
    from advisor.atomic import atomic_write_text

    base_dir = path.parent
    entries = [
        {
            "fingerprint": baseline_key(f, base_dir),
            "rule": f.rule,
            "path": _relative_path(f.path, base_dir),
            "line": f.span.line,
            "message": f.message,
        }
        for f in findings
    ]
    entries.sort(key=lambda e: (e["path"], e["line"], e["rule"], e["fingerprint"]))
    document = {
        "version": BASELINE_VERSION,
        "tool": f"advisor {__version__}",
        "comment": "Findings accepted for now; advisor scan --baseline reports only new ones. "
        "Matched by fingerprint (rule, path, line text), not by line number.",
        "findings": entries,
    }
    atomic_write_text(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return len(entries)


def load_baseline(path: Path) -> Counter[str]:
    """Fingerprint -> how many findings with it the baseline accepts."""
    import json

    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise UsageError(f"baseline file {path} does not exist (create it with --write-baseline {path})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read baseline file {path}: {exc}") from None
    try:
        document: Any = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"baseline file {path} is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("version") != BASELINE_VERSION:
        version = document.get("version") if isinstance(document, dict) else None
        raise ConfigError(
            f"baseline file {path} has version {version!r}; this advisor reads version {BASELINE_VERSION} "
            f"(re-create it with --write-baseline)"
        )
    entries = document.get("findings")
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries):
        raise ConfigError(f"baseline file {path}: `findings` must be a list of entries with a `fingerprint`")
    return Counter(e["fingerprint"] for e in entries)


def filter_new(findings: Iterable[Finding], accepted: Counter[str], base_dir: Path) -> tuple[list[Finding], int]:
    """Findings not covered by the baseline, and how many were covered.

    Counts matter: if the baseline holds one copy of a fingerprint and the
    scan finds two (the same line pasted twice), one is new.
    """
    remaining = Counter(accepted)
    new: list[Finding] = []
    hidden = 0
    for finding in findings:
        key = baseline_key(finding, base_dir)
        if remaining[key] > 0:
            remaining[key] -= 1
            hidden += 1
        else:
            new.append(finding)
    return new, hidden
