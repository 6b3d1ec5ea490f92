"""`advisor fix --rule lazy-imports` end to end, on a copy of fixtures/traps:
a project with every trap of the design guide (its own tests fail when one
is sprung) and a few imports that can genuinely be deferred."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.evidence.importtime import parse_importtime
from advisor.findings import Finding, Span
from advisor.fix import FixOptions
from advisor.rules.lazy_imports.codemod import fix_source
from conftest import FIXTURES, run_advisor

TRAPS = FIXTURES / "traps"
DEFERRED = ("asyncio", "http.client", "unittest.mock", "email.mime.multipart")


def copy_traps(target: Path) -> Path:
    shutil.copytree(TRAPS, target, ignore=shutil.ignore_patterns("expected", ".advisor", "__pycache__", ".pytest_cache"))
    return target


def import_log(project: Path, module: str = "traps.app") -> str:
    env = {**os.environ, "PYTHONPATH": str(project), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def run_fixture_tests(project: Path, *select: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests", *select],
                          cwd=project, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


#: Modules whose names must stay module attributes: only `fix --unsafe` defers them (PEP 562).
UNSAFE = ("u_patched.py", "u_reexport.py", "u_shared.py")


@pytest.fixture(scope="module")
def fixed(tmp_path_factory):
    """The traps after `advisor fix` (the safe tier), then `advisor fix --unsafe`."""
    project = copy_traps(tmp_path_factory.mktemp("traps") / "traps")
    before = import_log(project)
    # --measure-project: the traps' costly project module costs its own top-level
    # code (a sleep), which only importing it shows (by default it is never run)
    result = run_advisor("fix", "traps", "--rule", "lazy-imports", "--measure-project", cwd=project)
    after_safe = {name: (project / "traps" / name).read_bytes() for name in UNSAFE}
    unsafe = run_advisor("fix", "traps", "--rule", "lazy-imports", "--measure-project", "--unsafe", cwd=project)
    return project, before, result, after_safe, unsafe


def test_fix_succeeds_and_reports_what_moved_and_what_stayed(fixed):
    project, _, result, _, _ = fixed
    # 1: the unsafe findings were left as they were (exit 0 once --unsafe fixed them, below)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "traps/app.py:5: fixed: moved `import asyncio` into _gather(), gather()" in out
    assert "traps/hints_only.py:3: fixed: moved `import http.client` under `if TYPE_CHECKING:`" in out
    # the summary ends with what the startup model expects, per entry point (pyproject's script and entry-points)
    expected = out[out.index("expected startup saving, per entry point"):].splitlines()
    entries = {line.split(": ~")[0].strip() for line in expected[1:] if line.startswith("  ")}
    assert entries == {"console script `traps`", "`import traps.hints_only`", "`import traps.legacy`"}
    for reason in ("side effects", "optional-dependency probe", "runs in a loop", "loaded at startup anyway",
                   "reads annotations at run time", "used while the module is imported"):
        assert reason in out, reason


def test_the_safe_tier_leaves_the_unsafe_findings_alone_and_says_why(fixed):
    project, _, result, after_safe, _ = fixed
    out = result.stdout
    for name, why in (("u_patched.py", "`traps.u_patched.urlopen` is patched by tests/test_traps.py"),
                      ("u_reexport.py", "`ServerProxy` is re-exported through __all__"),
                      ("u_shared.py", "`SMTP` is imported from this module by traps/u_mailer.py")):
        assert f"traps/{name}" in out and f"an unsafe fix ({why}" in out and "applied only with --unsafe" in out, name
        assert after_safe[name] == (TRAPS / "traps" / name).read_bytes(), f"{name} changed without --unsafe"


def test_the_unsafe_tier_defers_them_with_a_module_getattr(fixed):
    _, _, _, _, unsafe = fixed
    assert unsafe.returncode == 0, unsafe.stdout + unsafe.stderr
    for name, statement, function in (("u_patched.py", "from urllib.request import urlopen", "fetch_text"),
                                      ("u_reexport.py", "from xmlrpc.client import ServerProxy", "connect"),
                                      ("u_shared.py", "from smtplib import SMTP", "smtp_client")):
        line = f"traps/{name}:"
        assert f"fixed: moved `{statement}` into the module's __getattr__ (PEP 562), called first in {function}()" in unsafe.stdout
        assert line in unsafe.stdout


def test_fixed_files_pass_the_formatters_checks(fixed):
    project, _, _, _, _ = fixed
    changed = [str(p) for p in sorted((project / "traps").glob("*.py")) if (TRAPS / "expected" / "traps" / p.name).exists()]
    assert len(changed) == 6
    utf8 = [p for p in changed if not p.endswith("legacy.py")]  # ruff reads UTF-8 only; legacy.py is Latin-1
    for command, files in ((["black", "--check", "--quiet"], changed), (["ruff", "format", "--check", "--quiet"], utf8)):
        done = subprocess.run([sys.executable, "-m", *command, *files], cwd=project,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (command, done.stdout, done.stderr)


def test_every_file_compiles_and_equals_the_expected_files(fixed):
    project, _, _, _, _ = fixed
    expected_dir = TRAPS / "expected"
    for path in sorted((project / "traps").glob("*.py")):
        data = path.read_bytes()
        compile(data, str(path), "exec")
        relative = path.relative_to(project)
        expected = expected_dir / relative
        want = expected.read_bytes() if expected.exists() else (TRAPS / relative).read_bytes()
        assert data == want, f"{relative} differs from {'expected/' if expected.exists() else 'the original'}"


def test_fixture_tests_pass_after_the_fix(fixed):
    project, _, _, _, _ = fixed
    done = run_fixture_tests(project)
    assert done.returncode == 0, done.stdout[-3000:]


def test_deferred_modules_leave_the_startup_import_log(fixed):
    project, before, _, _, _ = fixed
    after = import_log(project)
    loaded_before = {r.module for r in parse_importtime(before)}
    loaded_after = {r.module for r in parse_importtime(after)}
    for module in DEFERRED:
        assert module in loaded_before and module not in loaded_after, module

    def cumulative(log: str) -> int:
        return next(r.cumulative_us for r in parse_importtime(log) if r.module == "traps.app")

    # What left is asyncio, unittest.mock, http.client and email.mime (well over
    # 50 ms here), so this comparison has a wide margin.
    assert cumulative(after) < cumulative(before)


def test_second_run_changes_nothing(fixed):
    project, _, _, _, _ = fixed
    snapshot = {p: p.read_bytes() for p in (project / "traps").glob("*.py")}
    again = run_advisor("fix", "traps", "--unsafe", cwd=project)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to fix" in again.stdout
    assert snapshot == {p: p.read_bytes() for p in (project / "traps").glob("*.py")}


def test_diff_prints_and_writes_nothing(tmp_path):
    project = copy_traps(tmp_path / "traps")
    snapshot = {p: p.read_bytes() for p in project.rglob("*.py")}
    result = run_advisor("fix", "traps", "--diff", "--no-measure", cwd=project)
    assert result.returncode == 1, result.stderr
    assert "--- a/traps/app.py\n+++ b/traps/app.py\n" in result.stdout
    assert "+    import asyncio\n" in result.stdout
    assert snapshot == {p: p.read_bytes() for p in project.rglob("*.py")}


# -- the traps really are traps: spring each one and the fixture's tests fail -----------------

SPRUNG = [
    ("t_pydantic.py", "from traps.heavy import Thing", ["Thing"], [], "annotations", "test_pydantic"),
    ("t_dataclass.py", "from traps.heavy import Registry, Thing", ["Registry", "Thing"], [], "annotations", "test_dataclass"),
    ("t_singledispatch.py", "from traps.heavy import Thing", ["Thing"], [], "annotations", "test_singledispatch"),
    ("t_hints.py", "from traps.heavy import Thing", ["Thing"], [], "annotations", "test_get_type_hints"),
    ("t_reexport.py", "from traps.heavy import Thing", ["Thing"], ["make"], "functions", "test_reexported"),
    ("t_elsewhere.py", "from traps.heavy import twice", ["twice"], ["quadruple"], "functions", "test_name_imported_by_another"),
    ("t_patched.py", "from traps.heavy import fetch", ["fetch"], ["load"], "functions", "test_mock_patch_string"),
    ("t_side_effect.py", "import traps.plugins", ["traps"], ["plugin_names"], "functions", "test_side_effect"),
    ("t_loop_callee.py", "from traps import heavy", ["heavy"], ["norm"], "functions", "test_loop_callee"),
    ("t_startup.py", "import ssl", ["ssl"], ["parse"], "functions", "test_startup_path"),
    ("t_module_level.py", "from traps import heavy", ["heavy"], ["start"], "functions", "test_module_level"),
    ("t_decorator.py", "from traps import heavy", ["heavy"], ["job"], "functions", "test_decorator"),
    ("t_base.py", "from traps import heavy", ["heavy"], ["Special.run"], "functions", "test_base_class"),
    ("t_default.py", "from traps import heavy", ["heavy"], ["scale"], "functions", "test_base_class"),
    ("t_class_body.py", "from traps import heavy", ["heavy"], ["Job.run"], "functions", "test_base_class"),
    # the unsafe tier's modules: moving their imports into the function (the safe strategy) breaks them
    ("u_patched.py", "from urllib.request import urlopen", ["urlopen"], ["fetch_text"], "functions", "test_patched_by"),
    ("u_reexport.py", "from xmlrpc.client import ServerProxy", ["ServerProxy"], ["connect"], "mixed", "test_reexported_through"),
    ("u_shared.py", "from smtplib import SMTP", ["SMTP"], ["smtp_client"], "functions", "test_imported_from_another"),
]


@pytest.mark.parametrize(("name", "statement", "names", "functions", "usage", "test"), SPRUNG, ids=[s[0][:-3] for s in SPRUNG])
def test_springing_a_trap_fails_the_fixtures_own_tests(tmp_path, name, statement, names, functions, usage, test):
    project = copy_traps(tmp_path / "traps")
    path = project / "traps" / name
    finding = Finding("lazy-imports", name, Span(1, 0, 1, 0), "forced", impact=None,  # type: ignore[arg-type]
                      data={"statement": statement, "names": names, "functions": functions, "usage": usage,
                            "module": statement.split()[1]})
    text, outcomes = fix_source(path.read_text(), [finding], FixOptions(module=f"traps.{name[:-3]}"))
    assert outcomes[0].applied, outcomes[0].detail
    path.write_text(text)
    done = run_fixture_tests(project, "-k", test)
    assert done.returncode != 0, f"moving `{statement}` in {name} did not break {test}"
