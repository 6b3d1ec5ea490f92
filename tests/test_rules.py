"""Every rule's VALID and INVALID examples run as tests, with ids like
``lazy-imports/valid/used-by-a-decorator``."""

from __future__ import annotations

import pytest

from advisor.config import Config
from advisor.registry import all_rules
from advisor.testing import all_examples, check_example

RULES = list(all_rules(Config(root=__import__("pathlib").Path(".")), include_entry_points=False).values())
CASES = list(all_examples(RULES))


@pytest.mark.parametrize(("rule", "example"), [(r, e) for _, r, e in CASES], ids=[c[0] for c in CASES])
def test_example(rule, example):
    check_example(rule, example)


def test_every_builtin_rule_is_loaded_and_brings_its_examples():
    """The parametrized cases above come from every rule of BUILTIN_RULES, none missed."""
    from advisor.rules import BUILTIN_RULES

    assert sorted(r.id for r in RULES) == sorted(BUILTIN_RULES)
    assert {case_id.split("/")[0] for case_id, _, _ in CASES} == set(BUILTIN_RULES)


def test_a_rule_with_too_few_examples_fails_at_import():
    """The minimum of 3 VALID and 3 INVALID examples is enforced when the class
    is defined (Rule.__init_subclass__), so no rule ships without them."""
    from advisor.errors import RuleDefinitionError
    from advisor.rule import Invalid, Rule, Valid

    with pytest.raises(RuleDefinitionError, match="at least 3 VALID and 3 INVALID"):
        class TooFew(Rule):  # noqa: F841 - defining it is the test
            """Too few examples.

            ## Why it matters
            ## Example
            ## Use instead
            ## Fix safety
            ## Known limits
            """

            id = "too-few"
            VALID = [Valid("x = 1\n", why="one")]
            INVALID = [Invalid("y = 2\n", why="two")]
def test_every_rule_has_examples_that_fire_and_stay_silent():
    for rule in RULES:
        assert len(rule.VALID) >= 3 and len(rule.INVALID) >= 3, rule.id


def test_missing_cache_reads_past_a_name_imported_under_another_name():
    """``from m import load as other`` names ``load`` without referring to the local
    function; the rule used to crash on it (ImportAlias has no ``value``: found by mypy)."""
    from advisor.rule import Invalid

    rule = next(r for r in RULES if r.id == "missing-cache")
    check_example(rule, Invalid('''
        import json
        from othermod import load_settings as other_settings

        def load_settings():
            with open('settings.json') as f:
                return json.load(f)

        def price(items):
            return [i * load_settings()['vat'] + other_settings() for i in items]
        ''', why="an-import-alias-of-the-same-name", line=5, message="reads and parses a file"))
