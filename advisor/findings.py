"""Plain, picklable result data: no CST nodes, so results cross process
boundaries, land in the cache and serialize to JSON unchanged."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Literal

if TYPE_CHECKING:
    from advisor.evidence.profile import Evidence
    from advisor.project import Project
    from advisor.rank.outline import FileIndex

ImpactKind = Literal["startup", "runtime"]
#: Where an estimate comes from, most trustworthy first.
#: "derived": a project module's cost, summed from the measured costs of the
#: installed and stdlib modules its static import closure reaches.
ImpactSource = Literal["observed", "importtime", "derived", "profile", "table", "config", "static"]
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
    #: What a recorded run showed (advisor profile): calls, round trips, seconds, bytes.
    #: JSON-serializable; documented in docs/json-schema.md. Empty without runtime evidence.
    evidence: dict[str, Any] = field(default_factory=dict)

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
    #: Rule id -> that rule's facts for this file, merged project-wide in the main process.
    facts: dict[str, Any] = field(default_factory=dict)
    #: Modules the file imports when it is imported (advisor.engine.module_imports).
    imports: tuple[str, ...] = ()
    #: advisor.rank.outline.FileIndex without the text: functions, loops and names read,
    #: for static ranking (made in the worker, kept in the result cache).
    outline: FileIndex | None = None


@dataclass
class ScanReport:
    """What a scan found, ready for any renderer."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    files: int = 0
    cached: int = 0
    seconds: float = 0.0
    #: When the whole answer came from the last scan's memo: how long that
    #: scan took (``seconds`` is then only the time to check nothing changed).
    computed_seconds: float | None = None
    rules: list[str] = field(default_factory=list)
    #: Things the user should know about how the results were obtained.
    notices: list[str] = field(default_factory=list)
    #: Profiles and import-time logs the ranking used (None: static ranking).
    evidence: "Evidence | None" = None
    #: The interpreter import costs are measured in: {"python": path, "source":
    #: how it was chosen} (advisor.interpreter); None when nothing is measured.
    interpreter: dict[str, str] | None = None
    #: "Where the time goes" lines from the evidence (top functions, top imports), made by ranking.
    time_table: list[str] = field(default_factory=list)
    #: With a profile: what fixing every run-time finding saves at most, in ms
    #: (overlapping lines counted once, never more than the profile), made by
    #: ranking; None: the renderers add up the findings' estimates.
    runtime_total_ms: float | None = None
    #: Findings the rules reported per file but their project-wide step left
    #: out (another module needs the import eagerly, ...): ``advisor fix`` says why.
    dropped: list[Finding] = field(default_factory=list)
    #: Builds the project model (set by the engine; see ``project()``).
    project_loader: "Callable[[], Project] | None" = field(default=None, repr=False, compare=False)

    def project(self) -> "Project | None":
        """The project model the rules' project-wide steps saw (built on demand
        when the whole-scan memo answered); None for a hand-made report."""
        return self.project_loader() if self.project_loader is not None else None
