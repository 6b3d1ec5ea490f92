"""The rule API: a rule declares itself completely (id, docs, examples, fix
tier, metadata it needs, typed options) and reports findings on CST nodes.

Rule classes do not import libcst at class-definition time, so the registry,
``advisor rules`` / ``advisor explain`` and the cache-hit path stay light.
The worker wraps each rule in a libcst batchable visitor (see analysis.py).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Mapping, TypeVar

from advisor.errors import ConfigError, RuleDefinitionError
from advisor.findings import Finding, FixSafety, Impact, ImpactKind, Span

if TYPE_CHECKING:
    import libcst as cst

    from advisor.config import Config
    from advisor.evidence.profile import Evidence
    from advisor.first_pass import FirstPass
    from advisor.project import Project

_Recorder = TypeVar("_Recorder")

#: Docstring sections every rule documents (Ruff's rule-doc shape).
REQUIRED_SECTIONS = ("Why it matters", "Example", "Use instead", "Fix safety", "Known limits")
_ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
#: Metadata a rule may ask for, by short name -> libcst provider path.
#: Caches rule helpers keep across the rules of one file (keyed by node id);
#: the analysis empties them after every file so no tree outlives its file.
PER_FILE_CACHES: list[dict[Any, Any]] = []

METADATA_PROVIDERS = {
    "scope": "libcst.metadata:ScopeProvider",
    "parent": "libcst.metadata:ParentNodeProvider",
    "qualified_name": "libcst.metadata:QualifiedNameProvider",
    "expression_context": "libcst.metadata:ExpressionContextProvider",
    "position": "libcst.metadata:PositionProvider",
}


@dataclass(frozen=True)
class Valid:
    """Code on which the rule must stay silent, and why (becomes the test id)."""

    code: str
    why: str
    #: Rule options for this example (kebab-case keys, as in pyproject.toml).
    options: Mapping[str, Any] = field(default_factory=dict)
    #: Path the example pretends to live at (some rules treat tests differently).
    path: str = "example.py"
    #: Other [tool.advisor] settings for this example (kebab-case keys).
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Invalid:
    """Code on which the rule must fire, and why."""

    code: str
    why: str
    #: 1-based line of the expected finding (None: any line).
    line: int | None = None
    #: A fragment the finding's message must contain.
    message: str | None = None
    #: The code after ``advisor fix`` (rules with a fix declare it).
    fixed: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    path: str = "example.py"
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NoOptions:
    """A rule without options."""


@dataclass(frozen=True)
class FileContext:
    """What a rule knows about the file it is looking at."""

    path: str
    #: Dotted module name ("pkg.cli"), or "" when the file is not importable.
    module: str
    config: "Config"
    #: The decoded source, split into lines (no line endings).
    lines: tuple[str, ...] = ()
    is_test: bool = False


@dataclass
class PendingReport:
    """A report made during the walk; positions are resolved once, after it."""

    node: cst.CSTNode
    message: str
    impact: Impact | None
    fix: FixSafety | None
    data: dict[str, Any]


@dataclass
class TreeFreeReport:
    """A report made from the ``ast`` tree, without a libcst walk: it carries its span."""

    span: Span
    message: str
    data: dict[str, Any]
    impact: Impact | None = None
    fix: FixSafety | None = None


@dataclass
class WithoutTree:
    """What a rule that was not walked contributes for a file (see ``Rule.without_tree``)."""

    facts: dict[str, Any] = field(default_factory=dict)
    reports: list[TreeFreeReport] = field(default_factory=list)


class Rule:
    """Base class of every rule. See docs/writing-rules.md."""

    id: ClassVar[str]
    #: Message template; ``report()`` formats it with the keyword data.
    message: ClassVar[str] = ""
    kind: ClassVar[ImpactKind] = "runtime"
    fix: ClassVar[FixSafety] = "none"
    #: "module:function" of the codemod ``advisor fix`` applies (rules with a fix).
    codemod: ClassVar[str] = ""
    #: Short names from METADATA_PROVIDERS; resolved only for files that need them.
    needs: ClassVar[tuple[str, ...]] = ()
    #: Recorder classes (plain visitors with a no-argument constructor) this
    #: rule reads from. One instance per file serves every rule that names the
    #: class, and its hooks run before the rules' hooks: rules that need the
    #: same bookkeeping (scopes, bindings) pay for it once. See ``shared_state``.
    shared: ClassVar[tuple[type, ...]] = ()
    Options: ClassVar[type] = NoOptions
    VALID: ClassVar[list[Valid]] = []
    INVALID: ClassVar[list[Invalid]] = []

    def __init__(self, context: FileContext, options: Any) -> None:
        self.context = context
        self.options = options
        self.reports: list[PendingReport] = []
        #: Facts merged project-wide in the main process (see Rule.refine).
        self.facts: dict[str, Any] = {}
        self._metadata: Any = None
        self._shared: dict[type, Any] = {}

    def shared_state(self, recorder: type[_Recorder]) -> _Recorder:
        """This file's instance of ``recorder`` (one of ``shared``), made before the walk."""
        try:
            state: _Recorder = self._shared[recorder]  # the engine makes one instance per class
            return state
        except KeyError:
            raise RuleDefinitionError(f"rule {self.id} asked for {recorder.__name__} without naming it in `shared`") from None

    # -- reporting ---------------------------------------------------------

    def report(
        self,
        node: "cst.CSTNode",
        message: str | None = None,
        *,
        impact: Impact | None = None,
        fix: FixSafety | None = None,
        **data: Any,
    ) -> None:
        """Report a finding at ``node``; ``message`` defaults to the template."""
        text = message if message is not None else self.message.format(**data)
        self.reports.append(PendingReport(node, text, impact, fix, data))

    def get_metadata(self, name: str, node: "cst.CSTNode", default: Any = None) -> Any:
        """Metadata declared in ``needs`` for ``node`` (``default`` if none)."""
        if name not in self.needs:
            raise RuleDefinitionError(f"rule {self.id} asked for {name!r} metadata without declaring it in `needs`")
        return self._metadata(name, node, default)

    # -- the cheap first pass (worker) ---------------------------------------

    @classmethod
    def may_report(cls, first_pass: "FirstPass", context: FileContext, options: Any) -> bool:
        """False only when this rule cannot report anything in the file, judged
        from CPython ``ast`` facts (advisor/first_pass.py). When no enabled rule
        may report, the file is never parsed with libcst. Must over-approximate:
        the default (True) always walks the file."""
        return True

    @classmethod
    def without_tree(cls, first_pass: "FirstPass", context: FileContext, options: Any) -> WithoutTree:
        """For a file this rule is not walked on (``may_report`` was False):
        the project facts the walk would have recorded, and any report the
        rule makes from the ``ast`` tree alone (``first_pass.tree``)."""
        return WithoutTree()

    @classmethod
    def from_tree(cls, first_pass: "FirstPass", context: FileContext, options: Any) -> WithoutTree:
        """For every file, walked or not: facts (merged into the walk's) and
        reports made from the ``ast`` tree alone. For facts a project-wide step
        needs from every file (who calls what), computed one way whether or not
        the file is walked."""
        return WithoutTree()

    # -- project-wide step (main process) -----------------------------------

    #: ``refine`` also makes findings from the rule's facts alone (n-plus-one's
    #: calls through project functions): it runs even when the walk found nothing.
    REFINE_MAKES_FINDINGS: ClassVar[bool] = False

    @classmethod
    def refine(cls, findings: list[Finding], project: "Project", options: Any,
               evidence: "Evidence | None") -> Iterable[Finding]:
        """Adjust or drop this rule's findings using project-wide facts.

        Runs in the main process after every file is analysed (or loaded from
        the cache), only when the rule has findings (or ``REFINE_MAKES_FINDINGS``). ``project`` is the generic
        project model (every rule's facts by rule id, the import and call
        graphs), ``options`` this rule's parsed ``Options``, ``evidence`` the
        profiles and import-time logs the scan was given (None without). The
        default keeps findings as they are.
        """
        return findings

    # -- class checks --------------------------------------------------------

    @classmethod
    def summary(cls) -> str:
        """The first line of the docstring."""
        return (cls.__doc__ or "").strip().splitlines()[0].strip() if cls.__doc__ else ""

    @classmethod
    def docs(cls) -> str:
        """The docstring without its summary line, dedented."""
        import inspect

        text = inspect.cleandoc(cls.__doc__ or "")
        return text.split("\n", 1)[1].strip() if "\n" in text else ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("abstract", False):
            return
        problems = _definition_problems(cls)
        if problems:
            raise RuleDefinitionError(f"rule {cls.__qualname__} is incomplete: " + "; ".join(problems))


