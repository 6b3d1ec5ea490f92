"""Baselines: accepted findings stay hidden through unrelated edits; new ones show."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from advisor.baseline import BASELINE_VERSION, baseline_key, filter_new, load_baseline, write_baseline
from advisor.errors import ConfigError, UsageError
from advisor.findings import Finding, Impact, Span
from conftest import run_advisor

APP = "import asyncio\n\n\ndef main():\n    return asyncio.run(main())\n"


def _finding(path: str = "pkg/app.py", line: int = 1, text: str = "import asyncio", rule: str = "lazy-imports") -> Finding:
    return Finding(rule, path, Span(line, 0, line, len(text)), f"`{text}` is slow", Impact("startup", 25.0, "table"),
                   data={"key": text}, line_text=text)


def test_write_then_load_round_trips_with_readable_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "advisor-baseline.json"
    assert write_baseline(target, [_finding(line=3), _finding("pkg/b.py", 1, "import json")]) == 2
    document = json.loads(target.read_text("utf-8"))
    assert document["version"] == BASELINE_VERSION
    assert [(e["rule"], e["path"], e["line"], e["message"]) for e in document["findings"]] == [
        ("lazy-imports", "pkg/app.py", 3, "`import asyncio` is slow"),
        ("lazy-imports", "pkg/b.py", 1, "`import json` is slow"),
    ]
    assert sum(load_baseline(target).values()) == 2


def test_a_finding_moved_down_by_inserted_lines_stays_matched(tmp_path: Path) -> None:
    accepted = Counter([baseline_key(_finding(line=1), tmp_path)])
    new, hidden = filter_new([_finding(line=42)], accepted, tmp_path)
    assert (new, hidden) == ([], 1)


def test_a_new_finding_or_a_changed_line_is_reported(tmp_path: Path) -> None:
    accepted = Counter([baseline_key(_finding(), tmp_path)])
    other_file = _finding("pkg/other.py")
    changed_line = _finding(text="import asyncio as aio")
    other_rule = _finding(rule="loop-invariant")
    new, hidden = filter_new([_finding(line=9), other_file, changed_line, other_rule], accepted, tmp_path)
    assert new == [other_file, changed_line, other_rule] and hidden == 1


def test_a_pasted_duplicate_is_new(tmp_path: Path) -> None:
    accepted = Counter([baseline_key(_finding(line=1), tmp_path)])
    new, hidden = filter_new([_finding(line=1), _finding(line=20)], accepted, tmp_path)
    assert len(new) == 1 and hidden == 1


def test_paths_are_relative_to_the_baseline_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pkg").mkdir()
    monkeypatch.chdir(tmp_path)
    key_from_root = baseline_key(_finding("pkg/app.py"), tmp_path)
    monkeypatch.chdir(tmp_path / "pkg")
    assert baseline_key(_finding("app.py"), tmp_path) == key_from_root


@pytest.mark.parametrize(("content", "error", "fragment"), [
    (None, UsageError, "does not exist"),
    ("{not json", ConfigError, "not valid JSON"),
    ('{"version": 99, "findings": []}', ConfigError, "version 99"),
    ('{"version": 1, "findings": [{"rule": "x"}]}', ConfigError, "fingerprint"),
])
def test_bad_baseline_files_say_what_is_wrong(tmp_path: Path, content: str | None, error: type, fragment: str) -> None:
    target = tmp_path / "b.json"
    if content is not None:
        target.write_text(content, "utf-8")
    with pytest.raises(error, match=fragment):
        load_baseline(target)


# -- through the CLI ---------------------------------------------------------------------------


def _scan(cwd: Path, *args: str) -> "object":
    return run_advisor("scan", "--no-measure", "--no-cache", *args, cwd=cwd)


def test_cli_baseline_hides_old_findings_and_reports_new_ones(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "app.py").write_text(APP, "utf-8")
    written = _scan(tmp_path, "pkg", "--write-baseline", "advisor-baseline.json")
    assert written.returncode == 0, written.stderr
    assert "recorded 1 finding in advisor-baseline.json" in written.stderr
    entry, = json.loads((tmp_path / "advisor-baseline.json").read_text("utf-8"))["findings"]
    assert (entry["rule"], entry["path"], entry["line"]) == ("lazy-imports", "pkg/app.py", 1)

    clean = _scan(tmp_path, "pkg", "--baseline", "advisor-baseline.json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "1 finding hidden by the baseline" in clean.stdout

    # Unrelated edits above the finding: still matched.
    (pkg / "app.py").write_text('"""Docs."""\n\nimport os\n\nVALUE = os.sep\n' + APP, "utf-8")
    assert _scan(tmp_path, "pkg", "--baseline", "advisor-baseline.json").returncode == 0
    # From a subdirectory, with the baseline given relative to it: still matched.
    sub = _scan(pkg, ".", "--baseline", os.path.join("..", "advisor-baseline.json"))
    assert sub.returncode == 0, sub.stdout

    # A new finding is reported, and only it.
    (pkg / "new.py").write_text(APP, "utf-8")
    new = _scan(tmp_path, "pkg", "--baseline", "advisor-baseline.json", "--format", "json")
    assert new.returncode == 1
    findings = json.loads(new.stdout)["findings"]
    assert [(f["path"], f["line"]) for f in findings] == [("pkg/new.py", 1)]


def test_cli_baseline_options_fail_fast(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP, "utf-8")
    missing = _scan(tmp_path, "app.py", "--baseline", "nope.json")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    both = _scan(tmp_path, "app.py", "--baseline", "a.json", "--write-baseline", "b.json")
    assert both.returncode == 2 and "not both" in both.stderr


# -- --whole-project: report on some files, with the whole project in view ------------------------


def test_whole_project_reports_only_the_given_files_with_complete_facts(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n", "utf-8")
    (pkg / "__init__.py").write_text("", "utf-8")
    (pkg / "app.py").write_text(APP, "utf-8")  # another module reads app.asyncio: must stay eager
    (pkg / "user.py").write_text("from pkg.app import asyncio\n\nNEW_LOOP = asyncio.new_event_loop\n", "utf-8")
    (pkg / "other.py").write_text(APP, "utf-8")  # a true finding, but not a given file
    (pkg / "given.py").write_text(APP, "utf-8")
    alone = _scan(tmp_path, "pkg/app.py", "--format", "json")
    assert [f["path"] for f in json.loads(alone.stdout)["findings"]] == ["pkg/app.py"]  # the blind spot
    whole = _scan(tmp_path, "--whole-project", "pkg/app.py", "pkg/given.py", "--format", "json")
    assert whole.returncode == 1, whole.stderr
    assert [f["path"] for f in json.loads(whole.stdout)["findings"]] == ["pkg/given.py"]
