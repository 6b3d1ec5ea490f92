"""Rule pages, generated from each rule's own docstring, options and
examples; the same text backs ``advisor explain`` and docs/rules/<id>.md.

Run ``python -m advisor.docs`` to regenerate the committed pages; a test
fails when a committed page is stale.
"""

from __future__ import annotations

import dataclasses
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advisor.rule import Rule


def render_rule_page(rule: type["Rule"]) -> str:
    """The Markdown page of one rule."""
    fix = {"safe": "safe (applied by `advisor fix`)", "unsafe": "unsafe (needs `advisor fix --unsafe`)", "none": "none (a suggestion)"}[rule.fix]
    lines = [
        f"# {rule.id}",
        "",
        f"{rule.summary()}",
        "",
        f"- kind: {rule.kind} cost",
        f"- fix: {fix}",
        "",
        rule.docs().replace("\n## ", "\n### ").replace("## ", "### ", 1) if rule.docs().startswith("## ") else rule.docs(),
        "",
    ]
    options = dataclasses.fields(rule.Options)
    if options:
        lines += ["## Options", "", f"In `[tool.advisor.rules.{rule.id}]`:", "", "| option | default |", "| --- | --- |"]
        lines += [f"| `{f.name.replace('_', '-')}` | `{f.default!r}` |" for f in options]
        lines.append("")
    lines += ["## Must stay silent on", ""]
    lines += [f"- {example.why}" for example in rule.VALID]
    lines += ["", "## Fires on", ""]
    lines += [f"- {example.why}" for example in rule.INVALID]
    for title, example in (("Fires on, for example", rule.INVALID[0]), ("Stays silent on, for example", rule.VALID[0])):
        lines += ["", f"## {title}", "", "```python", textwrap.dedent(example.code).rstrip(), "```"]
        fixed = getattr(example, "fixed", None)
        if fixed:
            lines += ["", "After `advisor fix`:", "", "```python", textwrap.dedent(fixed).rstrip(), "```"]
    return "\n".join(lines).rstrip() + "\n"


def write_pages(directory: Path) -> list[Path]:
    """Write one page per built-in rule; return the paths written."""
    from advisor.registry import builtin_rule_paths, load_class

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for rule_id, path in sorted(builtin_rule_paths().items()):
        target = directory / f"{rule_id}.md"
        target.write_text(render_rule_page(load_class(path)), encoding="utf-8")
        written.append(target)
    return written


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/rules")
    for page in write_pages(out):
        print(page)
