"""docs/rules/<id>.md are generated from the rules; a stale page fails here."""

from __future__ import annotations

import pytest

from advisor.docs import render_rule_page
from advisor.registry import builtin_rule_paths, load_class
from conftest import REPO

RULES = sorted(builtin_rule_paths().items())


@pytest.mark.parametrize(("rule_id", "path"), RULES, ids=[r for r, _ in RULES])
def test_rule_page_is_current(rule_id, path):
    page = REPO / "docs" / "rules" / f"{rule_id}.md"
    assert page.is_file(), f"missing {page}: run `python -m advisor.docs`"
    assert page.read_text(encoding="utf-8") == render_rule_page(load_class(path)), (
        f"{page} is stale: run `python -m advisor.docs`"
    )


def test_explain_prints_the_same_page(capsys):
    from advisor.cli import main

    assert main(["explain", "lazy-imports"]) == 0
    assert capsys.readouterr().out == (REPO / "docs" / "rules" / "lazy-imports.md").read_text(encoding="utf-8")
