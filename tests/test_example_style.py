"""Rule examples are readable code: every ``Valid``/``Invalid`` code and
``fixed`` text of the built-in rules is a triple-quoted block in the source
(dedented by the checker), never an escaped one-line string."""

from __future__ import annotations

import ast
from pathlib import Path

import advisor.rules

RULES = Path(advisor.rules.__file__).parent


def _example_strings(path: Path) -> list[tuple[int, str]]:
    """(line, source text) of each example's code and ``fixed`` literal in ``path``."""
    text = path.read_text("utf-8")
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("Valid", "Invalid"):
            for value in [*node.args[:1], *(k.value for k in node.keywords if k.arg in ("code", "fixed"))]:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.append((value.lineno, ast.get_source_segment(text, value) or ""))
    return found


def test_every_example_is_a_triple_quoted_block() -> None:
    checked, escaped = 0, []
    for path in sorted(RULES.rglob("*.py")):
        for line, source in _example_strings(path):
            checked += 1
            if not source.startswith(('"""', "'''", 'r"""', "r'''")):
                escaped.append(f"{path.relative_to(RULES)}:{line}: {source[:60]!r}")
    assert checked > 200, "the examples were not found"
    assert not escaped, "examples written as escaped strings:\n" + "\n".join(escaped)
