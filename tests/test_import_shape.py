"""Moved imports keep their shape (rules/lazy_imports/import_shape.py): a wrapped
``from x import (...)`` stays wrapped, a one-line import that would pass the
line length once indented is wrapped as black and ruff wrap it, and a tree
that passes ``black --check`` / ``ruff format --check`` still passes after
``advisor fix`` (on the fixtures and on a real package's files).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

from advisor.findings import Finding, FixInfo, Impact, Span
from advisor.fix import FixOptions
from advisor.fix.line_length import project_line_length
from advisor.rules.lazy_imports.codemod import fix_source
from conftest import FIXTURES, run_advisor

FORMATTERS = {
    "black": ([sys.executable, "-m", "black", "-q"], [sys.executable, "-m", "black", "-q", "--check"]),
    # ruff reads only UTF-8: the traps fixture's latin-1 legacy.py is black's alone
    "ruff": (["ruff", "format", "-q", "--extend-exclude", "legacy.py"],
             ["ruff", "format", "-q", "--check", "--extend-exclude", "legacy.py"]),
}


def _finding(module: str, names: list[str], functions: list[str], line: int) -> Finding:
    statement = f"from {module} import {', '.join(sorted(names))}"
    return Finding("lazy-imports", "m.py", Span(line, 0, line, 0), "msg", Impact("startup"), FixInfo(True, "safe"),
                   data={"statement": statement, "module": module, "names": names, "functions": functions,
                         "usage": "functions"})


def test_a_wrapped_import_moves_wrapped_with_its_comments() -> None:
    source = dedent("""\
        from email.mime.multipart import (  # mail building
            MIMEMultipart,
            MIMEBase,  # attachments
        )


        class Mailer:
            def build(self):
                return MIMEMultipart(), MIMEBase("a", "b")
    """)
    finding = _finding("email.mime.multipart",
                       ["MIMEMultipart", "MIMEBase"], ["Mailer.build"], 1)
    fixed, outcomes = fix_source(source, [finding], FixOptions(module="m"))
    assert outcomes[0].applied, outcomes
    assert fixed == dedent("""\
        class Mailer:
            def build(self):
                from email.mime.multipart import (  # mail building
                    MIMEMultipart,
                    MIMEBase,  # attachments
                )

                return MIMEMultipart(), MIMEBase("a", "b")
    """)


def test_a_split_import_keeps_the_closing_parenthesis_in_place() -> None:
    source = dedent("""\
        from os.path import (
            join,
            split,
        )


        def a():
            return join


        def b():
            return split
    """)
    finding = _finding("os.path", ["join", "split"], ["a", "b"], 1)
    fixed, _ = fix_source(source, [finding], FixOptions(module="m"))
    assert fixed == dedent("""\
        def a():
            from os.path import (
                join,
            )

            return join


        def b():
            from os.path import (
                split,
            )

            return split
    """)


def test_a_one_line_import_past_the_line_length_once_indented_is_wrapped() -> None:
    names = ", ".join(f"name_{i}" for i in range(8))
    source = f"from package.mod import {names}\n\n\nclass K:\n    def m(self):\n        return [{names}]\n"
    assert len(source.splitlines()[0]) <= 88 < len(source.splitlines()[0]) + 8
    finding = _finding("package.mod", names.split(", "), ["K.m"], 1)
    fixed, _ = fix_source(source, [finding], FixOptions(module="m", extra={"line_length": 88}))
    wrapped = "\n".join(["        from package.mod import ("] + [f"            name_{i}," for i in range(8)] + ["        )"])
    assert wrapped in fixed
    short, _ = fix_source(source, [finding], FixOptions(module="m", extra={"line_length": 120}))
    assert f"        from package.mod import {names}\n" in short


def test_the_line_length_comes_from_the_formatters_settings(tmp_path: Path) -> None:
    assert project_line_length(tmp_path) == 88
    (tmp_path / "pyproject.toml").write_text('[tool.black]\nline-length = 100\n[tool.ruff]\nline-length = 79\n')
    assert project_line_length(tmp_path) == 79
    (tmp_path / "pyproject.toml").write_text('[tool.black]\nline-length = 120\n')
    assert project_line_length(tmp_path) == 120


#: A black- and ruff-formatted module whose deferrable imports are wrapped
#: (and one that is 86 characters long: 94 once indented into a method).
WRAPPED = {
    "pyproject.toml": '[project]\nname = "wrapped"\n[tool.advisor]\nmeasure-imports = false\n',
    "wrapped/__init__.py": "",
    "wrapped/mail.py": dedent('''\
        """Mail helpers."""

        from __future__ import annotations

        from email.mime.multipart import (  # mail building
            MIMEMultipart,
            MIMEBase,
        )
        from asyncio import gather, sleep, run, create_task, wait_for, Queue, Event, Semaphore


        class Mailer:
            def build(self) -> object:
                return MIMEMultipart(), MIMEBase("a", "b")

            def tasks(self) -> object:
                return gather, sleep, run, create_task, wait_for, Queue, Event, Semaphore
    '''),
}


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _formatted_copy(source: Path, destination: Path, formatter: str) -> Path:
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns(".advisor", "__pycache__"))
    fmt, check = FORMATTERS[formatter]
    subprocess.run([*fmt, "."], cwd=destination, check=True)
    assert subprocess.run([*check, "."], cwd=destination).returncode == 0
    return destination


def _python_files(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(root.rglob("*.py"))}


@pytest.mark.parametrize("formatter", sorted(FORMATTERS))
@pytest.mark.parametrize("fixture", ["wrapped", "slowcli", "hotcold", "traps"])
def test_formatted_fixtures_stay_formatted_after_fix(tmp_path: Path, fixture: str, formatter: str) -> None:
    if formatter == "ruff" and shutil.which("ruff") is None:
        pytest.skip("ruff is not installed (pip install -e .[test])")
    source = _write(tmp_path / "source", WRAPPED) if fixture == "wrapped" else FIXTURES / fixture
    project = _formatted_copy(source, tmp_path / fixture, formatter)
    before = _python_files(project)
    result = run_advisor("fix", ".", "--no-measure", "--no-cache", cwd=project)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    if fixture in ("wrapped", "slowcli"):
        assert _python_files(project) != before  # the check below is not vacuous
    if fixture == "wrapped":
        fixed = (project / "wrapped" / "mail.py").read_text()
        assert "        from email.mime.multipart import (  # mail building\n" in fixed
        assert "        from asyncio import (\n            gather,\n" in fixed
    check = subprocess.run([*FORMATTERS[formatter][1], "."], cwd=project, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("formatter", sorted(FORMATTERS))
def test_a_real_package_stays_formatted_after_fix(tmp_path: Path, formatter: str) -> None:
    """pre-commit (a test dependency) has a dozen deferrable imports, some wrapped."""
    if formatter == "ruff" and shutil.which("ruff") is None:
        pytest.skip("ruff is not installed (pip install -e .[test])")
    import pre_commit

    project = tmp_path / "real"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "real"\n[tool.advisor]\nmeasure-imports = false\n')
    _formatted_copy(Path(pre_commit.__file__).parent, project / "pre_commit", formatter)
    before = _python_files(project)
    result = run_advisor("fix", ".", "--no-cache", "--jobs", "2", cwd=project)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    changed = [p for p, data in _python_files(project).items() if before[p] != data]
    assert len(changed) >= 3, result.stdout
    check = subprocess.run([*FORMATTERS[formatter][1], "."], cwd=project, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    for path in changed:
        compile(path.read_bytes(), str(path), "exec")
