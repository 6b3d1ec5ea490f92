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
    from advisor.engine.analyse import analyse_text
    from advisor.project import Project, ProjectFile
    from advisor.rule import build_options

    config = example_config(rule, example)
    code = textwrap.dedent(example.code)
    module = Path(example.path).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
    result = analyse_text(code, example.path, module, [rule], config)
    if result.errors:
        raise AssertionError(f"example produced errors: {result.errors}")
    project = Project(config, [ProjectFile(result.path, module, "example", result.facts, result.imports)], [])
    options = build_options(rule, config.rule_options.get(rule.id, {}))
    return list(rule.refine(list(result.findings), project, options, None))


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
    if example.fixed is not None:
        check_fixed(rule, example, findings)


def apply_fix(rule: type[Rule], example: Invalid, findings: list[Finding]) -> str:
    """The example's code after the rule's codemod (``Rule.codemod``)."""
    from advisor.fix import FixOptions
    from advisor.fix.runner import codemod_of

    assert rule.codemod, f"{rule.id}: an example declares `fixed` but the rule names no `codemod`"
    config = example_config(rule, example)
    module = Path(example.path).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
    options = FixOptions(target_version=config.target_version, module=module,
                         is_package=example.path.endswith("__init__.py"))
    new_text, _ = codemod_of(rule)(textwrap.dedent(example.code), findings, options)
    return str(new_text)


def check_fixed(rule: type[Rule], example: Invalid, findings: list[Finding]) -> None:
    """The fix gives exactly ``example.fixed``, which compiles and is clean on a rescan."""
    from dataclasses import replace

    from advisor.fix.runner import check_source

    fixed = apply_fix(rule, example, findings)
    expected = textwrap.dedent(example.fixed or "")
    assert fixed == expected, f"{rule.id} ({example.why}): the fix gives\n{fixed}\nexpected\n{expected}"
    problem, _ = check_source(fixed, example.path, example_config(rule, example).target_version)
    assert not problem, f"{rule.id} ({example.why}): {problem}"
    again = run_example(rule, replace(example, code=fixed))
    assert not again, f"{rule.id} ({example.why}): a rescan of the fixed code still reports: " + "; ".join(
        f"line {f.span.line}: {f.message}" for f in again)


def all_examples(rules: list[type[Rule]]) -> Iterator[tuple[str, type[Rule], Valid | Invalid]]:
    """(test id, rule, example) for every example of every rule."""
    example: Valid | Invalid
    for rule in rules:
        for example in rule.VALID:
            yield f"{rule.id}/valid/{example.why}", rule, example
        for example in rule.INVALID:
            yield f"{rule.id}/invalid/{example.why}", rule, example
