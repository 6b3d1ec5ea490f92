"""Rules that read the same bookkeeping share one recorder per file
(``Rule.shared``): it is made once, its hooks run before the rules' hooks,
and when it fails, every rule that reads it fails with it while the other
rules keep their findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.engine.analyse import analyse_text
from advisor.config import Config
from advisor.errors import RuleDefinitionError
from advisor.rule import Invalid, Rule, Valid

DOCS = """Counts names.

## What it does
Reports the module when its recorder saw a name.
## Why it matters
It tests shared recorders.
## Example
`x`
## Use instead
Nothing.
## Fix safety
None.
## Known limits
None.
## Options
None.
"""


class NameCounter:
    """A recorder: counts Name nodes and remembers who made it."""

    made = 0

    def __init__(self) -> None:
        type(self).made += 1
        self.names: list[str] = []

    def visit_Name(self, node) -> None:
        if node.value == "boom":
            raise ValueError("recorder exploded")
        self.names.append(node.value)


def _rule(rule_id: str, shared: tuple[type, ...] = (NameCounter,)) -> type[Rule]:
    class Reader(Rule):
        __doc__ = DOCS
        id = rule_id
        VALID = [Valid("", why=f"valid-{i}") for i in range(3)]
        INVALID = [Invalid("x\n", why=f"invalid-{i}") for i in range(3)]

        def visit_Name(self, node) -> None:
            # the recorder's hook ran first: the current name is already counted
            self.seen_first = self.shared_state(NameCounter).names[-1:] == [node.value]

        def finish(self) -> None:
            names = self.shared_state(NameCounter).names
            if names and self.seen_first:
                self.report(self.module_node, message=f"{len(names)} names, recorder {id(self.shared_state(NameCounter))}")

        def visit_Module(self, node) -> None:
            self.module_node = node

    Reader.shared = shared
    return Reader


class Plain(Rule):
    __doc__ = DOCS
    id = "plain"
    VALID = [Valid("", why=f"valid-{i}") for i in range(3)]
    INVALID = [Invalid("x\n", why=f"invalid-{i}") for i in range(3)]

    def visit_Module(self, node) -> None:
        self.report(node, message="plain saw the module")


def _scan(text: str, rules: list[type[Rule]]):
    return analyse_text(text, "m.py", "m", rules, Config(root=Path(".")))


def test_one_recorder_instance_serves_every_rule_that_names_it():
    NameCounter.made = 0
    result = _scan("a = b + c\n", [_rule("first"), _rule("second")])
    assert NameCounter.made == 1
    messages = {f.rule: f.message for f in result.findings}
    assert messages["first"].startswith("3 names") and messages["second"].startswith("3 names")
    assert messages["first"].split("recorder ")[1] == messages["second"].split("recorder ")[1]
    assert not result.errors


def test_a_failing_recorder_fails_its_readers_only():
    result = _scan("a = boom\n", [_rule("first"), Plain, _rule("second")])
    assert [f.rule for f in result.findings] == ["plain"]
    failed = sorted((e.rule, e.kind) for e in result.errors)
    assert failed == [("first", "rule"), ("second", "rule")]
    assert all("NameCounter" in e.message and "recorder exploded" in e.message for e in result.errors)


def test_asking_for_a_recorder_not_named_in_shared_is_a_rule_error():
    rule = _rule("undeclared", shared=())
    result = _scan("a = 1\n", [rule])
    assert not result.findings
    assert len(result.errors) == 1 and "RuleDefinitionError" in result.errors[0].message


def test_shared_state_raises_rule_definition_error_directly():
    from advisor.rule import FileContext, build_options

    rule_class = _rule("direct", shared=())
    context = FileContext("m.py", "m", Config(root=Path(".")), (), False)
    rule = rule_class(context, build_options(rule_class, {}))
    with pytest.raises(RuleDefinitionError, match="shared"):
        rule.shared_state(NameCounter)


# -- the built-in recorders ------------------------------------------------------

CLIENT_LOOP = "import myapp\n\ndef pull(ids):\n    c = myapp.Client()\n    for i in ids:\n        c.get(i)\n"


def _builtin(*ids: str) -> list[type[Rule]]:
    from advisor.registry import load_class
    from advisor.rules import BUILTIN_RULES

    return [load_class(BUILTIN_RULES[i]) for i in ids]


def test_loop_rules_share_one_frame_tracker_unless_their_factories_differ():
    from advisor.rules.support.frames import FrameTracker

    assert FrameTracker.with_factories({}) is FrameTracker
    taught = FrameTracker.with_factories({"myapp.Client": "myapp.Client()"})
    assert taught is FrameTracker.with_factories({"myapp.Client": "myapp.Client()"})
    assert taught is not FrameTracker and taught.extra_factories == {"myapp.Client": "myapp.Client()"}


def test_a_factory_taught_to_n_plus_one_works_next_to_the_other_loop_rules():
    rules = _builtin("loop-invariant", "n-plus-one", "blocking-in-async", "sequential-await")
    options = {"n-plus-one": {"extra-round-trips": ["myapp.Client().get -> get_many"]}}
    taught = analyse_text(CLIENT_LOOP, "m.py", "m", rules, Config(root=Path("."), rule_options=options))
    assert [(f.rule, f.span.line) for f in taught.findings] == [("n-plus-one", 6)]
    assert not taught.errors
    untaught = analyse_text(CLIENT_LOOP, "m.py", "m", rules, Config(root=Path(".")))
    assert not untaught.findings and not untaught.errors
