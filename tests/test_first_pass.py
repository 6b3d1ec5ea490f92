"""The cheap first pass (advisor/first_pass.py): files where no rule can
report are never parsed with libcst, and that changes no finding."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from advisor.engine import analyse as analysis
from advisor.config import Config
from advisor.engine.scan import select_rules
from advisor.first_pass import FirstPass
from advisor.findings import Span
from advisor.rule import FileContext, Invalid, Rule, TreeFreeReport, Valid, WithoutTree, build_options
from advisor.source import is_test_path
from advisor.testing import example_config, run_example

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CONFIG = Config(root=Path("."))
RULES = select_rules(CONFIG)


def _walked(code: str, path: str = "app/mod.py", module: str = "app.mod", config: Config = CONFIG) -> list[str]:
    """Ids of the rules the first pass sends to libcst for ``code``."""
    tree = ast.parse(textwrap.dedent(code))
    context = FileContext(path, module, config, (), path.startswith("tests/"))
    chosen = [(r, build_options(r, config.rule_options.get(r.id, {}))) for r in select_rules(config)]
    return [rule.id for rule, _ in analysis._first_pass(chosen, tree, context)[0]]


def _both_ways(code: str, module: str = "app.mod", path: str = "app/mod.py", config: Config = CONFIG) -> list:
    """The findings with the first pass on, after checking they equal those with it off."""
    results = []
    for enabled in (True, False):
        analysis.FIRST_PASS = enabled
        try:
            result = analysis.analyse_text(textwrap.dedent(code), path, module, select_rules(config), config)
        finally:
            analysis.FIRST_PASS = True
        results.append(sorted((f.rule, f.span.line, f.message) for f in result.findings))
    assert results[0] == results[1]
    return results[0]


def _runtime(found: list) -> list[str]:
    """The rules that reported, leaving out lazy-imports (it reports before its project step)."""
    return [rule for rule, *_ in found if rule != "lazy-imports"]


@pytest.mark.parametrize("rule", [r for r in RULES if r.id != "lazy-imports"], ids=lambda r: r.id)
def test_every_must_fire_example_reaches_the_walk(rule: type) -> None:
    for example in rule.INVALID:
        config = example_config(rule, example)
        module = Path(example.path).with_suffix("").as_posix().replace("/", ".")
        context = FileContext(example.path, module, config, (), is_test_path(Path(example.path)))
        options = build_options(rule, config.rule_options.get(rule.id, {}))
        first_pass = FirstPass.of(ast.parse(textwrap.dedent(example.code)))
        # a report made from the ast tree of every file (Rule.from_tree), or a finding refine makes
        # from its facts (n-plus-one's per-item calls of project functions: "items"), needs no walk
        made = rule.from_tree(first_pass, context, options)
        assert rule.may_report(first_pass, context, options) or made.reports or made.facts.get("items"), example.why
        assert run_example(rule, example), example.why


def test_a_file_without_candidates_is_not_walked() -> None:
    code = """
        import os

        def size(path):
            return os.path.getsize(path)

        class Point:
            def __init__(self, x, y):
                self.x, self.y = x, y
    """
    assert [r for r in _walked(code) if r != "lazy-imports"] == []


def test_each_trigger_sends_only_its_rules() -> None:
    assert "blocking-in-async" in _walked("async def f():\n    pass\n")
    assert "sequential-await" in _walked("async def f(x):\n    await x\n")
    assert "concat-in-loop" in _walked("def f(xs):\n    s = ''\n    for x in xs:\n        s += x\n")
    assert "quadratic-membership" in _walked("def f(xs, ys):\n    ys = list(ys)\n    return [x for x in xs if x in ys]\n")
    assert "loop-invariant" in _walked("def f(xs, ys):\n    return [sorted(ys) for x in xs]\n")
    assert "n-plus-one" in _walked("import requests\n\ndef f(xs):\n    return [requests.get(x) for x in xs]\n")
    assert "missing-cache" in _walked("import json\n\ndef f():\n    return json.load(open('x'))\n\nf()\n")
    # A counter, a parameter searched, a call that cannot be costly: the triggers' near misses.
    assert "concat-in-loop" not in _walked("def f(xs):\n    n = 0\n    for x in xs:\n        n += x\n")
    assert "quadratic-membership" not in _walked("def f(xs, ys):\n    return [x for x in xs if x in ys]\n")
    assert "loop-invariant" not in _walked("import re\n\ndef f(xs):\n    return [x.strip() for x in xs]\n")
    quiet = _walked("def f(xs):\n    return [x * 2 for x in xs]\n")
    assert not {"blocking-in-async", "sequential-await", "concat-in-loop", "quadratic-membership",
                "loop-invariant", "n-plus-one", "missing-cache"} & set(quiet)


def test_test_files_skip_the_rules_that_skip_tests() -> None:
    code = "import requests\n\nasync def f(xs):\n    return [requests.get(x) for x in xs]\n"
    assert {"n-plus-one", "blocking-in-async"} <= set(_walked(code))
    assert not {"n-plus-one", "blocking-in-async"} & set(_walked(code, path="tests/test_mod.py"))


def test_aliased_import_still_reaches_the_walk() -> None:
    code = """
        from re import compile as c

        def f(lines):
            for line in lines:
                if c('a+').match(line):
                    yield line
    """
    assert _runtime(_both_ways(code)) == ["loop-invariant"]


def test_function_defined_in_a_module_level_block_counts() -> None:
    """missing-cache looks at every function of the module's scope, also one
    defined under ``if`` or ``try`` (version switches, optional imports)."""
    code = """
        import json
        import sys

        if sys.version_info >= (3, 8):
            def load_settings():
                with open('settings.json') as f:
                    return json.load(f)

        def price(items):
            return [i * load_settings()['vat'] for i in items]
    """
    assert "missing-cache" in _walked(code)
    assert _runtime(_both_ways(code)) == ["missing-cache"]


def test_await_at_module_level_counts() -> None:
    """CPython's parser accepts a top-level ``await`` (notebooks, scripts run by asyncio's REPL)."""
    assert "sequential-await" in _walked("for u in urls:\n    await fetch(u)\n")


def test_configured_round_trip_reaches_the_walk() -> None:
    config = Config(root=Path("."), rule_options={"n-plus-one": {"extra-round-trips": ["myapp.api.lookup -> lookup_many"]}})
    code = "from myapp import api\n\ndef f(ids):\n    return [api.lookup(i) for i in ids]\n"
    assert "n-plus-one" in _walked(code, config=config)
    assert "n-plus-one" not in _walked(code)
    assert _runtime(_both_ways(code, config=config)) == ["n-plus-one"]


@pytest.mark.parametrize("path", sorted(FIXTURES.rglob("*.py")), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_findings_are_the_same_with_and_without_the_first_pass(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        ast.parse(text)
    except SyntaxError:
        pytest.skip("not Python the interpreter accepts")
    _both_ways(text, module="fixture." + path.stem, path=str(path.relative_to(FIXTURES)))


DOCS = """Reports every ``print`` call, from the ast alone.

