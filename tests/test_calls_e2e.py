"""End to end on fixtures/settingsapp (issue 17): `advisor profile` runs the
nightly job, then `advisor scan` reports its two problems, both found by
following calls across modules, ranked first: the settings loader that
re-reads and parses its file on every call (called from pricing.py, inside
the loop of invoices.py), and one SQL query per order through a connection
passed in as a parameter (the query is in repo.py, the loop in invoices.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, run_advisor

SETTINGS_LOADER = ("missing-cache", "settingsapp/settings.py", 9)
QUERY_PER_ORDER = ("n-plus-one", "settingsapp/invoices.py", 11)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("settings") / "settingsapp"
    shutil.copytree(FIXTURES / "settingsapp", target, ignore=shutil.ignore_patterns(".advisor", "__pycache__", ".pytest_cache"))
    return target


def scan_json(app: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = run_advisor("scan", ".", "--no-cache", "--no-measure", "--format", "json", *args, cwd=app)
    assert result.returncode == 1, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def top(report: dict, n: int) -> list[tuple[str, str, int]]:  # type: ignore[type-arg]
    return [(f["rule"], f["path"], f["line"]) for f in report["findings"][:n]]


def test_the_fixtures_own_tests_pass(app: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=app,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_both_problems_are_found_without_a_profile(app: Path) -> None:
    report = scan_json(app, "--no-profile")
    found = {(f["rule"], f["path"], f["line"]): f["message"] for f in report["findings"]}
    assert "in a loop at settingsapp/invoices.py:12, through `price_with_vat()`" in found[SETTINGS_LOADER]
    assert "`conn.execute()` at settingsapp/repo.py:5" in found[QUERY_PER_ORDER]


def test_with_the_profile_both_rank_first(app: Path) -> None:
    recorded = run_advisor("profile", "--", sys.executable, "-m", "settingsapp", cwd=app)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    report = scan_json(app)
    assert top(report, 2) == [SETTINGS_LOADER, QUERY_PER_ORDER], [
        (f["rule"], f["path"], f["line"], f["reason"]) for f in report["findings"]]
    loader, queries = report["findings"][:2]
    assert loader["evidence"]["calls"] == 1800 and loader["evidence"]["distinct_args"] == 1
    assert queries["evidence"]["round_trips"] == 600 and queries["evidence"]["site"] == "settingsapp/repo.py:5"
    assert all(f["impact"]["source"] == "observed" for f in (loader, queries))
