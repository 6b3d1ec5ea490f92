"""``fix --verify`` imports each startup entry before and after the fixes and
rolls back a written file that removed nothing (advisor/fix/entry_check.py):
the startup model cannot see a module loaded by name, so its expectation is
checked against what the entries really load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Sequence

from advisor.findings import Finding, Impact, Span
from advisor.fix.entry_check import check_entries
from advisor.fix.runner import FileFix, FixReport
from conftest import run_advisor

PYPROJECT = """\
[project]
name = "demo"
version = "0.1"

[project.scripts]
demo = "pkg.cli:main"

[tool.advisor]
measure-imports = false
"""
USES_ASYNCIO = """\
import asyncio


def later():
    return asyncio.sleep
"""


def _project(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"pyproject.toml": PYPROJECT, "pkg/__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_fix_the_model_expects_to_pay_but_that_removed_nothing_is_rolled_back(tmp_path: Path) -> None:
    # pkg.keep loads tomllib by a computed name (a plugin hook): the static model
    # cannot see it, so it expects deferring `import tomllib` in pkg.unpaid to pay.
    project = _project(tmp_path / "p", {
        "pkg/cli.py": "from pkg import keep, paid, unpaid\n\n\ndef main():\n    return keep, paid, unpaid\n",
        "pkg/paid.py": USES_ASYNCIO,
        "pkg/unpaid.py": "import tomllib\n\n\ndef later(text):\n    return tomllib.loads(text)\n",
        "pkg/keep.py": 'NAME = "toml" + "lib"\nPARSER = __import__(NAME)\n',
    })
    unpaid = (project / "pkg/unpaid.py").read_text()
    scan = run_advisor("scan", ".", cwd=project)
    assert "pkg/unpaid.py:1:1: lazy-imports `tomllib`" in scan.stdout  # the model does expect a saving
    result = run_advisor("fix", ".", "--verify", f"{sys.executable} -c \"import pkg.cli\"", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (project / "pkg/unpaid.py").read_text() == unpaid
    assert "def later():\n    import asyncio\n" in (project / "pkg/paid.py").read_text()
    lines = result.stdout.splitlines()
    assert ("pkg/unpaid.py:1: rolled back: moved `import tomllib` into later() (console script `demo` still loads "
            "tomllib with it fixed: the fix removed nothing)") in lines
    assert "advisor fix --rule lazy-imports: 1 fix in 1 file written; 1 rolled back; 2 rounds" in lines
    # The expected saving counts only what stays written: asyncio's table figure, not tomllib's.
    assert "  console script `demo`: ~48 ms of ~65 ms" in lines
    removed = next(line for line in lines if line.startswith("  console script `demo`: ") and "no longer loaded" in line)
    assert int(removed.split(": ")[1].split()[0]) > 0  # asyncio and its submodules went
    # The tree as left really does stop loading asyncio, and still loads tomllib.
    log = subprocess.run([sys.executable, "-X", "importtime", "-c", "import pkg.cli"], cwd=project,
                         capture_output=True, text=True, check=True).stderr
    assert " tomllib\n" in log and " asyncio\n" not in log


def test_a_fix_that_paid_only_with_one_verify_rolled_back_goes_too(tmp_path: Path) -> None:
    # a and b both import asyncio: only deferring both removes it. The tests need
    # b.asyncio, so --verify puts b back; then a's fix removes nothing, and goes.
    project = _project(tmp_path / "p", {
        "pkg/cli.py": "from pkg import a, b\n\n\ndef main():\n    return a, b\n",
        "pkg/a.py": USES_ASYNCIO, "pkg/b.py": USES_ASYNCIO,
        "check.py": 'import pkg.b\nassert hasattr(pkg.b, "asyncio"), "pkg.b.asyncio is gone"\n',
    })
    result = run_advisor("fix", "pkg", "--verify", f"{sys.executable} check.py", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (project / "pkg/a.py").read_text() == USES_ASYNCIO == (project / "pkg/b.py").read_text()
    assert "pkg/b.py:1: rolled back: moved `import asyncio` into later() (the --verify command failed with it)" \
        in result.stdout
    assert "rolled back pkg/a.py: console script `demo` still loads asyncio with it fixed" in result.stdout


def _written(root: Path, name: str, statement: str) -> FileFix:
    path = root / "pkg" / name
    path.parent.mkdir(exist_ok=True)
    (root / "pkg" / "__init__.py").touch()
    path.write_text("fixed\n")
    entry = FileFix(path, f"pkg/{name}", b"original\n", fixed=b"fixed\n")
    entry.applied.append(Finding("lazy-imports", entry.display, Span(1, 0, 1, 10), "m",
                                 Impact("startup", 10.0, "importtime"), data={"statement": statement}))
    return entry


def _log(modules: Sequence[str]) -> str:
    return "".join(f"import time:       100 |        100 | {m}\n" for m in modules)


def _fake(root: Path, loads: dict[str, tuple[list[str], list[str]]], failing: str = ""):
    """An import logger reading which variant of pkg/*.py is on disk."""
    def log(roots: Sequence[str]) -> tuple[str | None, str]:
        if failing in roots:
            return None, "ImproperlyConfigured"
        fixed = all(p.read_text() == "fixed\n" for p in (root / "pkg").glob("[!_]*.py"))
        before, after = loads[roots[0]]
        return _log(after if fixed else before), ""
    return log


def test_a_file_counts_as_paying_when_any_entry_that_loads_it_stopped_loading_a_deferred_module(tmp_path) -> None:
    # pkg.tools defers email: `import pkg.web` still loads email (elsewhere), `import pkg.cli` no longer does.
    tools = _written(tmp_path, "tools.py", "import email")
    report = FixReport("lazy-imports", files={tools.path: tools}, written=True,
                       entries=[("web", ("pkg.web",)), ("cli", ("pkg.cli",))])
    loads = {"pkg.web": (["pkg", "pkg.tools", "email"], ["pkg", "pkg.tools", "email"]),
             "pkg.cli": (["pkg", "pkg.tools", "email"], ["pkg", "pkg.tools"])}
    checked = check_entries(report, sys.executable, tmp_path, None, 10, log=_fake(tmp_path, loads))
    assert checked.rolled_back == [] and tools.path.read_text() == "fixed\n" and tools.changed
    assert checked.lines()[1:] == ["  cli: 1 module no longer loaded (0.1 ms self time)", "  web: no module less"]


def test_unchecked_entries_are_no_evidence_and_are_said(tmp_path) -> None:
    tools = _written(tmp_path, "tools.py", "import email")
    report = FixReport("lazy-imports", files={tools.path: tools}, written=True,
                       entries=[("django", ("pkg.settings",)), ("main", ("pkg.__main__",))])
    checked = check_entries(report, sys.executable, tmp_path, None, 10,
                            log=_fake(tmp_path, {}, failing="pkg.settings"))
    assert tools.changed and checked.rolled_back == []
    assert checked.lines()[1:] == ["  django: not checked (the import failed: ImproperlyConfigured)",
                                   "  main: not checked (importing a __main__ module runs the program)"]


def test_when_the_command_fails_after_the_rollback_every_fix_goes_back(tmp_path) -> None:
    paid = _written(tmp_path, "paid.py", "import asyncio")
    unpaid = _written(tmp_path, "unpaid.py", "import email")
    report = FixReport("lazy-imports", files={e.path: e for e in (paid, unpaid)}, written=True,
                       entries=[("cli", ("pkg.cli",))])
    loads = {"pkg.cli": (["pkg.paid", "pkg.unpaid", "asyncio", "email"], ["pkg.paid", "pkg.unpaid", "email"])}
    runs: list[str] = []

    def command() -> tuple[bool, str]:
        runs.append("ran")
        return False, "boom"

    checked = check_entries(report, sys.executable, tmp_path, command, 10, log=_fake(tmp_path, loads))
    assert runs == ["ran"]
    assert [line.split(":")[0] for line in checked.rolled_back] == ["pkg/unpaid.py"]
    assert checked.reverted_all and not report.changed
    assert paid.path.read_text() == unpaid.path.read_text() == "original\n"
    assert "every fix was rolled back" in checked.lines()[-1]


def test_the_fixed_tree_is_left_in_place_when_nothing_is_rolled_back(tmp_path) -> None:
    paid = _written(tmp_path, "paid.py", "import asyncio")
    report = FixReport("lazy-imports", files={paid.path: paid}, written=True, entries=[("cli", ("pkg.cli",))])
    loads = {"pkg.cli": (["pkg.paid", "asyncio"], ["pkg.paid"])}
    checked = check_entries(report, sys.executable, tmp_path, lambda: (False, "never run"), 10,
                            log=_fake(tmp_path, loads))
    assert checked.rolled_back == [] and not checked.reverted_all
    assert paid.path.read_text() == "fixed\n"


def test_an_entry_that_imports_only_without_the_fixes_rolls_every_fix_back(tmp_path) -> None:
    paid = _written(tmp_path, "paid.py", "import asyncio")
    report = FixReport("lazy-imports", files={paid.path: paid}, written=True, entries=[("cli", ("pkg.cli",))])

    def log(roots: Sequence[str]) -> tuple[str | None, str]:
        fixed = paid.path.read_text() == "fixed\n"
        return (None, "NameError") if fixed else (_log(["pkg.cli", "pkg.paid", "asyncio"]), "")

    checked = check_entries(report, sys.executable, tmp_path, lambda: (True, ""), 10, log=log)
    assert paid.path.read_text() == "original\n" and not report.changed
    assert paid.rolled_back == "cli no longer imports with the fixes (NameError)"
    assert checked.lines()[1:] == ["  cli: not checked (the import fails with the fixes: NameError)",
                                   "  cli imports without the fixes but not with them: every fix was rolled back"]


def test_after_every_fix_is_rolled_back_no_saving_is_expected(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", {"pkg/cli.py": "from pkg import a\n\n\ndef main():\n    return a\n",
                                        "pkg/a.py": USES_ASYNCIO})
    fixed = run_advisor("fix", "pkg", "--diff", cwd=project)
    assert "expected startup saving" in fixed.stderr  # the model does expect one from the fix
    result = run_advisor("fix", "pkg", "--verify", f"{sys.executable} -c \"raise SystemExit(3)\"", cwd=project)
    assert result.returncode == 2 and (project / "pkg/a.py").read_text() == USES_ASYNCIO
    assert "fails even without the fixes" in result.stdout
    assert "expected startup saving" not in result.stdout