## What it does
Test rule.
## Why it matters
It tests reports made without a libcst walk.
## Example
`print(1)`
## Use instead
Nothing.
## Fix safety
None.
## Known limits
None.
## Options
None.
"""


class AstPrints(Rule):
    # Never walked: reports from ``without_tree``.
    __doc__ = DOCS
    id = "ast-prints"
    message = "print at line {line}"
    VALID = [Valid("", why=f"valid-{i}") for i in range(3)]
    INVALID = [Invalid("print(1)\n", why=f"invalid-{i}") for i in range(3)]

    @classmethod
    def may_report(cls, first_pass, context, options) -> bool:
        return False

    @classmethod
    def without_tree(cls, first_pass, context, options) -> WithoutTree:
        reports = [TreeFreeReport(Span(n.lineno, n.col_offset, n.end_lineno, n.end_col_offset), f"print at line {n.lineno}",
                                  {"line": n.lineno})
                   for n in ast.walk(first_pass.tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print"]
        return WithoutTree(facts={"prints": len(reports)}, reports=reports)


class BrokenCheck(AstPrints):
    # Its first-pass check raises: the file is walked instead (where it reports nothing).
    __doc__ = DOCS
    id = "broken-check"

    @classmethod
    def may_report(cls, first_pass, context, options) -> bool:
        raise RuntimeError("bug in a plugin's first-pass check")


def test_reports_made_without_the_walk_become_findings_and_honour_suppressions() -> None:
    code = "print(1)\nx = 2\nprint(3)  # advisor: ignore[ast-prints]\n"
    result = analysis.analyse_text(code, "app/mod.py", "app.mod", [AstPrints], CONFIG)
    assert [(f.rule, f.span.line, f.span.column, f.span.end_column, f.message) for f in result.findings] == [
        ("ast-prints", 1, 0, 8, "print at line 1")]
    assert result.findings[0].line_text == "print(1)"
    assert result.facts == {"ast-prints": {"prints": 2}}
    assert not result.errors


def test_a_failing_first_pass_check_falls_back_to_the_walk() -> None:
    walked = analysis._first_pass([(BrokenCheck, None)], ast.parse("print(1)\n"), FileContext("m.py", "m", CONFIG))
    assert walked == ([(BrokenCheck, None)], [])


def test_container_copies_reach_loop_invariant() -> None:
    """loop-invariant's copies (``set(x)``, ``list(d.keys())``, ``dir(obj)``)
    need no import: the builtin's name called in a loop is the trigger."""
    for call in ("set(names)", "list(d.keys())", "tuple(cols)", "frozenset(names)", "dict(d)", "dir(obj)"):
        code = f"def f(rows, names, d, cols, obj):\n    return [r for r in rows if r in {call}]\n"
        assert "loop-invariant" in _walked(code), call
    code = """
        def f(rows, names):
            for row in rows:
                if row in set(names):
                    yield row
    """
    assert _runtime(_both_ways(code)) == ["loop-invariant"]
    assert "loop-invariant" not in _walked("def f(rows, names):\n    return [r for r in rows if r in names]\n")


