"""Run a rule's VALID/INVALID examples, as tests/test_rules.py does for
every rule (built-in or plugin): ``check_example(rule, example)`` raises
AssertionError with a readable message when an example misbehaves."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from advisor.rule import Invalid, Rule, Valid

if TYPE_CHECKING:
    from advisor.config import Config
    from advisor.findings import Finding


def example_config(rule: type[Rule], example: Valid | Invalid) -> Config:
    """Config for one example: its settings, no measuring (deterministic), no cache."""
    from advisor.config import config_from_table

    table: dict[str, Any] = {"measure-imports": False, "target-version": "3.11", **example.config}
    if example.options:
        table["rules"] = {rule.id: dict(example.options)}
    return config_from_table(table, root=Path("/nonexistent-advisor-example"))


def run_example(rule: type[Rule], example: Valid | Invalid) -> list[Finding]:
    """Findings of ``rule`` on the example's code, including the project-wide step."""
    from advisor.analysis import analyse_text
    from advisor.project import Project, facts_from_result

    config = example_config(rule, example)
    code = textwrap.dedent(example.code)
    module = Path(example.path).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
    result = analyse_text(code, example.path, module, [rule], config)
    if result.errors:
        raise AssertionError(f"example produced errors: {result.errors}")
    facts = facts_from_result(result.path, result.facts, "example")
    project = Project(config, [facts] if facts else [], [])
    return list(rule.refine(list(result.findings), project))


def check_example(rule: type[Rule], example: Valid | Invalid) -> None:
    """Assert the example behaves as declared."""
    findings = run_example(rule, example)
    if isinstance(example, Valid):
        assert not findings, f"{rule.id} must stay silent ({example.why}) but reported: " + "; ".join(
            f"line {f.span.line}: {f.message}" for f in findings)
        return
    assert findings, f"{rule.id} must fire ({example.why}) but reported nothing"
    if example.line is not None:
        lines = [f.span.line for f in findings]
        assert example.line in lines, f"expected a finding on line {example.line}, got lines {lines}"
    if example.message is not None:
        messages = [f.message for f in findings]
        assert any(example.message in m for m in messages), f"no message contains {example.message!r}: {messages}"


def all_examples(rules: list[type[Rule]]) -> Iterator[tuple[str, type[Rule], Valid | Invalid]]:
    """(test id, rule, example) for every example of every rule."""
    for rule in rules:
        for example in rule.VALID:
            yield f"{rule.id}/valid/{example.why}", rule, example
        for example in rule.INVALID:
            yield f"{rule.id}/invalid/{example.why}", rule, example
