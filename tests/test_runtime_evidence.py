"""The runtime evidence file (load/save/merge) and what a scan makes of it
(advisor/evidence/discover.py), on hand-built records: must-fire and
must-stay-silent cases for the findings only a recorded run can show."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from advisor.config import load_config, with_overrides
from advisor.engine.scan import scan
from advisor.evidence import runtime
from advisor.evidence.profile import Evidence, load_evidence
from advisor.evidence.runtime import Calls, LineMemory, RoundTrips, RuntimeEvidence

PRICING = textwrap.dedent('''\
    def item_price(conn, sku):
        row = conn.execute("SELECT price FROM items WHERE sku = ?", (sku,)).fetchone()
        return row[0]


    def revenue(conn, orders):
        total = 0.0
        for order in orders:
            total += item_price(conn, order.sku)
        return total


    def one(conn, sku):
        return item_price(conn, sku)


    def quiet(conn, orders):
        for order in orders:
            conn.execute("DELETE FROM t WHERE id = ?", (order,))  # advisor: ignore[n-plus-one]


    def load_settings(path, region):
        with open(path) as handle:
            return handle.read()
''')


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.advisor]\nmeasure-imports = false\n")
    (tmp_path / "pricing.py").write_text(PRICING)
    return tmp_path


def trips(project: Path, line: int, count: int, seconds: float, caller: int | None = None, shape: str = "SELECT price FROM items WHERE sku = ?") -> RoundTrips:
    path = os.path.realpath(project / "pricing.py")
    stack = ((path, line, "f"),) + (((path, caller, "revenue"),) if caller else ())
    return RoundTrips("sql", shape, count, seconds, stack)


def calls(project: Path, count: int, distinct: int, seconds: float, results: str = "equal") -> Calls:
    return Calls(os.path.realpath(project / "pricing.py"), 22, "load_settings", count, distinct, results, seconds)


def findings(project: Path, record: RuntimeEvidence, **config: object) -> list:  # type: ignore[type-arg]
    settings = with_overrides(load_config(project), **config) if config else load_config(project)
    report = scan([project], settings, use_cache=False, evidence=Evidence(runtime=record))
    return [f for f in report.findings if f.evidence or f.data.get("observed")]


def test_a_query_in_a_helper_called_in_a_loop_is_an_n_plus_one(project: Path) -> None:
    found = findings(project, RuntimeEvidence(runs=1, round_trips=[trips(project, 2, 600, 0.17, caller=9)]))
    assert len(found) == 1
    f = found[0]
    # found statically at the loop's call since issue 17 (the helper's query is followed), confirmed by the run
    assert (f.rule, Path(f.path).name, f.span.line) == ("n-plus-one", "pricing.py", 9)
    assert f.evidence["round_trips"] == 600 and f.evidence["seconds"] == 0.17
    assert f.evidence["site"] == "pricing.py:2" and f.evidence["loop"] == "pricing.py:9"
    assert f.impact.source == "observed" and f.impact.estimate_ms == pytest.approx(170 * 599 / 600, abs=0.1)
    assert "in a loop runs one query per item" in f.message and "pricing.py:2" in f.message


@pytest.mark.parametrize(("record", "why"), [
    pytest.param(lambda p: trips(p, 2, 4, 1.0, caller=9), "fewer than 5 round trips", id="below-count"),
    pytest.param(lambda p: trips(p, 2, 600, 0.05, caller=9), "not over 50 ms together", id="below-time"),
    pytest.param(lambda p: trips(p, 2, 600, 0.5, caller=14), "no loop on the stack", id="no-loop"),
    pytest.param(lambda p: trips(p, 19, 600, 0.5), "suppressed on its line", id="suppressed"),
])
def test_round_trips_that_are_no_n_plus_one(project: Path, record, why: str) -> None:  # type: ignore[no-untyped-def]
    assert findings(project, RuntimeEvidence(runs=1, round_trips=[record(project)])) == [], why


def test_round_trip_thresholds_are_options(project: Path) -> None:
    record = RuntimeEvidence(runs=1, round_trips=[trips(project, 2, 4, 0.02, caller=9)])
    options = {"n-plus-one": {"observed-min-repeats": 3, "observed-min-ms": 10.0}}
    assert [f.rule for f in findings(project, record, rule_options=options)] == ["n-plus-one"]


def test_a_static_finding_gets_the_evidence_instead_of_a_duplicate(project: Path) -> None:
    (project / "direct.py").write_text(textwrap.dedent('''\
        import sqlite3


        def totals(conn: sqlite3.Connection, skus):
            cursor = conn.cursor()
            out = []
            for sku in skus:
                cursor.execute("SELECT price FROM items WHERE sku = ?", (sku,))
                out.append(cursor.fetchone())
            return out
    '''))
    path = os.path.realpath(project / "direct.py")
    record = RuntimeEvidence(runs=1, round_trips=[RoundTrips("sql", "SELECT price FROM items WHERE sku = ?", 50, 0.2, ((path, 8, "totals"),))])
    report = scan([project], load_config(project), use_cache=False, evidence=Evidence(runtime=record))
    # (the project's pricing.py has its own, static since issue 17: the loop calls a helper that queries)
    plus = [f for f in report.findings if f.rule == "n-plus-one" and f.path.endswith("direct.py")]
    assert len(plus) == 1 and plus[0].span.line == 8
    assert plus[0].evidence["round_trips"] == 50 and "cursor.execute()" in plus[0].message  # the static message stays
    assert plus[0].reason.startswith("observed: 50 queries of one shape")


def test_repeated_calls_with_few_arguments_are_a_missing_cache(project: Path) -> None:
    found = findings(project, RuntimeEvidence(runs=1, calls=[calls(project, 1800, 3, 0.31)]))
    assert [(f.rule, f.span.line, f.evidence["calls"], f.evidence["distinct_args"]) for f in found] == [("missing-cache", 22, 1800, 3)]
    assert found[0].impact.estimate_ms == pytest.approx(310 * 1797 / 1800, abs=0.1)
    assert "1,800 times with 3 distinct arguments" in found[0].message


@pytest.mark.parametrize(("record", "why"), [
    pytest.param(lambda p: calls(p, 1800, 3, 0.31, results="differ"), "results differ", id="results-differ"),
    pytest.param(lambda p: calls(p, 1800, 3, 0.31, results="unknown"), "results not comparable", id="results-unknown"),
    pytest.param(lambda p: calls(p, 100, 60, 0.31), "mostly distinct arguments", id="distinct"),
    pytest.param(lambda p: calls(p, 9, 1, 0.31), "too few calls", id="few-calls"),
    pytest.param(lambda p: calls(p, 1800, 3, 0.04), "not over 50 ms", id="fast"),
])
def test_calls_that_are_no_cache_candidate(project: Path, record, why: str) -> None:  # type: ignore[no-untyped-def]
    assert findings(project, RuntimeEvidence(runs=1, calls=[record(project)])) == [], why


def test_unselected_rules_and_unscanned_files_report_nothing(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    record = RuntimeEvidence(runs=1, round_trips=[trips(project, 2, 600, 0.17, caller=9)], calls=[calls(project, 1800, 3, 0.31)])
    assert findings(project, record, select=("lazy-imports",)) == []
    elsewhere = tmp_path_factory.mktemp("other")
    (elsewhere / "pyproject.toml").write_text("[tool.advisor]\nmeasure-imports = false\n")
    (elsewhere / "x.py").write_text("x = 1\n")
    assert findings(elsewhere, record) == []


def test_memory_is_attached_to_the_lines_of_a_finding(project: Path) -> None:
    path = os.path.realpath(project / "pricing.py")
    record = RuntimeEvidence(runs=1, calls=[calls(project, 1800, 3, 0.31)], peak_bytes=9_000_000,
                             memory=[LineMemory(path, 24, 4_000_000, 1_000), LineMemory(path, 2, 5, 5)])
    found = findings(project, record)
    assert found[0].evidence["peak_bytes"] == 4_000_000 and found[0].evidence["net_bytes"] == 1_000


def test_a_lazy_import_finding_gets_the_bytes_its_module_kept(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.advisor]\nmeasure-imports = false\ncostly-modules = ["xml.dom.minidom"]\n')
    (tmp_path / "app.py").write_text("import xml.dom.minidom\n\n\ndef parse(text):\n    return xml.dom.minidom.parseString(text)\n")
    record = RuntimeEvidence(runs=1, peak_bytes=1, import_bytes={"xml.dom.minidom": 1_234_567})
    report = scan([tmp_path], load_config(tmp_path), use_cache=False, evidence=Evidence(runtime=record))
    lazy = [f for f in report.findings if f.rule == "lazy-imports"]
    assert len(lazy) == 1 and lazy[0].evidence["import_bytes"] == 1_234_567
    assert lazy[0].impact.source != "observed"  # its saving is still the measured import time


def test_evidence_in_words() -> None:
    from advisor.evidence.words import describe

    assert describe({"round_trips": 1800, "kind": "sql", "site": "pricing.py:7", "seconds": 0.31}) == \
        "1,800 queries of one shape from pricing.py:7, 0.31 s"
    assert describe({"calls": 1, "distinct_args": 1, "results": "differ", "seconds": 0.05, "runs": 2}) == \
        "1 call with 1 distinct argument, 50.0 ms, over 2 runs"
    assert "inflated" in describe({"calls": 2, "distinct_args": 1, "seconds": 1.0, "timed_with_memory_tracing": True})
    assert describe({}) == ""


def test_file_round_trip_defaults_and_merge(tmp_path: Path) -> None:
    path = os.path.realpath(tmp_path / "a.py")
    one = RuntimeEvidence(runs=1, wall_s=1.0, round_trips=[RoundTrips("http", "GET h/x/{id}", 3, 0.5, ((path, 3, "f"),))],
                          calls=[Calls(path, 1, "f", 10, 2, "equal", 0.1)], tests_run=2, slowest_tests=[("t::a", 0.5)])
    two = RuntimeEvidence(runs=1, wall_s=2.0, round_trips=[RoundTrips("http", "GET h/x/{id}", 4, 0.25, ((path, 3, "f"),))],
                          calls=[Calls(path, 1, "f", 5, 4, "differ", 0.2)], tests_run=1, slowest_tests=[("t::a", 0.25)])
    runtime.save(one, tmp_path / "one.json")
    assert runtime.load(tmp_path / "one.json") == one
    merged = runtime.merge([one, two])
    assert merged.runs == 2 and merged.wall_s == 3.0 and merged.tests_run == 3
    assert [(t.count, t.seconds) for t in merged.round_trips] == [(7, 0.75)]
    assert [(c.calls, c.distinct_args, c.results) for c in merged.calls] == [(15, 4, "differ")]
    assert merged.slowest_tests == [("t::a", 0.75)]
    # Keys read with defaults: an older or partial file still loads.
    (tmp_path / "old.json").write_text(json.dumps({"format": "advisor-runtime", "round_trips": [{"shape": "SELECT ?"}]}))
    old = runtime.load(tmp_path / "old.json")
    assert old.runs == 1 and old.round_trips[0].count == 0 and old.calls == [] and old.peak_bytes is None
    (tmp_path / "new.json").write_text(json.dumps({"format": "advisor-runtime", "version": 99}))
    with pytest.raises(runtime.RuntimeFormatError, match="newer"):
        runtime.load(tmp_path / "new.json")


def test_several_files_given_to_scan_merge(tmp_path: Path) -> None:
    path = str(tmp_path / "a.py")
    for name, count in (("r1.json", 3), ("r2.json", 4)):
        runtime.save(RuntimeEvidence(runs=1, round_trips=[RoundTrips("sql", "SELECT ?", count, 0.1, ((path, 1, "f"),))]), tmp_path / name)
    evidence = load_evidence([tmp_path / "r1.json", tmp_path / "r2.json"])
    assert evidence.runtime is not None and evidence.runtime.runs == 2
    assert evidence.runtime.round_trips[0].count == 7 and not evidence.has_samples


def test_a_hostile_file_cannot_inject_text_or_figures(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({
        "format": "advisor-runtime",
        "round_trips": [{"kind": "sql", "shape": "SELECT 1`\x1b[2J", "count": -5, "seconds": "nan",
                         "stack": [{"path": "/x.py", "line": -1, "function": "f\x07"}]}],
        "calls": [{"function": "g", "calls": 1e400, "seconds": -3}],
    }))
    loaded = runtime.load(tmp_path / "bad.json")
    trip = loaded.round_trips[0]
    assert (trip.shape, trip.count, trip.seconds, trip.stack) == ("SELECT 1[2J", 0, 0.0, (("/x.py", 0, "f"),))
    assert (loaded.calls[0].calls, loaded.calls[0].seconds) == (0, 0.0)