def test_sql_text_reaches_n_plus_one_without_a_client_import() -> None:
    """SQL text sent with ``execute``/``fetch*`` is evidence on any receiver:
    a call of one of those methods in a ``for`` loop sends the file to n-plus-one."""
    code = """
        def totals(conn, ids):
            for i in ids:
                conn.execute("SELECT total FROM orders WHERE id = ?", (i,))
    """
    assert "n-plus-one" in _walked(code)
    assert _runtime(_both_ways(code)) == ["n-plus-one"]
    assert "n-plus-one" not in _walked("def f(conn, ids):\n    for i in ids:\n        conn.send(i)\n")


def test_a_copy_only_in_a_loop_header_does_not_send_loop_invariant() -> None:
    """``for k in sorted(d):`` runs ``sorted`` once: only copies in the per-item
    part of a loop (body, element, conditions, inner clauses) admit the file."""
    assert "loop-invariant" not in _walked("def f(d):\n    for k in sorted(d):\n        print(k)\n")
    assert "loop-invariant" not in _walked("def f(d):\n    return [k for k in list(d.keys())]\n")
    assert "loop-invariant" not in _walked("def f(xs):\n    for x in xs:\n        def g(ys):\n            return set(ys)\n")
    assert "loop-invariant" in _walked("def f(d, xs):\n    for x in xs:\n        for k in sorted(d):\n            print(x, k)\n")
    assert "loop-invariant" in _walked("def f(d, xs):\n    return [x for x in xs if x in list(d.keys())]\n")
    assert "loop-invariant" in _walked("class A:\n    def f(self, xs):\n        while xs:\n            print(sorted(self.allowed))\n")
