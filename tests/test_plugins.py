"""Custom rules: a project's own rules load from `[tool.advisor] plugins`
(by ./path or dotted name) and from the `advisor.rules` entry-point group,
with the same API, examples and options as the built-in rules."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from advisor.config import load_config
from advisor.engine.scan import scan, select_rules
from advisor.errors import ConfigError
from advisor.registry import all_rules, load_plugin
from advisor.rule import Invalid, Valid
from advisor.testing import check_example, run_example

PLUGIN = '''
from dataclasses import dataclass

from advisor.rule import Invalid, Rule, Valid


@dataclass(frozen=True)
class CallOptions:
    #: Function names to report.
    names: tuple = ("print",)


class {cls}(Rule):
    """Report calls to the functions named in `names`.

    ## What it does
    Finds calls such as `print(...)`.

    ## Why it matters
    Writing to a terminal in a hot loop is slow.

    ## Example
    ```python
    print(x)
    ```

    ## Use instead
    ```python
    log.debug(x)
    ```

    ## Fix safety
    No fix.

    ## Known limits
    Only plain names are matched.

    ## Options
    `names` (default ["print"]): the function names to report.
    """

    id = "{rule_id}"
    message = "call to `{{name}}()`"
    fix = "none"
    Options = CallOptions
    VALID = [
        Valid("log(1)\\n", why="other-function"),
        Valid("obj.print(1)\\n", why="method-of-the-same-name"),
        Valid("print(1)\\n", why="name-not-configured", options={{"names": ["log"]}}),
    ]
    INVALID = [
        Invalid("print(1)\\n", why="plain-call", line=1, message="`print()`"),
        Invalid("def f():\\n    print(2)\\n", why="call-in-a-function", line=2),
        Invalid("log(1)\\n", why="configured-name", options={{"names": ["log"]}}, message="`log()`"),
    ]

    def visit_Call(self, node):
        func = node.func
        if type(func).__name__ == "Name" and func.value in self.options.names:
            self.report(node, name=func.value)
'''


def write_plugin(path: Path, rule_id: str = "print-call", cls: str = "PrintCall") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PLUGIN.format(rule_id=rule_id, cls=cls), "utf-8")
    return path


def make_project(tmp_path: Path, advisor_table: str, files: dict[str, str]) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.advisor]\n{textwrap.dedent(advisor_table)}", "utf-8")
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), "utf-8")
    return tmp_path


@pytest.fixture(autouse=True)
def _isolated_imports(monkeypatch):
    """Plugins add to sys.path and sys.modules: undo that after each test."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith(("advisor_plugin_", "team_rules", "ep_rules")):
            del sys.modules[name]


def test_plugin_loaded_by_path_reports_in_a_scan(tmp_path):
    write_plugin(tmp_path / "local_rules.py")
    project = make_project(tmp_path, 'plugins = ["./local_rules.py"]\nselect = ["print-call"]\n',
                           {"app.py": "def main():\n    print('hi')\n"})
    config = load_config(project)
    assert "print-call" in all_rules(config, include_entry_points=False)
    report = scan([project / "app.py"], config, jobs=1, use_cache=False)
    assert [(f.rule, f.span.line, f.message) for f in report.findings] == [("print-call", 2, "call to `print()`")]
    assert not report.errors


def test_plugin_loaded_by_dotted_name_from_a_package(tmp_path):
    write_plugin(tmp_path / "team_rules_a" / "calls.py")
    (tmp_path / "team_rules_a" / "__init__.py").write_text("from .calls import PrintCall\n", "utf-8")
    rules = load_plugin("team_rules_a", tmp_path)
    assert [r.id for r in rules] == ["print-call"]


def test_package_plugin_loaded_by_path_can_use_relative_imports(tmp_path):
    write_plugin(tmp_path / "rules_local" / "calls.py")
    (tmp_path / "rules_local" / "__init__.py").write_text("from .calls import PrintCall\n", "utf-8")
    rules = load_plugin("./rules_local", tmp_path)
    assert [r.id for r in rules] == ["print-call"]


def test_plugin_examples_run_through_check_example(tmp_path):
    (rule,) = load_plugin("./local_rules.py", write_plugin(tmp_path / "local_rules.py").parent)
    for example in (*rule.VALID, *rule.INVALID):
        check_example(rule, example)
    # The helper fails loudly when an example is wrong, both ways.
    with pytest.raises(AssertionError, match="must stay silent"):
        check_example(rule, Valid("print(1)\n", why="wrongly-valid"))
    with pytest.raises(AssertionError, match="must fire"):
        check_example(rule, Invalid("log(1)\n", why="wrongly-invalid"))
    with pytest.raises(AssertionError, match="line 3"):
        check_example(rule, Invalid("print(1)\n", why="wrong-line", line=3))


def test_options_from_config_reach_the_rule(tmp_path):
    write_plugin(tmp_path / "local_rules.py")
    project = make_project(
        tmp_path,
        'plugins = ["./local_rules.py"]\nselect = ["print-call"]\n[tool.advisor.rules.print-call]\nnames = ["log", "emit"]\n',
        {"app.py": "print(1)\nlog(2)\nemit(3)\n"},
    )
    report = scan([project / "app.py"], load_config(project), jobs=1, use_cache=False)
    assert sorted((f.span.line, f.message) for f in report.findings) == [
        (2, "call to `log()`"), (3, "call to `emit()`")]


