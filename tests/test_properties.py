"""Property-based tests: scanning any program never crashes, and every file
``advisor fix --rule lazy-imports`` rewrites still parses (libcst and ast),
compiles, behaves the same, is stable under a second fix, and differs from
its input only where a finding of the scan before the fix applies.

Programs come from hypothesmith (``from_grammar``, ``from_node``) and from
tests/_strategies.py, which builds projects the fix really rewrites, mixed
with the traps it must leave alone.

How long it runs is chosen by ``ADVISOR_HYPOTHESIS_PROFILE``:

- ``ci`` (default): 50 examples per property (fewer for the slow CLI ones),
  ``derandomize=True``: the same inputs on every run, so a red CI always
  means a change in advisor, never an unlucky draw that blocks unrelated work.
- ``long``: 2000 examples per property, randomized and using the example
  database (``.hypothesis/``), to look for new bugs:
  ``ADVISOR_HYPOTHESIS_PROFILE=long pytest tests/test_properties.py``.
  Every bug it finds becomes an example-based regression test below.
"""

from __future__ import annotations

import ast
import json
import os
import pickle
import tempfile
import uuid
import warnings
from pathlib import Path
from typing import Any

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from _fixcheck import behaviour, outside_regions, same, source_lines
from _strategies import UNSAFE_USES, projects
from advisor.engine.analyse import analyse_file, analyse_text
from advisor.config import config_from_table, load_config
from advisor.engine.scan import scan, select_rules
from advisor.findings import FileError, FileResult, Finding
from advisor.fix import FixOptions
from advisor.rules.lazy_imports.codemod import fix_source
from advisor.fix.runner import FixRequest, run_fix
from advisor.report import RenderOptions
from advisor.report.json_report import render as render_json
from conftest import run_advisor