def _definition_problems(cls: type[Rule]) -> list[str]:
    problems = []
    rule_id = getattr(cls, "id", None)
    if not isinstance(rule_id, str) or not _ID_PATTERN.match(rule_id):
        problems.append(f"id must be kebab-case, got {rule_id!r}")
    if not cls.__doc__ or not cls.summary():
        problems.append("missing docstring")
    else:
        missing = [s for s in REQUIRED_SECTIONS if f"## {s}" not in cls.__doc__]
        if missing:
            problems.append("docstring lacks sections: " + ", ".join(missing))
    if cls.kind not in ("startup", "runtime"):
        problems.append(f"kind must be 'startup' or 'runtime', got {cls.kind!r}")
    if cls.fix not in ("safe", "unsafe", "none"):
        problems.append(f"fix must be 'safe', 'unsafe' or 'none', got {cls.fix!r}")
    if len(cls.VALID) < 3 or len(cls.INVALID) < 3:
        problems.append("needs at least 3 VALID and 3 INVALID examples")
    whys = [e.why for e in cls.VALID] + [e.why for e in cls.INVALID]
    if len(set(whys)) != len(whys):
        problems.append("example `why`s must be unique (they are test ids)")
    if cls.fix == "none" and any(e.fixed is not None for e in cls.INVALID):
        problems.append("fix = 'none' but an INVALID example declares `fixed`")
    if any(e.fixed is not None for e in cls.INVALID) and not cls.codemod:
        problems.append("an INVALID example declares `fixed` but the rule names no `codemod`")
    unknown = [n for n in cls.needs if n not in METADATA_PROVIDERS]
    if unknown:
        problems.append(f"unknown metadata in needs: {unknown}")
    if not dataclasses.is_dataclass(cls.Options):
        problems.append("Options must be a dataclass")
    return problems


def build_options(rule: type[Rule], raw: Mapping[str, Any], where: str = "[tool.advisor]") -> Any:
    """Check a rule's options table against its Options dataclass."""
    known = {f.name.replace("_", "-"): f for f in dataclasses.fields(rule.Options)}
    values = {}
    for key, value in raw.items():
        spec = known.get(key)
        if spec is None:
            choices = ", ".join(sorted(known)) or "none"
            raise ConfigError(
                f"{where}: unknown option {key!r} for rule {rule.id} "
                f"in [tool.advisor.rules.{rule.id}] (known: {choices})"
            )
        default = spec.default if spec.default is not dataclasses.MISSING else None
        if default is not None and not _same_kind(default, value):
            raise ConfigError(
                f"{where}: option {key!r} of rule {rule.id} should be like {default!r}, got {value!r}"
            )
        values[spec.name] = tuple(value) if isinstance(value, list) else value
    return rule.Options(**values)


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    if isinstance(default, (tuple, list)):
        return isinstance(value, (tuple, list))
    return isinstance(value, type(default))
