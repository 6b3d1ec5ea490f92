"""Cached results are keyed by advisor's own code: every module of the
package and of its rules, however deep, so a module moved into a
subpackage (advisor/engine/, rules/support/, rules/lazy_imports/) still
invalidates the cache when it changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import advisor
import advisor.rules
from advisor.config import load_config
from advisor.engine.scan import _code_stamp, scan, select_rules

PACKAGE = Path(advisor.__file__).parent
RULES = Path(advisor.rules.__file__).parent
NESTED = [PACKAGE / "engine" / "walk.py", PACKAGE / "rank" / "score.py", PACKAGE / "evidence" / "hot.py",
          RULES / "support" / "frames.py", RULES / "lazy_imports" / "usage.py"]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n[tool.advisor]\nmeasure-imports = false\n')
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "a.py").write_text("def f(items):\n    out = ''\n    for i in items:\n        out += str(i)\n    return out\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_stamp_covers_every_module_recursively(project: Path) -> None:
    stamped = {entry.rsplit(":", 2)[0] for entry in _code_stamp(select_rules(load_config(project)))}
    expected = {str(p) for p in (*PACKAGE.rglob("*.py"), *RULES.rglob("*.py"))}
    assert expected <= stamped
    assert {str(p) for p in NESTED} <= stamped


@pytest.mark.parametrize("module", NESTED, ids=lambda p: p.relative_to(p.parents[1]).as_posix())
def test_an_edited_nested_module_invalidates_cached_results(project: Path, module: Path) -> None:
    config = load_config(project)
    scan([project / "demo"], config, jobs=1)
    assert scan([project / "demo"], config, jobs=1).cached == 1
    before = module.stat()
    try:
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
        assert scan([project / "demo"], config, jobs=1).cached == 0
    finally:
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))
