"""Plain, picklable result data: no CST nodes, so results cross process
boundaries, land in the cache and serialize to JSON unchanged."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any, Literal

ImpactKind = Literal["startup", "runtime"]
#: Where an estimate comes from, most trustworthy first.
ImpactSource = Literal["importtime", "profile", "table", "config", "static"]
FixSafety = Literal["safe", "unsafe", "none"]


@dataclass(frozen=True, slots=True)
class Span:
    """A source range: lines 1-based, columns 0-based (as in the JSON output)."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True, slots=True)
class Impact:
    """What a finding is likely to cost, and how we know."""

    kind: ImpactKind
    estimate_ms: float | None = None
    source: ImpactSource = "static"


@dataclass(frozen=True, slots=True)
class FixInfo:
    """Whether ``advisor fix`` can repair the finding, and in which tier."""

    available: bool = False
    safety: FixSafety = "none"


@dataclass(frozen=True, slots=True)
class Finding:
    """One optimization opportunity at one place in one file."""

    rule: str
    path: str
    span: Span
    message: str
    impact: Impact
    fix: FixInfo = field(default_factory=FixInfo)
    #: Estimated saving x confidence; higher ranks first.
    score: float = 0.0
    #: Why the finding ranks where it does, in words (``cold: never sampled``).
    reason: str = ""
    #: Rule-specific facts (module name, functions, ...); JSON-serializable.
    data: dict[str, Any] = field(default_factory=dict)
    #: The stripped source line, used for a fingerprint that survives edits above.
    line_text: str = ""

    @property
    def fingerprint(self) -> str:
        """Stable identity: rule + path + the reported line's text, not its number."""
        key = f"{self.rule}\0{self.path}\0{self.line_text.strip()}\0{self.data.get('key', '')}"
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]

    def with_(self, **changes: Any) -> Finding:
        """Return a copy with some fields changed (findings are frozen)."""
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class FileError:
    """A file that could not be analysed, or a rule that crashed on it."""

    path: str
    #: One of: read, decode, parse, timeout, crash, rule.
    kind: str
    message: str
    rule: str | None = None
    #: A short traceback, shown only with ``--verbose``.
    detail: str = ""


@dataclass(frozen=True, slots=True)
class FileResult:
    """Everything one worker learned from one file."""

    path: str
    findings: tuple[Finding, ...] = ()
    errors: tuple[FileError, ...] = ()
    #: Project-wide facts (imports, patch targets, ...) merged in the main process.
    facts: dict[str, Any] = field(default_factory=dict)
    #: advisor.rank.outline.FileIndex without the text: functions, loops and names read,
    #: for static ranking (made in the worker, kept in the result cache).
    outline: Any = None
