"""Central suppression: ``# advisor: ignore[rule-id]`` comments, parsed once a file.

- ``x = 1  # advisor: ignore[lazy-imports]`` silences that rule on that line
  (on either the first or the last line of a multi-line finding);
- ``# advisor: ignore`` with no rule list silences every rule on the line;
- ``# advisor: ignore-file[rule-id]`` (or bare ``ignore-file``) on a line of
  its own silences rules for the whole file.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

_PATTERN = re.compile(r"#\s*advisor:\s*(ignore-file|ignore)\b(?:\[([^\]]*)\])?")
ALL = "*"


@dataclass(frozen=True)
class Suppressions:
    """Which rules are silenced on which lines of one file."""

    by_line: dict[int, frozenset[str]] = field(default_factory=dict)
    whole_file: frozenset[str] = frozenset()

    def silences(self, rule: str, line: int, end_line: int | None = None) -> bool:
        """True if ``rule`` is suppressed for a finding spanning these lines."""
        if ALL in self.whole_file or rule in self.whole_file:
            return True
        for number in {line, end_line if end_line is not None else line}:
            ids = self.by_line.get(number)
            if ids and (ALL in ids or rule in ids):
                return True
        return False


def parse_suppressions(source: str) -> Suppressions:
    """Find suppression comments (real comments only, not text in strings)."""
    if "advisor:" not in source:
        return Suppressions()
    by_line: dict[int, frozenset[str]] = {}
    whole: set[str] = set()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return Suppressions()
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        match = _PATTERN.search(token.string)
        if not match:
            continue
        ids = frozenset(i.strip() for i in (match.group(2) or "").split(",") if i.strip()) or frozenset({ALL})
        if match.group(1) == "ignore-file":
            whole |= ids
        else:
            by_line[token.start[0]] = by_line.get(token.start[0], frozenset()) | ids
    return Suppressions(by_line, frozenset(whole))
