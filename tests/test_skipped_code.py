"""Vendored trees and Django migrations are left out by default and scanned
when configured or named (advisor/engine/skipped.py); Django's tests.py and its
variants are test files for every rule that asks.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePath

import pytest

from advisor.config import config_from_table
from advisor.engine.discover import discover_for
from advisor.source import is_test_path
from conftest import run_advisor

#: A module lazy-imports reports with the bundled cost table.
DEFERRABLE = "import asyncio\n\n\ndef run():\n    return asyncio.run(asyncio.sleep(0))\n"
LAYOUT = {
    "shop/__init__.py": "",
    "shop/apps.py": "",
    "shop/models.py": "",
    "shop/views.py": DEFERRABLE,
    "shop/migrations/__init__.py": "",
    "shop/migrations/0001_initial.py": DEFERRABLE,
    "tools/migrations/__init__.py": "",  # not a Django app: no apps/models, no numbered files
    "tools/migrations/steps.py": DEFERRABLE,
    "pkg/_vendor/__init__.py": "",
    "pkg/_vendor/six.py": DEFERRABLE,
    "vendor/lib.py": DEFERRABLE,
    "third_party/thing.py": DEFERRABLE,
    "vendored/x.py": DEFERRABLE,
    "pkg/vendors.py": DEFERRABLE,  # a module named like it, not a vendored tree
}


def _project(root: Path, pyproject: str = "") -> Path:
    for name, text in LAYOUT.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "pyproject.toml").write_text("[tool.advisor]\nmeasure-imports = false\n" + pyproject)
    return root


def _found(root: Path, **table: object) -> set[str]:
    config = config_from_table({"measure-imports": False, **table}, root=root)
    return {p.relative_to(root).as_posix() for p in discover_for([root], config)}


def test_vendored_trees_and_django_migrations_are_left_out(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert _found(root) == {"shop/__init__.py", "shop/apps.py", "shop/models.py", "shop/views.py",
                            "tools/migrations/__init__.py", "tools/migrations/steps.py", "pkg/vendors.py"}


def test_configured_in(tmp_path: Path) -> None:
    root = _project(tmp_path)
    everything = _found(root, **{"include-vendored": True, "include-migrations": True})
    assert everything == set(LAYOUT)
    assert "shop/migrations/0001_initial.py" in _found(root, **{"include-migrations": True})
    assert "pkg/_vendor/six.py" not in _found(root, **{"include-migrations": True})


def test_a_migration_package_without_an_app_beside_it_is_found_by_its_numbered_files(tmp_path: Path) -> None:
    for name in ("legacy/migrations/__init__.py", "legacy/migrations/0002_add_field.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert _found(tmp_path) == set()


def test_scan_reports_neither_unless_named(tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = run_advisor("scan", ".", "--no-cache", "--format", "json", cwd=root)
    paths = {f["path"] for f in json.loads(result.stdout)["findings"]}
    assert paths == {"shop/views.py", "tools/migrations/steps.py", "pkg/vendors.py"}, result.stdout
    named = run_advisor("scan", "vendor/lib.py", "--no-cache", "--format", "json", cwd=root)
    assert {f["path"] for f in json.loads(named.stdout)["findings"]} == {"vendor/lib.py"}


def test_fix_leaves_vendored_code_alone(tmp_path: Path) -> None:
    root = _project(tmp_path)
    run_advisor("fix", ".", "--no-cache", cwd=root)
    assert (root / "pkg/_vendor/six.py").read_text() == DEFERRABLE
    assert (root / "shop/migrations/0001_initial.py").read_text() == DEFERRABLE
    assert (root / "shop/views.py").read_text() != DEFERRABLE


@pytest.mark.parametrize(("path", "is_test"), [
    ("shop/tests.py", True), ("shop/tests_models.py", True), ("shop/model_tests.py", True),
    ("test_x.py", True), ("x_test.py", True), ("conftest.py", True), ("tests/helpers.py", True),
    ("shop/testsuite.py", False), ("shop/contests.py", False), ("shop/attests.py", False), ("shop/views.py", False),
])
def test_django_test_modules_are_test_files(path: str, is_test: bool) -> None:
    assert is_test_path(PurePath(path)) is is_test