_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile("ci", max_examples=50, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_SLOW, print_blob=True)
settings.register_profile("long", max_examples=2000, deadline=None, suppress_health_check=_SLOW, print_blob=True)
PROFILE = os.environ.get("ADVISOR_HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
#: The CLI properties start up to three processes per example: a 25th of the budget.
CLI_EXAMPLES = max(2, settings.get_profile(PROFILE).max_examples // 25)

CONFIG = config_from_table({"measure-imports": False}, root=Path(tempfile.gettempdir()))
RULES = select_rules(CONFIG)
BAD_ERROR_KINDS = {"rule", "crash", "timeout"}
#: hypothesmith compiles what it generates; CPython warns about odd but valid code.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")


# -- any program: the scan returns data, never raises ------------------------------------------


def check_result(result: FileResult, text: str) -> None:
    """A FileResult of plain data: picklable, spans inside the text, no rule crash."""
    assert isinstance(result, FileResult)
    assert all(isinstance(f, Finding) for f in result.findings)
    assert all(isinstance(e, FileError) for e in result.errors)
    crashes = [e for e in result.errors if e.kind in BAD_ERROR_KINDS]
    assert not crashes, f"{crashes}\n{[e.detail for e in crashes]}"
    assert pickle.loads(pickle.dumps(result)) == result
    lines = source_lines(text)
    for finding in result.findings:
        assert 1 <= finding.span.line <= finding.span.end_line <= max(1, len(lines)), finding
        json.dumps(finding.data)


def check_program(text: str) -> None:
    """Scan with every rule; apply the lazy-imports codemod to whatever it reports."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = analyse_text(text, "gen/mod.py", "gen.mod", RULES, CONFIG)
        check_result(result, text)
        valid = compiles(text)
        if valid:  # libcst may reject what CPython accepts: then a clear parse error, not a crash
            assert all(e.kind == "parse" for e in result.errors), result.errors
        lazy = [f for f in result.findings if f.rule == "lazy-imports"]
        if lazy and valid:
            fixed, _ = fix_source(text, lazy, FixOptions(module="gen.mod"))
            assert compiles(fixed), fixed


def compiles(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<generated>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@given(hypothesmith.from_grammar())
def test_scan_any_program_from_grammar(text: str) -> None:
    check_program(text)


@given(hypothesmith.from_node())
def test_scan_any_program_from_node(text: str) -> None:
    check_program(text)


@given(hypothesmith.from_grammar(), st.sampled_from(["import asyncio", "import asyncio as aio", "from asyncio import sleep"]))
def test_codemod_on_any_program_around_a_deferrable_import(program: str, statement: str) -> None:
    """A costly import used by one function, whatever else the module holds:
    the codemod's output (for the rule's own findings) parses, compiles, is
    stable when the rule runs again, and changes only the reported places."""
    name = statement.split()[-1]
    text = f"{statement}\n{program}\n\n\ndef _uses_it():\n    return {name}\n"
    assume(compiles(text))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fixed = apply_lazy_fixes(text)
        if fixed == text:
            return
        event("rewritten")
        cst.parse_module(fixed)
        assert compiles(fixed), fixed
        assert apply_lazy_fixes(fixed) == fixed, "a second fix changed the code again"


def apply_lazy_fixes(text: str) -> str:
    """The lazy-imports rule on ``text`` (before project-wide refining), then its
    codemod on what it reported; the diff is checked against those findings."""
    result = analyse_text(text, "gen/mod.py", "gen.mod", RULES, CONFIG)
    check_result(result, text)
    lazy = [f for f in result.findings if f.rule == "lazy-imports"]
    if not lazy:
        return text
    fixed, _ = fix_source(text, lazy, FixOptions(module="gen.mod"))
    reported = [{"line": f.span.line, "data": f.data} for f in lazy]
    problems = outside_regions(text, fixed, reported)
    assert not problems, "\n".join(problems) + f"\n---\n{text}\n---\n{fixed}"
    return fixed


@given(st.one_of(st.binary(max_size=400), st.text(max_size=400).map(lambda s: s.encode("utf-8", "surrogatepass"))))
@example(b"\xef\xbb\xbfimport asyncio\r\ndef f():\r\n    return asyncio.sleep\r\n")
@example(b"# -*- coding: latin-1 -*-\nx = '\xe9'\n")
@example(b"\x00\x01\x02def")
def test_scan_any_bytes(data: bytes) -> None:
    result = analyse_file(Path("gen/mod.py"), "gen/mod.py", "gen.mod", RULES, CONFIG, data=data)
    assert isinstance(result, FileResult)
    assert not [e for e in result.errors if e.kind in BAD_ERROR_KINDS], result.errors
    assert pickle.loads(pickle.dumps(result)) == result


# -- the fix: parses, compiles, behaves the same, idempotent, local ------------------------------


def write_project(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def read_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text("utf-8") for p in sorted(root.rglob("*.py"))
            if ".advisor" not in p.parts}


def scan_json(root: Path) -> dict[str, Any]:
    """The JSON report of an in-process scan (what `advisor scan --format json` prints)."""
    report = scan([root], load_config(root), jobs=1, use_cache=False)
    return json.loads(render_json(report, RenderOptions()))


def findings_by_file(document: dict[str, Any], root: Path, base: Path) -> dict[str, list[dict[str, Any]]]:
    """lazy-imports findings of a JSON report, keyed by path relative to ``root``."""
    found: dict[str, list[dict[str, Any]]] = {}
    for finding in document["findings"]:
        if finding["rule"] == "lazy-imports":
            relative = (base / finding["path"]).resolve().relative_to(root.resolve()).as_posix()
            found.setdefault(relative, []).append(finding)
    return found


def check_fixed_tree(root: Path, before: dict[str, str], after: dict[str, str],
                     findings: dict[str, list[dict[str, Any]]], strategy: str | None = None) -> None:
    """Every rewritten file: parses with libcst and ast, compiles, behaves as
    before, and changed only where its findings apply."""
    for name, new in after.items():
        old = before.get(name)
        if old == new:
            continue
        assert old is not None, f"{name} was created by the fix"
        assert name in findings, f"{name} changed without a finding:\n{new}"
        cst.parse_module(new)
        ast.parse(new)
        compile(new, name, "exec", dont_inherit=True)
        problems = outside_regions(old, new, findings[name], strategy)
        assert not problems, f"{name}: changes outside the reported fixes:\n" + "\n".join(problems) + f"\n---\n{old}\n---\n{new}"
        if name == "pkg/mod.py":
            was, now = behaviour(old), behaviour(new)
            assert was.keys() == now.keys() and all(same(was[k], now[k]) for k in was), (was, now, new)


STRATEGIES = st.sampled_from([None, None, None, "lazy-modules"])


def bad_outcomes(report: Any) -> list[str]:
    """Fixes the runner had to refuse after the codemod ran: codemod bugs."""
    return [f"{entry.display}: {o.detail}" for entry in report.files.values() for o in entry.outcomes
            if o.detail.startswith(("not written", "the codemod failed"))]


@given(projects(), STRATEGIES)
def test_fix_of_generated_projects_is_correct_stable_and_local(project, strategy: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_project(root, project.files)
        before = read_tree(root)
        document = scan_json(root)
        assert not [e for e in document["errors"] if e["kind"] in BAD_ERROR_KINDS], document["errors"]
        findings = findings_by_file(document, root, Path.cwd())
        request = FixRequest(paths=[root / "pkg"], strategy=strategy, jobs=1, use_cache=False)
        report = run_fix(request, load_config(root))
        assert not bad_outcomes(report), (bad_outcomes(report), project.recipe)
        after = read_tree(root)
        event(f"files rewritten: {sum(before.get(n) != t for n, t in after.items())}")
        event(f"findings before the fix: {min(3, sum(map(len, findings.values())))}+")
        check_fixed_tree(root, before, after, findings, strategy)
        again = run_fix(request, load_config(root))
        assert not again.changed and read_tree(root) == after, "a second fix changed the files again"


@given(projects(traps=UNSAFE_USES))
def test_unsafe_fix_of_generated_projects_is_correct_stable_and_local(project) -> None:
    """With --unsafe, re-exported, imported and patched names are deferred too
    (a PEP 562 __getattr__): the same properties hold."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_project(root, project.files)
        before = read_tree(root)
        findings = findings_by_file(scan_json(root), root, Path.cwd())
        event(f"unsafe findings: {min(2, sum(1 for fs in findings.values() for f in fs if f['fix']['safety'] == 'unsafe'))}+")
        request = FixRequest(paths=[root / "pkg"], unsafe=True, jobs=1, use_cache=False)
        report = run_fix(request, load_config(root))
        assert not bad_outcomes(report), (bad_outcomes(report), project.recipe)
        after = read_tree(root)
        check_fixed_tree(root, before, after, findings, None)
        again = run_fix(request, load_config(root))
        assert not again.changed and read_tree(root) == after, "a second fix changed the files again"


@settings(max_examples=CLI_EXAMPLES)
@given(projects(max_modules=3), STRATEGIES)
def test_fix_through_the_cli(project, strategy: str | None) -> None:
    """The same properties through the real CLI: `advisor scan --format json`,
    then `advisor fix --rule lazy-imports` twice."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_project(root, project.files)
        before = read_tree(root)
        scanned = run_advisor("scan", "pkg", "--format", "json", "--no-cache", cwd=root)
        assert scanned.returncode in (0, 1), scanned.stdout + scanned.stderr
        findings = findings_by_file(json.loads(scanned.stdout), root, root)
        extra = ["--strategy", strategy] if strategy else []
        fixed = run_advisor("fix", "pkg", "--rule", "lazy-imports", "--no-cache", *extra, cwd=root)
        assert fixed.returncode in (0, 1), fixed.stdout + fixed.stderr
        assert "not written" not in fixed.stdout and "codemod failed" not in fixed.stdout, fixed.stdout
        after = read_tree(root)
        check_fixed_tree(root, before, after, findings, strategy)
        again = run_advisor("fix", "pkg", "--rule", "lazy-imports", "--no-cache", *extra, cwd=root)
        assert again.returncode in (0, 1) and read_tree(root) == after, again.stdout + again.stderr


@settings(max_examples=CLI_EXAMPLES)
@given(st.lists(hypothesmith.from_grammar(), min_size=1, max_size=3))
def test_scan_cli_on_generated_programs(programs: list[str]) -> None:
    """`advisor scan --format json` on files of any program: exit 0/1/2, a
    complete JSON report, each file analysed or listed once in errors."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = {f"gen/m{i}.py": text for i, text in enumerate(programs)}
        write_project(root, {"pyproject.toml": "[tool.advisor]\nmeasure-imports = false\n", **files})
        done = run_advisor("scan", "gen", "--format", "json", "--no-cache", cwd=root)
        assert done.returncode in (0, 1, 2), done.stderr
        document = json.loads(done.stdout)
        assert document["summary"]["files"] == len(files)
        errors = [e["path"] for e in document["errors"]]
        assert len(errors) == len(set(errors)), document["errors"]
        assert not [e for e in document["errors"] if e["kind"] in BAD_ERROR_KINDS], document["errors"]
        for error in document["errors"]:
            assert error["kind"] == "parse" and error["message"], error
        assert (done.returncode == 2) == bool(errors)


# -- regressions: each bug the properties found, as a plain example ------------------------------

REGRESSION_MODULE = "import asyncio\n\n\ndef run():\n    return asyncio.sleep\n"
#: pkg.mod named as an entry point: `advisor fix` writes only what removes modules from an entry's startup.
PKG_MOD_ENTRY = '[tool.advisor]\nmeasure-imports = false\nentry-points = ["import pkg.mod"]\n'


@pytest.mark.parametrize("given", ["absolute", "../proj/pkg"])
def test_regression_fix_from_a_directory_outside_the_project(tmp_path: Path, given: str) -> None:
    """Found by test_fix_of_generated_projects: run from a directory that is not
    above the project, findings' display paths hold `..`, and `advisor fix`
    dropped every one of them ("nothing to fix", exit 0)."""
    project, elsewhere = tmp_path / "proj", tmp_path / "elsewhere"
    write_project(project, {"pyproject.toml": PKG_MOD_ENTRY,
                            "pkg/__init__.py": "", "pkg/mod.py": REGRESSION_MODULE})
    elsewhere.mkdir()
    path = str(project / "pkg") if given == "absolute" else given
    done = run_advisor("fix", path, "--rule", "lazy-imports", "--no-cache", cwd=elsewhere)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fixed: moved `import asyncio` into run()" in done.stdout
    assert (project / "pkg/mod.py").read_text() == "def run():\n    import asyncio\n\n    return asyncio.sleep\n"


def test_regression_parameter_named_like_the_import_is_not_overwritten(tmp_path: Path) -> None:
    """Found by test_fix_of_generated_projects (behaviour check): `import csv`
    read only as a parameter `csv` of f() was moved into f(), where it
    overwrote the argument: f(csv=None) returned the csv module."""
    text = "import csv\nimport asyncio\n\n\ndef f(csv=None):\n    return (csv, asyncio.sleep)\n"
    write_project(tmp_path, {"pyproject.toml": PKG_MOD_ENTRY,
                             "pkg/__init__.py": "", "pkg/mod.py": text})
    report = run_fix(FixRequest(paths=[tmp_path / "pkg"], jobs=1, use_cache=False), load_config(tmp_path))
    fixed = (tmp_path / "pkg/mod.py").read_text()
    assert [o.finding.data["statement"] for f in report.files.values() for o in f.outcomes if o.applied] == ["import asyncio"]
    assert fixed == "import csv\n\n\ndef f(csv=None):\n    import asyncio\n\n    return (csv, asyncio.sleep)\n"
    namespace: dict[str, Any] = {}
    exec(compile(fixed, "mod.py", "exec"), namespace)
    assert namespace["f"]()[0] is None


def test_regression_globals_lookup_in_a_function_keeps_the_import(tmp_path: Path) -> None:
    """Found by test_fix_of_generated_projects (behaviour check): f() read
    `globals()["ZipFile"]`, g() used ZipFile; the import moved into g() and
    f() raised KeyError."""
    text = ("from zipfile import ZipFile\n\n\ndef f():\n    return globals()['ZipFile']\n\n\n"
            "def g():\n    return ZipFile\n")
    write_project(tmp_path, {"pyproject.toml": PKG_MOD_ENTRY,
                             "pkg/__init__.py": "", "pkg/mod.py": text})
    run_fix(FixRequest(paths=[tmp_path / "pkg"], jobs=1, use_cache=False), load_config(tmp_path))
    assert (tmp_path / "pkg/mod.py").read_text() == text


def test_region_check_can_fail() -> None:
    """The locality check itself: a change away from the finding is reported."""
    before = "import asyncio\nX = 1\n\n\ndef f():\n    return asyncio.sleep\n\n\ndef g():\n    return 1\n"
    finding = {"line": 1, "data": {"functions": ["f"], "names": ["asyncio"], "usage": "functions"}}
    good = "X = 1\n\n\ndef f():\n    import asyncio\n\n    return asyncio.sleep\n\n\ndef g():\n    return 1\n"
    assert outside_regions(before, good, [finding]) == []
    for bad in (good.replace("X = 1", "X = 2"), good + "Y = 2\n", good.replace("g():\n", "g():\n    import asyncio\n"),
                good.replace("X = 1\n\n", "X = 1\n\n\n\n")):
        assert outside_regions(before, bad, [finding]), bad


def test_regression_line_text_after_a_form_feed() -> None:
    """Found by test_codemod_on_any_program_around_a_deferrable_import (a
    generated program held \\x1e). A form feed alone on a line is valid Python."""
    text = "import os\n\x0c\nimport asyncio\n\n\ndef f():\n    return asyncio.sleep, os\n"
    result = analyse_text(text, "gen/mod.py", "gen.mod", RULES, CONFIG)
    lines = {f.data["statement"]: (f.span.line, f.line_text) for f in result.findings if f.rule == "lazy-imports"}
    assert lines["import asyncio"] == (3, "import asyncio")
    assert lines["import os"] == (1, "import os")


def test_regression_lazy_modules_keeps_one_alias_of_a_multi_import(tmp_path: Path) -> None:
    """Found by the long run of test_fix_of_generated_projects (behaviour check):
    with --strategy lazy-modules, `import os, uuid` lost `uuid` (it was listed in
    __lazy_modules__ but no longer imported: NameError at run time)."""
    text = "import os, uuid\n\n\ndef f_1():\n    return (uuid.UUID, os.sep)\n"
    write_project(tmp_path, {"pyproject.toml": PKG_MOD_ENTRY,
                             "pkg/__init__.py": "", "pkg/mod.py": text})
    request = FixRequest(paths=[tmp_path / "pkg"], strategy="lazy-modules", jobs=1, use_cache=False)
    run_fix(request, load_config(tmp_path))
    fixed = (tmp_path / "pkg/mod.py").read_text()
    assert fixed == '__lazy_modules__ = ["uuid"]  # PEP 810: lazy on Python 3.15+\n' + text
    assert behaviour(fixed) == behaviour(text) == {"f_1": ("ok", (uuid.UUID, os.sep))}
