"""``fix --measure`` rolls back a written file whose fixes removed nothing from
the measured command's startup (advisor/fix/paid.py); the fix summary ends
with the saving the startup model expects per entry."""

from __future__ import annotations

from pathlib import Path

from advisor.evidence.import_delta import ImportDelta
from advisor.evidence.interleave import Comparison, Runs
from advisor.findings import Finding, Impact, Span
from advisor.fix.measure import Measurement
from advisor.fix.paid import deferred_modules, roll_back_what_removed_nothing
from advisor.fix.runner import FileFix, FixReport
from advisor.fix.summary import render_summary


def _finding(path: str, statement: str) -> Finding:
    return Finding("lazy-imports", path, Span(1, 0, 1, 10), "m", Impact("startup", 10.0, "importtime"),
                   data={"statement": statement})


def _written(tmp_path: Path, name: str, statement: str) -> FileFix:
    path = tmp_path / "pkg" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text("fixed\n")
    entry = FileFix(path, f"pkg/{name}", b"original\n", fixed=b"fixed\n")
    entry.applied.append(_finding(f"pkg/{name}", statement))
    return entry


def _measured(removed: dict[str, float], loaded: set[str]) -> Measurement:
    runs = Runs((10.0, 11.0))
    return Measurement("python -c 'import pkg.cli'", Comparison(runs, runs), ImportDelta(removed=removed),
                       frozenset(loaded))


def test_a_file_whose_deferred_modules_still_load_is_rolled_back(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg" / "__init__.py").parent.mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    paid = _written(tmp_path, "cli.py", "import asyncio")
    unpaid = _written(tmp_path, "tools.py", "from email.mime import multipart")
    unseen = _written(tmp_path, "other.py", "import decimal")  # the command never loads pkg.other: no evidence
    report = FixReport("lazy-imports", files={e.path: e for e in (paid, unpaid, unseen)}, written=True)
    loaded = {"pkg", "pkg.cli", "pkg.tools", "email", "email.mime", "email.mime.multipart"}
    text = roll_back_what_removed_nothing(report, _measured({"asyncio": 20.0}, loaded))
    assert text == ("  rolled back pkg/tools.py: `python -c 'import pkg.cli'` still loads email.mime, "
                    "email.mime.multipart with it fixed\n")
    assert unpaid.path.read_bytes() == b"original\n" and not unpaid.changed
    assert paid.path.read_text() == "fixed\n" and unseen.path.read_text() == "fixed\n"


def test_nothing_is_rolled_back_without_an_import_log(tmp_path: Path) -> None:
    entry = _written(tmp_path, "cli.py", "import asyncio")
    report = FixReport("lazy-imports", files={entry.path: entry}, written=True)
    runs = Runs((10.0,))
    blind = Measurement("cmd", Comparison(runs, runs), ImportDelta(logged=False), frozenset())
    assert roll_back_what_removed_nothing(report, blind) == ""
    assert entry.path.read_text() == "fixed\n"


def test_deferred_modules_of_import_and_from_import() -> None:
    found = deferred_modules([_finding("a.py", "import numpy.linalg"), _finding("a.py", "from http import client, server")])
    assert found == {"numpy.linalg", "http", "http.client", "http.server"}


def test_the_summary_ends_with_the_expected_saving_per_entry() -> None:
    report = FixReport("lazy-imports", written=True, expected=[
        {"name": "`import pkg`", "saving_ms": 12.0, "total_ms": 40.0},
        {"name": "console script `tool`", "saving_ms": 80.4, "total_ms": 120.0}])
    lines = render_summary(report).splitlines()
    assert lines[-3:] == ["expected startup saving, per entry point (the startup model, all fixes together):",
                          "  console script `tool`: ~80 ms of ~120 ms", "  `import pkg`: ~12 ms of ~40 ms"]
