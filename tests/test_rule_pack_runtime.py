"""Behaviour of the runtime rules beyond their own examples: name resolution,
configuration of n-plus-one's catalog, the data ranking relies on, and
staying light to import."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from advisor.engine.analyse import analyse_text
from advisor.config import config_from_table
from advisor.errors import ConfigError
from advisor.rule import build_options
from advisor.rules.support.round_trips import ROUND_TRIPS
from advisor.rules.blocking_in_async import BlockingInAsync
from advisor.rules.loop_invariant import LoopInvariant
from advisor.rules.n_plus_one import NPlusOne
from advisor.rules.sequential_await import SequentialAwait


def scan(rule, code: str, **options):
    table = {"measure-imports": False}
    if options:
        table["rules"] = {rule.id: options}
    config = config_from_table(table, root=Path("/nonexistent-advisor-test"))
    result = analyse_text(textwrap.dedent(code), "app.py", "app", [rule], config)
    assert not result.errors, result.errors
    return list(result.findings)


@pytest.mark.parametrize("code", [
    "from requests import get as fetch\n\ndef f(ids):\n    for i in ids:\n        fetch(i)\n",
    "import requests as r\n\ndef f(ids):\n    for i in ids:\n        r.post(i)\n",
    "import requests\nhttp = requests\n\ndef f(ids):\n    for i in ids:\n        http.get(i)\n",
    "import requests\n\ndef f(ids):\n    with requests.Session() as s:\n        for i in ids:\n            s.get(i)\n",
    "import requests\n\ndef f(session: requests.Session, ids):\n    for i in ids:\n        session.get(i)\n",
])
def test_n_plus_one_resolves_imports_assignments_and_annotations(code):
    assert [f.rule for f in scan(NPlusOne, code)] == ["n-plus-one"]


@pytest.mark.parametrize("code", [
    # a function defined in the loop runs later, not per item
    "import requests\n\ndef f(ids):\n    for i in ids:\n        def cb():\n            return requests.get(i)\n",
    # a local binding shadows the module-level client
    "import requests\nsession = requests.Session()\n\ndef f(ids, session):\n    for i in ids:\n        session.get(i)\n",
    # the loop's else runs once
    "import requests\n\ndef f(ids):\n    for i in ids:\n        pass\n    else:\n        requests.get(i)\n",
])
def test_n_plus_one_stays_silent_on_near_misses(code):
    assert scan(NPlusOne, code) == []


def test_extra_round_trips_from_config_reach_the_rule():
    code = "from myapp.client import Client\n\ndef f(ids):\n    c = Client()\n    return [c.fetch(i) for i in ids]\n"
    assert scan(NPlusOne, code) == []
    findings = scan(NPlusOne, code, **{"extra-round-trips": ["myapp.client.Client().fetch -> Client.fetch_many"]})
    assert len(findings) == 1
    assert "`Client.fetch_many`" in findings[0].message and "`c.fetch()`" in findings[0].message


def test_bad_extra_round_trip_is_a_config_error():
    with pytest.raises(ConfigError, match="extra-round-trips"):
        build_options(NPlusOne, {"extra-round-trips": ["not a symbol -> x"]})
    with pytest.raises(ConfigError, match="should be like"):
        build_options(NPlusOne, {"extra-round-trips": "myapp.fetch"})


def test_every_catalog_entry_names_a_batch_alternative():
    assert len(ROUND_TRIPS) > 50
    for symbol, trip in ROUND_TRIPS.items():
        assert trip.batch and trip.what and trip.family in {"http", "sql", "redis", "aws"}, symbol


@pytest.mark.parametrize(("rule", "code", "depth"), [
    (NPlusOne, "import requests\n\ndef f(groups):\n    for g in groups:\n        for i in g:\n            requests.get(i)\n", 2),
    (LoopInvariant, "import re\n\ndef f(rows):\n    for r in rows:\n        for c in r:\n            re.compile('x').match(c)\n", 2),
    (SequentialAwait, "async def f(c, urls):\n    for u in urls:\n        await c.get(u)\n", 1),
    (BlockingInAsync, "import time\n\nasync def f():\n    time.sleep(1)\n", 0),
])
def test_findings_carry_loop_depth_for_ranking(rule, code, depth):
    findings = scan(rule, code)
    assert findings and findings[0].data["loop_depth"] == depth
    assert findings[0].impact.kind == "runtime" and findings[0].impact.estimate_ms is None
    assert not findings[0].fix.available


def test_loop_invariant_counts_the_loops_it_can_leave():
    code = "import re\n\ndef f(rows):\n    for r in rows:\n        for c in r:\n            re.compile('x').match(c)\n"
    assert scan(LoopInvariant, code)[0].data["hoist_levels"] == 2
    code = "import re\n\ndef f(rows):\n    for r in rows:\n        for c in r:\n            re.compile(r).match(c)\n"
    assert scan(LoopInvariant, code)[0].data["hoist_levels"] == 1


def test_include_tests_option_reports_test_files():
    code = "import time\n\nasync def test_x():\n    time.sleep(1)\n"
    config = config_from_table({"measure-imports": False}, root=Path("/nonexistent-advisor-test"))
    assert analyse_text(code, "tests/test_x.py", "tests.test_x", [BlockingInAsync], config).findings == ()
    config = config_from_table({"measure-imports": False, "rules": {"blocking-in-async": {"include-tests": True}}},
                               root=Path("/nonexistent-advisor-test"))
    assert len(analyse_text(code, "tests/test_x.py", "tests.test_x", [BlockingInAsync], config).findings) == 1


def test_rule_modules_do_not_import_libcst():
    code = (
        "import sys\n"
        "import advisor.rules.n_plus_one, advisor.rules.blocking_in_async\n"
        "import advisor.rules.sequential_await, advisor.rules.loop_invariant\n"
        "assert 'libcst' not in sys.modules, 'libcst imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
