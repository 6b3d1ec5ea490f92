"""``advisor fix``: codemods that apply findings, and the runner that writes
them safely (see runner.py). Nothing here imports libcst at module level."""

from __future__ import annotations

#: Rule id -> "module:function" of its codemod, imported only when asked for.
#: A codemod is ``fix_source(text, findings, options) -> (new_text, outcomes)``.
CODEMODS = {
    "lazy-imports": "advisor.rules.lazy_imports.codemod:fix_source",
}

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FixOptions:
    """How a codemod should fix what it is given."""

    #: Force one strategy (rule-specific names); None chooses per finding.
    strategy: str | None = None
    #: The oldest Python the fixed code must run on ("3.11").
    target_version: str = "3.11"
    #: Dotted name of the module being fixed (resolves relative imports).
    module: str = ""
    is_package: bool = False
    #: Qualnames of functions a profile shows are hot: never defer into them.
    hot_functions: frozenset[str] = frozenset()
    #: Extra, codemod-specific settings.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What became of one finding: applied (how) or left alone (why)."""

    finding: Any  # advisor.findings.Finding
    applied: bool
    #: The strategy used or considered ("inline", "type-checking", ...).
    strategy: str
    #: In words: "moved into main(), Client.fetch()" or the reason it was left.
    detail: str
