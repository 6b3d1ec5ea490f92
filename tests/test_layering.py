"""The tree's layering, checked with import-linter: renderers only render,
the engine never names a rule, rules use the public rule API, and the core
data stands alone (contracts in pyproject.toml, ``[tool.importlinter]``).

import-linter reads packages from the file system, and ``advisor.rules``
lives in the top-level ``rules/`` folder (shipped as ``advisor.rules``), so
the check runs on a staged copy laid out as the wheel is."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def stage(tmp_path: Path) -> Path:
    """A copy of advisor/ with rules/ at advisor/rules, and the contracts."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "advisor", tmp_path / "advisor", ignore=ignore)
    shutil.copytree(REPO / "rules", tmp_path / "advisor" / "rules", ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from importlinter.cli import lint_imports_command; "
            "lint_imports_command([sys.argv[1] + '/pyproject.toml', '--no-cache'])")
    return subprocess.run([sys.executable, "-c", code, str(root)], cwd=root, capture_output=True, text=True, timeout=300)


def test_the_layering_contracts_hold(tmp_path: Path) -> None:
    pytest.importorskip("importlinter")
    result = lint_imports(stage(tmp_path))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


def test_a_broken_layer_is_caught(tmp_path: Path) -> None:
    """The check can fail: a renderer that imports the engine breaks a contract."""
    pytest.importorskip("importlinter")
    root = stage(tmp_path)
    text = root / "advisor" / "report" / "text.py"
    text.write_text(text.read_text("utf-8") + "\n\ndef _leak():\n    from advisor.engine import scan\n", "utf-8")
    result = lint_imports(root)
    assert result.returncode != 0 and "BROKEN" in result.stdout
