"""Functions that always run at an entry's start, followed across modules,
methods and class hierarchies (``rules/lazy_imports/always_runs.py``): a
deferral into one saves nothing for that entry, so lazy-imports does not
report it for that entry and ``advisor fix`` does not write it.

The shapes come from real code: csvkit 2.2.0 (a base class's ``run()``
calls ``self.main()``, the subclass's ``main`` uses sqlalchemy), litecli
1.17.1 (the click command ``cli()`` builds ``LiteCli(...)`` and calls its
methods), Django (``AppConfig.ready()`` calls into another module).
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Any

from advisor.rules.lazy_imports.always_facts import always_facts
from advisor.rules.lazy_imports.always_runs import AlwaysRuns, always_runs, entry_seeds
from conftest import run_advisor
from test_startup_savings import project, run

# -- the walk, on per-file facts ------------------------------------------------------

CSVKIT_CLI = '''
    import warnings

    class CSVKitUtility:
        def __init__(self, args=None):
            self.args = self._init_common_parser()
            self.add_arguments()

        def _init_common_parser(self):
            return []

        def run(self):
            if "f" not in self.override_flags:
                self.input_file = open(self.args.input_path)
            try:
                with warnings.catch_warnings():
                    self.main()
            finally:
                self.input_file.close()

        def main(self):
            raise NotImplementedError
'''
CSVKIT_TOOL = '''
    from sqlalchemy import create_engine

    from csvkit.cli import CSVKitUtility

    class SQL2CSV(CSVKitUtility):
        def add_arguments(self):
            pass

        def main(self):
            create_engine(self.args.connection_string)

        def export(self):
            create_engine("sqlite://")

    def launch_new_instance():
        utility = SQL2CSV()
        utility.run()

    if __name__ == '__main__':
        launch_new_instance()
'''


def facts_of(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {module: always_facts(ast.parse(textwrap.dedent(text)), module, module.count(".") == 0)
            for module, text in files.items()}


def walk(files: dict[str, str], roots: list[str], runs_main: bool = False, function: str = "") -> dict[str, str]:
    facts = facts_of(files)
    result = always_runs(facts, {"entry": entry_seeds(facts, list(facts), roots, runs_main, function)})
    return dict(result.by_entry["entry"])


def test_a_base_class_run_reaches_the_subclass_main_across_modules() -> None:
    """csvkit: `python -m csvkit.utilities.sql2csv` → launch_new_instance() →
    SQL2CSV() (CSVKitUtility.__init__) and .run() → self.main() on the SQL2CSV."""
    found = walk({"csvkit.cli": CSVKIT_CLI, "csvkit.utilities.sql2csv": CSVKIT_TOOL},
                 ["csvkit.utilities.sql2csv"], runs_main=True)
    assert "csvkit.utilities.sql2csv.SQL2CSV.main" in found
    assert "csvkit.cli.CSVKitUtility.__init__" in found and "csvkit.utilities.sql2csv.SQL2CSV.add_arguments" in found
    assert found["csvkit.utilities.sql2csv.SQL2CSV.main"] == (
        "the __main__ block of `csvkit.utilities.sql2csv` → launch_new_instance() → CSVKitUtility.run() → SQL2CSV.main()")
    assert "csvkit.cli.CSVKitUtility.main" not in found  # the instance is a SQL2CSV: its own main runs
    assert "csvkit.utilities.sql2csv.SQL2CSV.export" not in found  # nothing calls it


def test_without_the_main_block_nothing_runs() -> None:
    """`import csvkit.utilities.sql2csv` (a library user) runs no function of it."""
    found = walk({"csvkit.cli": CSVKIT_CLI, "csvkit.utilities.sql2csv": CSVKIT_TOOL}, ["csvkit.utilities.sql2csv"])
    assert found == {}


LITECLI = '''
    import click

    from litecli.config import get_config

    class LiteCli(object):
        def __init__(self, liteclirc=None):
            c = self.config = get_config(liteclirc)
            self.initialize_logging()

        def initialize_logging(self):
            pass

        def connect(self, database=""):
            pass

        def run_query(self, query):
            pass

        def run_cli(self):
            pass

    @click.command()
    @click.option("-e", "--execute", type=str)
    def cli(database, execute):
        litecli = LiteCli(liteclirc=None)
        litecli.connect(database)
        if execute:
            litecli.run_query(execute)
            exit(0)
        if sys.stdin.isatty():
            litecli.run_cli()

    if __name__ == "__main__":
        cli()
'''


def test_a_click_command_and_the_object_it_builds() -> None:
    """litecli: the console script's click command cli() builds LiteCli (its
    __init__ and what that calls run) and calls connect() on it; run_query()
    and run_cli() run only on some paths."""
    found = walk({"litecli.main": LITECLI, "litecli.config": "def get_config(rc):\n    return {}\n"},
                 ["litecli.main"], function="litecli.main.cli")
    assert {"litecli.main.cli", "litecli.main.LiteCli.__init__", "litecli.main.LiteCli.initialize_logging",
            "litecli.main.LiteCli.connect", "litecli.config.get_config"} <= set(found)
    assert "litecli.main.LiteCli.run_query" not in found and "litecli.main.LiteCli.run_cli" not in found
    assert found["litecli.main.LiteCli.connect"] == "the console script's function cli() → LiteCli.connect()"


TYPER_ONE = '''
    import typer

    app = typer.Typer()

    @app.callback()
    def setup():
        pass

    @app.command()
    def run():
        pass
'''


def test_a_typer_app_as_the_console_script() -> None:
    """`tool = "pkg.cli:app"`: the app's callback runs on every invocation, and
    its only command too; with two commands, neither is always run."""
    one = walk({"pkg.cli": TYPER_ONE}, ["pkg.cli"], function="pkg.cli.app")
    assert set(one) == {"pkg.cli.setup", "pkg.cli.run"}
    assert one["pkg.cli.run"] == "the console script's app `app` runs run()"
    two = walk({"pkg.cli": TYPER_ONE.replace("@app.callback()", "@app.command()")}, ["pkg.cli"], function="pkg.cli.app")
    assert two == {}


def test_django_app_config_ready_calls_into_another_module() -> None:
    facts = facts_of({
        "shop.apps": "from django.apps import AppConfig\nfrom shop.signals import connect_all\n\n"
                     "class ShopConfig(AppConfig):\n    def ready(self):\n        connect_all()\n",
        "shop.signals": "def connect_all():\n    register()\n\ndef register():\n    pass\n\ndef on_save():\n    pass\n",
    })
    result = always_runs(facts, {"settings": entry_seeds(facts, ["shop.apps", "shop.signals"], ["shop"], False, "")})
    assert {"shop.apps.ShopConfig.ready", "shop.signals.connect_all", "shop.signals.register"} <= set(result.by_entry["settings"])
    assert "shop.signals.on_save" not in result.by_entry["settings"]


def test_super_and_package_reexports() -> None:
    found = walk({
        "app": "from app.base import Base\n",  # the package re-exports Base
        "app.base": "class Base:\n    def setup(self):\n        self.load()\n\n    def load(self):\n        pass\n",
        "app.tool": "from app import Base\n\nclass Tool(Base):\n    def setup(self):\n        super().setup()\n\n"
                    "    def load(self):\n        pass\n\ndef main():\n    Tool().setup()\n",
    }, ["app.tool"], function="app.tool.main")
    assert {"app.tool.Tool.setup", "app.base.Base.setup", "app.tool.Tool.load"} <= set(found)
    assert "app.base.Base.load" not in found  # self is a Tool: Tool.load overrides it


def test_conditional_calls_are_not_followed() -> None:
    """Calls under if/elif/else, loops, except handlers, match cases, lambdas,
    `x if c else y` and the right side of `or` are not always-run."""
    found = walk({"pkg.cli": '''
        import sys

        def main():
            setup()
            for item in items():
                per_item(item)
            if sys.argv[1:]:
                branch()
            try:
                attempt()
            except OSError:
                recover()
            value = fast() or slow()
            other = yes() if sys.argv else no()
            callback = lambda: later()
            match sys.argv:
                case []:
                    empty()

        def setup(): pass
        def items(): return []
        def per_item(item): pass
        def branch(): pass
        def attempt(): pass
        def recover(): pass
        def fast(): pass
        def slow(): pass
        def yes(): pass
        def no(): pass
        def later(): pass
        def empty(): pass
    '''}, ["pkg.cli"], function="pkg.cli.main")
    always = {name.rsplit(".", 1)[1] for name in found}
    assert always == {"main", "setup", "items", "attempt", "fast"}


def test_entries_running_names_the_entry_and_the_chain() -> None:
    runs = AlwaysRuns({"console script `a`": {"pkg.cli.heavy": "the console script's function main_a() → heavy()"},
                       "console script `b`": {}})
    assert runs.entries_running("pkg.cli", ["heavy"]) == {
        "console script `a`": "heavy() runs at every start of console script `a`: "
                              "the console script's function main_a() → heavy()"}
    assert runs.entries_running("pkg.cli", ["other"]) == {}


# -- the rule, on small projects (--no-measure: the bundled table's figures) -------------------------------

CSV_BASE = '''
    import sys

    class Utility:
        def __init__(self):
            self.args = sys.argv[1:]

        def run(self):
            try:
                self.main()
            finally:
                sys.stdout.flush()

        def main(self):
            raise NotImplementedError
'''
CSV_TOOL = '''
    import numpy

    from pkg.base import Utility

    class Tool(Utility):
        def main(self):
            print(numpy.zeros(1))

    def launch():
        Tool().run()

    if __name__ == "__main__":
        launch()
'''


def test_csvkit_shape_is_not_reported(tmp_path: Path) -> None:
    """The import moves into Tool.main(), which base.run() calls on every start of
    both `python -m pkg.tool` and the console script: nothing to report."""
    root = project(tmp_path, {"pkg/base.py": CSV_BASE, "pkg/tool.py": CSV_TOOL}, "tool = 'pkg.tool:launch'")
    assert [f.data["statement"] for f in run(root).findings] == []


def test_a_method_only_some_runs_call_is_still_fixed(tmp_path: Path) -> None:
    """Must fire: the same shape, but main() calls export() only with `--export`."""
    tool = CSV_TOOL.replace("print(numpy.zeros(1))", "if '--export' in self.args:\n                self.export()\n\n"
                                                     "        def export(self):\n            print(numpy.zeros(1))")
    root = project(tmp_path, {"pkg/base.py": CSV_BASE, "pkg/tool.py": tool}, "tool = 'pkg.tool:launch'")
    found = run(root).findings
    assert [(f.data["statement"], f.data["functions"], f.fix.safety) for f in found] == [("import numpy", ["Tool.export"], "safe")]
    assert "always_runs" not in found[0].data and found[0].impact.estimate_ms > 0
    assert set(found[0].data["entries"]) == {"console script `tool`", "`python -m pkg.tool`"}


def test_kept_only_for_the_entry_that_does_not_run_it(tmp_path: Path) -> None:
    """Two console scripts in one module: `a` calls heavy() at every start, `b`
    never does. The finding holds for `b` alone, says why `a` gains nothing,
    and the totals count numpy as still loaded by `a`."""
    root = project(tmp_path, {"pkg/cli.py": '''
        import numpy

        def heavy():
            return numpy.zeros(1)

        def main_a():
            heavy()

        def main_b():
            print("b")
    '''}, "a = 'pkg.cli:main_a'\nb = 'pkg.cli:main_b'")
    report = run(root)
    [finding] = report.findings
    assert list(finding.data["entries"]) == ["console script `b`"] and finding.impact.estimate_ms > 0
    assert list(finding.data["always_runs"]) == ["console script `a`"]
    assert finding.message.endswith("heavy() runs at every start of console script `a`: the console script's "
                                    "function main_a() → heavy() (no saving there)")
    summary = {e["name"]: e for e in report.summary["startup"]["entries"]}
    assert summary["console script `a`"]["saving_ms"] == 0.0
    assert summary["console script `b`"]["fixable_saving_ms"] == finding.impact.estimate_ms
    assert report.summary["startup"]["fixable_saving_ms"] == 0.0  # `a` still loads numpy: no module leaves every entry


def test_litecli_shape_cli_and_init_are_not_reported(tmp_path: Path) -> None:
    """The click command cli() builds LiteCli; its __init__ and connect() use the
    imports: both run at every start. run_query() runs only with --execute."""
    root = project(tmp_path, {"pkg/main.py": '''
        import sys

        import click
        import numpy
        import sqlite3
        import xml.dom.minidom

        class LiteCli:
            def __init__(self):
                self.table = numpy.zeros(1)

            def connect(self, database):
                self.conn = sqlite3.connect(database)

            def run_query(self, query):
                return xml.dom.minidom.parseString(query)

        @click.command()
        def cli(database, execute):
            litecli = LiteCli()
            litecli.connect(database)
            if execute:
                litecli.run_query(execute)
    '''}, "litecli = 'pkg.main:cli'")
    found = {f.data["statement"]: f for f in run(root).findings}
    assert "import numpy" not in found and "import sqlite3" not in found


def test_fix_writes_nothing_for_the_always_run_import(tmp_path: Path) -> None:
    """`advisor fix` on the csvkit-shaped project leaves every file as it was."""
    root = project(tmp_path, {"pkg/base.py": CSV_BASE, "pkg/tool.py": CSV_TOOL}, "tool = 'pkg.tool:launch'")
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    result = run_advisor("fix", "pkg", "--no-measure", "--rule", "lazy-imports", cwd=root)
    assert result.returncode in (0, 1), result.stderr
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before
    # the control: with export() behind a flag, fix does move numpy into it
    (root / "pkg" / "tool.py").write_text(textwrap.dedent(CSV_TOOL).replace(
        "print(numpy.zeros(1))", "if self.args:\n            self.export()\n\n    def export(self):\n        print(numpy.zeros(1))"))
    result = run_advisor("fix", "pkg", "--no-measure", "--rule", "lazy-imports", cwd=root)
    assert result.returncode in (0, 1), result.stderr
    assert "        import numpy\n" in (root / "pkg" / "tool.py").read_text()


def test_the_main_block_runs_only_for_its_python_m_entry(tmp_path: Path) -> None:
    """`if __name__ == "__main__": main()` runs for `python -m pkg.cli`, not when
    the package imports the module: the finding holds for `import pkg` alone."""
    root = project(tmp_path, {
        "pkg/__init__.py": "from pkg import cli\n",
        "pkg/cli.py": "import numpy\n\ndef main():\n    print(numpy.zeros(1))\n\nif __name__ == '__main__':\n    main()\n",
    }, "")
    [finding] = run(root).findings
    assert list(finding.data["entries"]) == ["`import pkg`"]
    assert finding.data["always_runs"] == {
        "`python -m pkg.cli`": "main() runs at every start of `python -m pkg.cli`: the __main__ block of `pkg.cli` → main()"}
