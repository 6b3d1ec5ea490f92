"""``advisor fix --diff`` shows exactly what ``advisor fix`` writes, every
round included (advisor/fix/preview.py), and writes nothing.

Each case runs ``fix --diff`` on one copy of a project and ``fix`` on
another, then checks that the printed diff is the diff between the original
files and the files ``fix`` wrote (rendered the same way, in each file's
own encoding, so a latin-1 file compares too).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path
from textwrap import dedent

import pytest

from advisor.config import load_config
from advisor.fix.preview import preview_fix
from advisor.fix.runner import FileFix, FixReport, FixRequest, run_fix
from advisor.fix.summary import unified_diff
from advisor.source import decode_source
from conftest import FIXTURES, run_advisor

#: Deferring the package's `import asyncio` (round 1) is what makes the
#: submodule's own `import asyncio` worth deferring (round 2): before, the
#: parent package loaded asyncio anyway.
TWO_ROUNDS = {
    "pyproject.toml": '[project]\nname = "app"\n[tool.advisor]\nentry-points = ["import app.sub"]\n',
    "app/__init__.py": dedent("""\
        import asyncio


        def run():
            return asyncio.run(asyncio.sleep(0))
    """),
    "app/sub.py": dedent("""\
        import asyncio


        def later():
            return asyncio.sleep(0)
    """),
}


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _sources(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*.py")) if ".advisor" not in p.parts}


def _expected_diff(original: dict[Path, bytes], fixed: dict[Path, bytes]) -> str:
    report = FixReport(rule="lazy-imports")
    for path, data in original.items():
        if fixed[path] != data:
            report.files[path] = FileFix(path, path.as_posix(), data, fixed[path], decode_source(data).encoding)
    return unified_diff(report)


def _diff_equals_fix(source: Path, tmp_path: Path, *options: str) -> tuple[str, str]:
    previewed, fixed = tmp_path / "previewed", tmp_path / "fixed"
    ignore = shutil.ignore_patterns(".advisor", "__pycache__")
    shutil.copytree(source, previewed, ignore=ignore)
    shutil.copytree(source, fixed, ignore=ignore)
    original = _sources(previewed)
    diff = run_advisor("fix", ".", "--diff", "--no-cache", *options, cwd=previewed)
    assert diff.returncode in (0, 1), diff.stdout + diff.stderr
    assert _sources(previewed) == original  # --diff wrote nothing
    written = run_advisor("fix", ".", "--no-cache", *options, cwd=fixed)
    assert written.returncode in (0, 1), written.stdout + written.stderr
    assert diff.stdout == _expected_diff(original, _sources(fixed))
    return diff.stdout, diff.stderr


@pytest.mark.parametrize("fixture", ["slowcli", "hotcold", "traps"])
def test_the_diff_is_what_fix_writes_on_every_fixture(tmp_path: Path, fixture: str) -> None:
    diff, _ = _diff_equals_fix(FIXTURES / fixture, tmp_path, "--no-measure")
    if fixture in ("slowcli", "traps"):
        assert diff  # they have fixes: the comparison is not of two empty diffs


def test_the_diff_includes_the_later_rounds(tmp_path: Path) -> None:
    project = _write(tmp_path / "source", TWO_ROUNDS)
    diff, summary = _diff_equals_fix(project, tmp_path)
    assert "+++ b/app/__init__.py" in diff and "+++ b/app/sub.py" in diff
    assert "app/sub.py:1: would fix: moved `import asyncio` into later()" in summary
    assert "(--diff: nothing written)" in summary


def test_one_round_alone_would_have_shown_less(tmp_path: Path) -> None:
    """The bug this fixes: a preview that stopped after the first round."""
    project = _write(tmp_path / "p", TWO_ROUNDS)
    config = load_config(project)
    request = FixRequest(paths=[project], write=False, use_cache=False)
    first_round = run_fix(request, config)
    preview = preview_fix(request, config)
    assert [f.path for f in first_round.changed] == [project / "app/__init__.py"]
    assert sorted(f.path for f in preview.changed) == [project / "app/__init__.py", project / "app/sub.py"]
    assert not preview.written and _sources(project) == {Path(k): v.encode() for k, v in TWO_ROUNDS.items() if k.endswith(".py")}


def test_a_path_outside_the_project_gets_a_first_round_preview_with_a_notice(tmp_path: Path) -> None:
    project = _write(tmp_path / "p", {"pyproject.toml": TWO_ROUNDS["pyproject.toml"]})
    outside = _write(tmp_path / "elsewhere", {"mod.py": TWO_ROUNDS["app/sub.py"]})
    config = replace(load_config(project), measure_imports=False)
    report = preview_fix(FixRequest(paths=[outside], write=False, use_cache=False), config)
    assert any("first round of fixes only" in n for n in report.notices)
    assert (outside / "mod.py").read_text() == TWO_ROUNDS["app/sub.py"]


def test_reasons_name_the_projects_files_whichever_form_the_copys_path_took(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A reason may hold the copy's path absolute or relative to the working
    directory; the relative one contains the absolute one after its `../`."""
    from advisor.fix.preview import _mapped

    shadow = tmp_path / "advisor-preview-x"
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    relative = os.path.relpath(shadow)
    assert relative.startswith("..")
    message = f"patched in {relative}/tests/replay/conftest.py and {shadow}/pkg/cli.py"
    assert _mapped(message, shadow, ".") == "patched in tests/replay/conftest.py and pkg/cli.py"
    assert _mapped(message, shadow, "proj") == "patched in proj/tests/replay/conftest.py and proj/pkg/cli.py"
