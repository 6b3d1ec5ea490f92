"""lazy-imports' per-file decision on shapes taken from real packages, where
it kept a costly import eager for a reason that was not true (found with
benchmarks/fix_real_packages.py), and the neighbouring shapes where the
reason holds and the rule must stay silent."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from advisor.config import config_from_table
from advisor.rule import build_options
from advisor.rules.lazy_imports.reports import lazy_reports
from advisor.rules.lazy_imports.rule import LazyImports

CONFIG = config_from_table({"measure-imports": False}, root=Path("/nonexistent-advisor-example"))


def reported(code: str) -> list[str]:
    """The modules lazy-imports reports in ``code`` (before the startup model)."""
    code = textwrap.dedent(code)
    options = build_options(LazyImports, {})
    _, reports = lazy_reports(ast.parse(code), "pkg.cli", False, code, False, options, CONFIG)
    return sorted(r.data["module"] for r in reports)


# sqlite-utils 3.37, sqlite_utils/cli.py and utils.py: user code is run with
# exec() in a dict built for it, which never reads the module's namespace.
EXEC_IN_OWN_DICT = [
    pytest.param("""\
        import pdb

        def _compile_code(code):
            globals = {"json": json}
            exec(code, globals)
            return globals["fn"]

        def run(ex):
            pdb.post_mortem(ex.__traceback__)
    """, id="sqlite-utils-exec-in-a-local-dict"),
    pytest.param("""\
        import pdb

        def convert(code):
            return eval(code, {"r": 1}), exec(code, dict(r=1))

        def run(ex):
            pdb.post_mortem(ex.__traceback__)
    """, id="eval-and-exec-in-a-dict-display"),
]

# Where eval/exec may read the module's globals: the import must stay.
EXEC_IN_MODULE_NAMESPACE = [
    pytest.param("""\
        import pdb

        def run(code):
            exec(code)
            return pdb
    """, id="exec-without-namespace-uses-the-callers"),
    pytest.param("""\
        import pdb
        import sys

        def run(code):
            return eval(code, sys.modules[__name__].__dict__), pdb
    """, id="the-modules-own-dict"),
    pytest.param("""\
        import pdb

        def run(code, namespace):
            exec(code, namespace)
            return pdb
    """, id="a-namespace-passed-in"),
    pytest.param("""\
        import pdb

        def run(code):
            namespace = {}
            namespace = globals()
            exec(code, namespace)
            return pdb
    """, id="a-name-that-also-holds-globals"),
]


@pytest.mark.parametrize("code", EXEC_IN_OWN_DICT)
def test_exec_in_a_fresh_dict_does_not_read_the_module(code: str) -> None:
    assert reported(code) == ["pdb"]


@pytest.mark.parametrize("code", EXEC_IN_MODULE_NAMESPACE)
def test_exec_that_may_read_the_module_keeps_every_import(code: str) -> None:
    assert reported(code) == []


# yamllint 1.35.1, yamllint/cli.py: `linter.run(f)` in a loop is another
# module's run(); this module's run() (the console script) runs once.
def test_a_call_on_an_imported_module_in_a_loop_is_not_this_modules_function() -> None:
    assert reported("""\
        import argparse
        from yamllint import linter

        def run(argv=None):
            parser = argparse.ArgumentParser()
            for name in parser.parse_args(argv).files:
                linter.run(name)
    """) == ["argparse", "yamllint"]


@pytest.mark.parametrize("call", ["run(name)", "self.run(name)", "runner.run(name)"])
def test_this_modules_function_called_in_a_loop_keeps_its_import(call: str) -> None:
    """The module's own run(), called per item (directly, or on an object that
    is not an imported module): an import there would run on every call."""
    assert reported(f"""\
        import argparse

        def run(argv=None):
            return argparse.ArgumentParser()

        def main(names, runner):
            for name in names:
                {call}
    """) == []


# sqlite-utils 3.37, sqlite_utils/cli.py: `tabulate` is read only inside
# output_options(), but output_options is a decorator applied at module
# level: it runs while the module is imported, and the import with it.
DECORATOR_AT_IMPORT = [
    pytest.param("""\
        import tabulate

        def output_options(fn):
            return option("--fmt", help=", ".join(tabulate.tabulate_formats))(fn)

        @output_options
        def query():
            pass
    """, id="sqlite-utils-output-options"),
    pytest.param("""\
        import tabulate

        def registered(name):
            return tabulate.tabulate_formats

        class Commands:
            @registered("rows")
            def rows(self):
                pass
    """, id="a-decorator-factory-on-a-method"),
]


@pytest.mark.parametrize("code", DECORATOR_AT_IMPORT)
def test_an_import_used_by_a_decorator_applied_at_import_stays(code: str) -> None:
    assert reported(code) == []


def test_a_decorator_applied_only_inside_functions_does_not_run_at_import() -> None:
    """The same helper, applied inside a function and by another module's
    decorator of the same name (``cli.output_options``): the import may move."""
    assert reported("""\
        import cli
        import tabulate

        def output_options(fn):
            return option("--fmt", help=", ".join(tabulate.tabulate_formats))(fn)

        @cli.output_options
        def query():
            pass

        def build():
            @output_options
            def inner():
                pass
            return inner
    """) == ["tabulate"]
