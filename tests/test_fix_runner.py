"""The fix runner's promises: encodings, newlines and modes kept, nothing
written outside the given paths or through a link leading out, files
changed since analysis left alone, --verify rollback, --measure, exit codes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from advisor.config import load_config, with_overrides
from advisor.fix import runner
from advisor.fix.runner import FixRequest, run_fix
from conftest import run_advisor

DEFERRABLE = "import asyncio\n\n\ndef run():\n    return asyncio.run(asyncio.sleep(0, result=1))\n"
FIXED = "def run():\n    import asyncio\n\n    return asyncio.run(asyncio.sleep(0, result=1))\n"
PYPROJECT = '[project]\nname = "demo"\n\n[tool.advisor]\nmeasure-imports = false\n'


def make_project(root: Path, files: dict[str, bytes | str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)
    return root


def test_encoding_bom_newlines_and_mode_are_kept(tmp_path):
    latin = "# -*- coding: latin-1 -*-\n# caf\xe9\n" + DEFERRABLE
    project = make_project(tmp_path / "p", {
        "crlf.py": DEFERRABLE.replace("\n", "\r\n"),
        "bom.py": b"\xef\xbb\xbf" + DEFERRABLE.encode(),
        "latin.py": latin.encode("latin-1"),
        "tool.py": "#!/usr/bin/env python\n" + DEFERRABLE,
    })
    os.chmod(project / "tool.py", 0o755)
    result = run_advisor("fix", ".", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    crlf = (project / "crlf.py").read_bytes()
    assert crlf == FIXED.replace("\n", "\r\n").encode()
    assert (project / "bom.py").read_bytes() == b"\xef\xbb\xbf" + FIXED.encode()
    assert (project / "latin.py").read_bytes() == ("# -*- coding: latin-1 -*-\n# caf\xe9\n\n\n" + FIXED).encode("latin-1")
    assert (project / "tool.py").stat().st_mode & 0o777 == 0o755
    for name in ("crlf.py", "bom.py", "latin.py", "tool.py"):
        compile((project / name).read_bytes(), name, "exec")


def test_never_writes_through_a_link_leading_outside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "mod.py").write_text(DEFERRABLE)
    project = make_project(tmp_path / "p", {"inside.py": DEFERRABLE})
    (project / "link.py").symlink_to(outside / "mod.py")
    result = run_advisor("fix", ".", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (outside / "mod.py").read_text() == DEFERRABLE
    assert (project / "link.py").is_symlink()
    assert (project / "inside.py").read_text() == FIXED


def test_only_the_given_paths_are_written(tmp_path):
    project = make_project(tmp_path / "p", {"pkg/a.py": DEFERRABLE, "other/b.py": DEFERRABLE})
    result = run_advisor("fix", "pkg", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (project / "pkg/a.py").read_text() == FIXED
    assert (project / "other/b.py").read_text() == DEFERRABLE


def test_a_file_changed_since_analysis_is_skipped(tmp_path, monkeypatch):
    project = make_project(tmp_path / "p", {"a.py": DEFERRABLE, "b.py": DEFERRABLE})
    real_scan = runner._scan

    edits = []

    def scan_then_edit(*args, **kwargs):
        findings = real_scan(*args, **kwargs)
        if not edits:  # someone saves b.py between the analysis and the fix
            edits.append(1)
            with open(project / "b.py", "a") as handle:
                handle.write("# edited meanwhile\n")
        return findings

    monkeypatch.setattr(runner, "_scan", scan_then_edit)
    monkeypatch.chdir(project)
    config = with_overrides(load_config(project), measure_imports=False)
    report = run_fix(FixRequest(paths=[Path(".")], use_cache=False, jobs=1), config)
    assert (project / "a.py").read_text() == FIXED
    assert (project / "b.py").read_text() == DEFERRABLE + "# edited meanwhile\n"
    skipped = {f.path.name: f.skipped for f in report.files.values() if f.skipped}
    assert "changed on disk" in skipped["b.py"]


def test_verify_rolls_back_only_the_fix_that_breaks_the_command(tmp_path):
    project = make_project(tmp_path / "p", {
        "a.py": DEFERRABLE,
        "b.py": DEFERRABLE,
        "check.py": "import b\nassert hasattr(b, 'asyncio'), 'b.asyncio is gone'\n",
    })
    result = run_advisor("fix", "a.py", "b.py", "--verify", f"{sys.executable} check.py", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (project / "a.py").read_text() == FIXED
    assert (project / "b.py").read_text() == DEFERRABLE
    assert "rolled back: b.py:1 `import asyncio`" in result.stdout
    assert "kept: a.py:1 `import asyncio`" in result.stdout


def test_verify_when_the_command_fails_anyway_rolls_everything_back(tmp_path):
    project = make_project(tmp_path / "p", {"a.py": DEFERRABLE})
    result = run_advisor("fix", ".", "--verify", f"{sys.executable} -c \"raise SystemExit(3)\"", cwd=project)
    assert result.returncode == 2
    assert (project / "a.py").read_text() == DEFERRABLE
    assert "fails even without the fixes" in result.stdout


def test_measure_reports_before_after_and_the_verdict(tmp_path):
    project = make_project(tmp_path / "p", {"a.py": DEFERRABLE})
    result = run_advisor("fix", ".", "--measure", f"{sys.executable} -c \"import a\"", "--runs", "2", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 runs each, interleaved" in result.stdout
    for word in ("before", "after", "modules no longer loaded"):
        assert word in result.stdout
    assert "fewer than 3 pairs" in result.stdout  # two pairs never claim a saving


@pytest.mark.parametrize(("args", "code"), [
    (["--diff"], 0),
    (["--rule", "no-such-rule"], 2),
    (["--diff", "--verify", "true"], 2),
], ids=["diff-with-nothing-to-change", "unknown-rule", "diff-with-verify"])
def test_exit_codes(tmp_path, args, code):
    project = make_project(tmp_path / "p", {"clean.py": "import os\n\nSEP = os.sep\n"})
    result = run_advisor("fix", ".", *args, cwd=project)
    assert result.returncode == code, result.stdout + result.stderr
