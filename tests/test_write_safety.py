"""Small defects of issue 16, each with its test: stubs are never rewritten,
a file reached through a symlink alias is reported once, report files get
the umask's permissions, and a run cleans up the temp files a killed run
left beside the user's files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import run_advisor

COSTLY = textwrap.dedent('''\
    import asyncio


    def run(coro):
        return asyncio.run(coro)
    ''')

STUB = textwrap.dedent('''\
    import asyncio

    def run(coro: asyncio.Future) -> None: ...
    def loop() -> asyncio.AbstractEventLoop: ...
    ''')


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "cli.py").write_text(COSTLY)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\n[project.scripts]\np = "pkg.cli:main"\n'
                                             '[tool.advisor]\nmeasure-imports = false\n')
    return tmp_path


def test_fix_never_rewrites_a_stub(project: Path) -> None:
    stub = project / "pkg" / "cli.pyi"
    stub.write_text(STUB)
    diff = run_advisor("fix", ".", "--diff", cwd=project)
    assert "+++ b/pkg/cli.py\n" in diff.stdout and "pkg/cli.pyi" not in diff.stdout
    done = run_advisor("fix", ".", cwd=project)
    assert done.returncode == 1, done.stdout + done.stderr  # the stub's finding is left alone
    assert "pkg/cli.pyi:1: left alone" in done.stdout and "never rewritten" in done.stdout
    assert stub.read_text() == STUB
    assert "    import asyncio" in (project / "pkg" / "cli.py").read_text()


def test_a_symlink_alias_inside_the_tree_is_reported_once(project: Path) -> None:
    (project / "pkg" / "alias.py").symlink_to("cli.py")
    (project / "pkg" / "sub").mkdir()
    (project / "pkg" / "sub" / "again.py").symlink_to(project / "pkg" / "cli.py")
    done = run_advisor("scan", ".", "--format", "json", cwd=project)
    report = json.loads(done.stdout)
    assert [f["path"] for f in report["findings"]] == ["pkg/cli.py"]
    assert report["summary"]["files"] == 2  # __init__.py and cli.py, each once


def test_a_symlink_to_an_excluded_file_is_still_scanned(project: Path) -> None:
    """The alias is then the only name under which the file is scanned."""
    (project / "build").mkdir()
    (project / "pkg" / "cli.py").rename(project / "build" / "cli.py")
    (project / "pkg" / "cli.py").symlink_to(project / "build" / "cli.py")
    report = json.loads(run_advisor("scan", ".", "--format", "json", cwd=project).stdout)
    assert [f["path"] for f in report["findings"]] == ["pkg/cli.py"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_report_files_get_the_umasks_permissions(project: Path, tmp_path: Path, umask: int, mode: int) -> None:
    out = tmp_path / f"report-{umask:o}.json"
    subprocess.run([sys.executable, "-m", "advisor", "scan", ".", "-o", str(out)], cwd=project,
                   preexec_fn=lambda: os.umask(umask), capture_output=True, timeout=300)
    assert out.stat().st_mode & 0o777 == mode


def test_an_existing_report_keeps_its_mode(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("{}")
    out.chmod(0o640)
    run_advisor("scan", ".", "-o", str(out), cwd=project)
    assert out.stat().st_mode & 0o777 == 0o640 and out.read_text() != "{}"


KILLED_WRITE = '''
import os, signal, sys
from pathlib import Path
from advisor.atomic import atomic_write_with

def write(handle):
    handle.write(b"half a file")
    handle.flush()
    os.kill(os.getpid(), signal.SIGKILL)

atomic_write_with(Path(sys.argv[1]), write)
'''


def test_a_rerun_removes_the_temp_files_a_killed_fix_left(project: Path) -> None:
    target = project / "pkg" / "cli.py"
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITE, str(target)], capture_output=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL
    left = [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")]
    assert len(left) == 1 and left[0].startswith(".cli.py.advisor-")  # what a SIGKILL mid-write leaves
    assert target.read_text() == COSTLY  # the file itself is intact
    alive = target.parent / f".cli.py.advisor-{os.getpid()}.abcd1234.tmp"  # another run still writing
    alive.write_text("in progress")
    unrelated = target.parent / ".cli.py.swp"
    unrelated.write_text("an editor's")
    diff = run_advisor("fix", ".", "--diff", cwd=project)
    assert diff.returncode == 1 and (target.parent / left[0]).exists()  # --diff writes (and removes) nothing
    done = run_advisor("fix", ".", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "removed 1 temp file a killed run left" in done.stdout
    assert not (target.parent / left[0]).exists()
    assert alive.exists() and unrelated.exists()
    assert sorted(p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")) == [alive.name]