def test_unknown_option_key_names_rule_and_key(tmp_path):
    write_plugin(tmp_path / "local_rules.py")
    project = make_project(
        tmp_path, 'plugins = ["./local_rules.py"]\n[tool.advisor.rules.print-call]\nnmaes = ["log"]\n', {})
    with pytest.raises(ConfigError) as caught:
        select_rules(load_config(project))
    assert "print-call" in str(caught.value) and "'nmaes'" in str(caught.value)
    assert "names" in str(caught.value)  # the known keys are listed


def test_option_of_the_wrong_type_is_a_config_error(tmp_path):
    write_plugin(tmp_path / "local_rules.py")
    project = make_project(
        tmp_path, 'plugins = ["./local_rules.py"]\n[tool.advisor.rules.print-call]\nnames = "log"\n', {})
    with pytest.raises(ConfigError, match="print-call"):
        select_rules(load_config(project))


@pytest.mark.parametrize(("source", "expected"), [
    ("def broken(:\n", "SyntaxError"),
    ("import no_such_module_for_advisor\n", "ModuleNotFoundError"),
    ("raise RuntimeError('boom')\n", "RuntimeError: boom"),
    ("X = 1\n", "defines no Rule subclasses"),
    ("from advisor.rule import Rule\n\nclass Half(Rule):\n    '''Half a rule.'''\n    id = 'half'\n", "incomplete"),
], ids=["syntax-error", "missing-import", "raises", "no-rules", "incomplete-rule"])
def test_broken_plugin_gives_a_clear_error(tmp_path, source, expected):
    (tmp_path / "bad_rules.py").write_text(source, "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_plugin("./bad_rules.py", tmp_path)
    assert "'./bad_rules.py'" in str(caught.value) and expected in str(caught.value)
    if expected != "defines no Rule subclasses":  # a module that failed half-way is not kept
        assert not [m for m in sys.modules if m.startswith("advisor_plugin_") and "bad" in str(getattr(sys.modules[m], "__file__", ""))]


def test_missing_plugin_path_and_module(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_plugin("./nowhere.py", tmp_path)
    with pytest.raises(ConfigError, match="'nowhere_pkg_for_advisor' failed to load: ModuleNotFoundError"):
        load_plugin("nowhere_pkg_for_advisor", tmp_path)


def test_broken_plugin_on_the_command_line_exits_2_with_one_line(tmp_path):
    (tmp_path / "bad_rules.py").write_text("raise RuntimeError('boom')\n", "utf-8")
    project = make_project(tmp_path, 'plugins = ["./bad_rules.py"]\n', {"app.py": "x = 1\n"})
    done = subprocess.run([sys.executable, "-m", "advisor", "scan", "--no-cache", str(project)],
                          capture_output=True, text=True, cwd=project, timeout=120)
    assert done.returncode == 2
    assert "bad_rules.py" in done.stderr and "RuntimeError: boom" in done.stderr
    assert "Traceback" not in done.stderr


def test_plugin_rule_id_clashing_with_a_builtin_is_an_error(tmp_path):
    write_plugin(tmp_path / "local_rules.py", rule_id="concat-in-loop", cls="Clash")
    project = make_project(tmp_path, 'plugins = ["./local_rules.py"]\n', {})
    with pytest.raises(ConfigError, match="two rules share the id 'concat-in-loop'"):
        all_rules(load_config(project), include_entry_points=False)


def test_path_plugin_module_name_is_stable_across_processes(tmp_path):
    """The result cache keys on rule modules: a name drawn from hash() (salted
    per process) would miss the cache on every run."""
    write_plugin(tmp_path / "local_rules.py")
    code = f"from advisor.registry import load_plugin; print(load_plugin('./local_rules.py', __import__('pathlib').Path({str(tmp_path)!r}))[0].__module__)"
    names = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout.strip()
        for seed in ("1", "2")
    }
    assert len(names) == 1 and names.pop().startswith("advisor_plugin_")
    # ...and an edited plugin gets a new name, so stale cached results are not reused.
    first = load_plugin("./local_rules.py", tmp_path)[0].__module__
    (tmp_path / "local_rules.py").write_text(PLUGIN.format(rule_id="print-call", cls="PrintCall") + "\n# edited\n", "utf-8")
    assert load_plugin("./local_rules.py", tmp_path)[0].__module__ != first


def test_entry_point_rules(tmp_path, monkeypatch):
    write_plugin(tmp_path / "ep_rules_mod.py", rule_id="ep-print-call", cls="EpPrintCall")
    sys.path.insert(0, str(tmp_path))
    points = [EntryPoint(name="team", value="ep_rules_mod", group="advisor.rules"),
              EntryPoint(name="one", value="ep_rules_mod:EpPrintCall", group="advisor.rules")]
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group=None: points if group == "advisor.rules" else [])
    rules = all_rules(load_config(make_project(tmp_path, "", {})))
    assert rules["ep-print-call"].__name__ == "EpPrintCall"
    assert run_example(rules["ep-print-call"], Invalid("print(1)\n", why="ep")) != []

    points[:] = [EntryPoint(name="bad", value="ep_rules_mod:PLUGIN_MISSING", group="advisor.rules")]
    with pytest.raises(ConfigError, match="entry point 'bad'"):
        all_rules(load_config(tmp_path))


def test_the_example_rule_in_the_docs_works(tmp_path):
    """docs/writing-rules.md shows a complete rule: it must load and pass its examples."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "writing-rules.md").read_text("utf-8")
    code = text.split("```python\n", 1)[1].split("\n```\n", 1)[0]
    (tmp_path / "doc_rule.py").write_text(code, "utf-8")
    (rule,) = load_plugin("./doc_rule.py", tmp_path)
    assert rule.id == "print-in-loop"
    for example in (*rule.VALID, *rule.INVALID):
        check_example(rule, example)
