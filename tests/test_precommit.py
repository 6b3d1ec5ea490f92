"""The real pre-commit tool runs advisor's hooks on a temporary git repository.

The hook repository is a fresh git repository holding a copy of this working
tree (pre-commit installs hooks from a git revision, and ``try-repo`` on the
working tree itself would leave out untracked files). pre-commit then builds
its own virtualenv with ``pip install`` of that copy, as it would for a user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

pytest.importorskip("pre_commit", reason="pre-commit is not installed (pip install -e '.[test]')")
if shutil.which("git") is None:
    pytest.skip("git is not installed", allow_module_level=True)

#: What pip needs to install advisor from the copy (no tests, fixtures or caches).
HOOK_FILES = ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml", "advisor", "rules")
BAD = "import asyncio\n\n\ndef main():\n    return asyncio.run(main())\n"
FIXED = "def main():\n    import asyncio\n\n    return asyncio.run(main())\n"


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env=_env(), capture_output=True, text=True, check=check, timeout=600)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(key, None)
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_NOSYSTEM="1",
               # A user's global core.hooksPath or signing setup must not leak in.
               GIT_CONFIG_GLOBAL=os.devnull)
    return env


def _init(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    git(path, "config", "commit.gpgsign", "false")


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    """A git repository with the current advisor sources; its HEAD; the env for pre-commit."""
    root = tmp_path_factory.mktemp("precommit")
    repo = root / "advisor-hooks"
    repo.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in HOOK_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=ignore)
        elif source.is_file():
            shutil.copy2(source, repo / name)
    _init(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "advisor hooks")
    env = dict(_env(), PRE_COMMIT_HOME=str(root / "pre-commit-home"))
    return repo, git(repo, "rev-parse", "HEAD").stdout.strip(), env


def _project(tmp_path: Path, hook_repo: tuple[Path, str, dict[str, str]], *hook_ids: str) -> Path:
    repo, rev, env = hook_repo
    project = tmp_path / "project"
    _init(project)
    hooks = "".join(f"  - id: {hook_id}\n" for hook_id in hook_ids)
    (project / ".pre-commit-config.yaml").write_text(f"repos:\n- repo: {repo}\n  rev: {rev}\n  hooks:\n{hooks}", "utf-8")
    (project / "README.txt").write_text("a project\n", "utf-8")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "initial")
    install = subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=project, env=env,
                             capture_output=True, text=True, timeout=120)
    assert install.returncode == 0, install.stdout + install.stderr
    return project


def _commit(project: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess[str]:
    git(project, "add", "-A")
    return subprocess.run(["git", "commit", "-m", message], cwd=project, env=env, capture_output=True, text=True, timeout=900)


def test_commit_adding_a_costly_eager_import_fails_and_the_fix_passes(tmp_path: Path, hook_repo: tuple[Path, str, dict[str, str]]) -> None:
    env = hook_repo[2]
    project = _project(tmp_path, hook_repo, "advisor")
    head = git(project, "rev-parse", "HEAD").stdout

    (project / "cli.py").write_text(BAD, "utf-8")
    failed = _commit(project, env, "add cli")
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output
    assert "advisor (performance)" in output and "Failed" in output
    assert "cli.py:1:1: lazy-imports `asyncio` costs ~" in output and "only main() uses it" in output
    assert git(project, "rev-parse", "HEAD").stdout == head  # nothing was committed

    (project / "cli.py").write_text(FIXED, "utf-8")
    passed = _commit(project, env, "add cli, import deferred")
    output = passed.stdout + passed.stderr  # git shows the hook's report on stderr
    assert passed.returncode == 0, output
    assert "advisor (performance)" in output and "Passed" in output


def test_only_staged_files_are_checked(tmp_path: Path, hook_repo: tuple[Path, str, dict[str, str]]) -> None:
    env = hook_repo[2]
    project = _project(tmp_path, hook_repo, "advisor")
    (project / "legacy.py").write_text(BAD, "utf-8")
    git(project, "add", "legacy.py")
    git(project, "commit", "-q", "--no-verify", "-m", "legacy code, committed before advisor")
    (project / "clean.py").write_text(FIXED, "utf-8")
    passed = _commit(project, env, "a clean change")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "legacy.py" not in passed.stdout + passed.stderr
    # A staged file the project excludes is not checked either.
    (project / "pyproject.toml").write_text('[tool.advisor]\nexclude = ["scripts"]\n', "utf-8")
    (project / "scripts").mkdir()
    (project / "scripts" / "tool.py").write_text(BAD, "utf-8")
    excluded = _commit(project, env, "an excluded script")
    assert excluded.returncode == 0, excluded.stdout + excluded.stderr


def test_a_staged_file_is_judged_with_the_whole_project_in_view(tmp_path: Path, hook_repo: tuple[Path, str, dict[str, str]]) -> None:
    """Another module reads `asyncio` from app.py at import time: deferring it
    would break that module, so a commit touching only app.py must pass."""
    env = hook_repo[2]
    project = _project(tmp_path, hook_repo, "advisor")
    (project / "pkg").mkdir()
    (project / "pkg" / "__init__.py").write_text("", "utf-8")
    (project / "pkg" / "user.py").write_text("from pkg.app import asyncio\n\nNEW_LOOP = asyncio.new_event_loop\n", "utf-8")
    (project / "pkg" / "app.py").write_text(BAD, "utf-8")
    git(project, "add", "-A")
    git(project, "commit", "-q", "--no-verify", "-m", "the package")
    (project / "pkg" / "app.py").write_text(BAD + "\n\nVERSION = 2\n", "utf-8")
    passed = _commit(project, env, "change app.py only")
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_fix_hook_rewrites_the_file_and_the_scan_hook_then_passes(tmp_path: Path, hook_repo: tuple[Path, str, dict[str, str]]) -> None:
    env = hook_repo[2]
    project = _project(tmp_path, hook_repo, "advisor-fix", "advisor")
    (project / "cli.py").write_text(BAD, "utf-8")
    first = _commit(project, env, "add cli")
    output = first.stdout + first.stderr
    assert first.returncode != 0, output
    assert "files were modified by this hook" in output
    assert (project / "cli.py").read_text("utf-8") == FIXED
    second = _commit(project, env, "add cli, fixed by the hook")
    assert second.returncode == 0, second.stdout + second.stderr


def test_try_repo_runs_the_hook_on_given_files(tmp_path: Path, hook_repo: tuple[Path, str, dict[str, str]]) -> None:
    repo, rev, env = hook_repo
    project = tmp_path / "tried"
    _init(project)
    (project / "cli.py").write_text(BAD, "utf-8")
    (project / "ok.py").write_text(FIXED, "utf-8")
    git(project, "add", "-A")
    argv = [sys.executable, "-m", "pre_commit", "try-repo", str(repo), "advisor", "--ref", rev, "--files"]
    bad = subprocess.run([*argv, "cli.py"], cwd=project, env=env, capture_output=True, text=True, timeout=900)
    assert bad.returncode == 1 and "lazy-imports `asyncio`" in bad.stdout, bad.stdout + bad.stderr
    good = subprocess.run([*argv, "ok.py"], cwd=project, env=env, capture_output=True, text=True, timeout=900)
    assert good.returncode == 0, good.stdout + good.stderr
