"""mypy over the whole package, with the strictness stated in pyproject.toml.

mypy cannot follow the editable install's package-dir mapping (``advisor.rules``
is the top-level ``rules/`` folder), so the test stages the package as it is
installed: ``advisor/`` entries linked one by one, ``advisor/rules`` linked to
``rules/``. mypy's paths are mapped back to the repository's for the report."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from advisor.config import tomllib

_LOCATION = re.compile(r"^(?P<path>[^\s:]+\.pyi?)(?=:)", re.MULTILINE)


def _stage(root: Path) -> Path:
    """The installed layout of ``advisor`` under ``root``, made of symlinks."""
    package = root / "advisor"
    package.mkdir()
    for entry in (REPO / "advisor").iterdir():
        if entry.name not in ("__pycache__", "rules"):
            (package / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    (package / "rules").symlink_to(REPO / "rules", target_is_directory=True)
    return package


def _repo_paths(output: str, root: Path) -> str:
    """mypy's staged paths (``advisor/rules/x.py``) as repository paths (``rules/x.py``)."""
    def one(match: re.Match[str]) -> str:
        try:
            return str((root / match["path"]).resolve().relative_to(REPO))
        except (OSError, ValueError):
            return match["path"]
    return _LOCATION.sub(one, output)


def _source_count() -> int:
    return sum(1 for folder in ("advisor", "rules") for path in (REPO / folder).rglob("*.py")
               if "__pycache__" not in path.parts)


def test_pyproject_states_the_strictness_ci_enforces() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["mypy"]
    assert config.get("strict") is True
    overrides = config.get("overrides", [])
    assert all(not o.get("ignore_errors") for o in overrides), "no module may be exempted from checking"


def test_mypy_reports_no_errors(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    _stage(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"),
         "--cache-dir", str(tmp_path / ".mypy_cache"), "--no-color-output", "-p", "advisor"],
        cwd=tmp_path, capture_output=True, text=True, timeout=1200,
    )
    output = _repo_paths(result.stdout + result.stderr, tmp_path)
    assert result.returncode == 0, f"mypy found errors:\n{output}"
    # Not a vacuous pass: every module of the package (rules included) was checked
    # (mypy also counts data folders, as namespace packages: hence at least).
    checked = re.search(r"no issues found in (\d+) source files", output)
    assert checked is not None and int(checked[1]) >= _source_count(), output
