"""The bundled import-cost table (advisor/data/import_costs.json) is a
measurement made by benchmarks/cost_table.py: its header says how, where and
when, every entry is a positive number of milliseconds, and the loader reads
exactly the entries."""

from __future__ import annotations

import datetime
import json
import math
import re
import runpy

from conftest import REPO

TABLE = REPO / "advisor" / "data" / "import_costs.json"
SCRIPT = REPO / "benchmarks" / "cost_table.py"


def document() -> dict[str, object]:
    data = json.loads(TABLE.read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_header_says_how_where_and_when_the_table_was_measured() -> None:
    data = document()
    assert re.fullmatch(r"CPython 3\.\d+\.\d+", str(data["_python"]))
    assert str(data["_platform"]).strip()
    datetime.date.fromisoformat(str(data["_date"]))
    assert isinstance(data["_runs"], int) and data["_runs"] >= 3
    assert str(data["_command"]).startswith("python benchmarks/cost_table.py")
    assert "importtime" in str(data["_about"]) and "fastest" in str(data["_about"])


def test_every_entry_is_a_positive_number_of_milliseconds() -> None:
    entries = {k: v for k, v in document().items() if not k.startswith("_")}
    assert len(entries) >= 150
    bad = {k: v for k, v in entries.items() if type(v) not in (int, float) or not math.isfinite(v) or v <= 0}
    assert bad == {}
    assert all(re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*", k) for k in entries)


def test_the_loader_reads_every_entry_and_no_header() -> None:
    from advisor.rules.lazy_imports.costs import load_table

    table = load_table()
    entries = {k: float(v) for k, v in document().items() if not k.startswith("_")}  # type: ignore[arg-type]
    assert table == entries


def test_the_table_holds_what_the_script_measures() -> None:
    """Every entry is a module the script's lists name (nothing hand-added)."""
    script = runpy.run_path(str(SCRIPT))
    named = set(script["STDLIB"]) | {m for modules in script["PACKAGES"].values() for m in modules}
    entries = {k for k in document() if not k.startswith("_")}
    assert entries <= named, sorted(entries - named)
    assert set(script["PINS"]) <= set(script["PACKAGES"])  # a pin for every pinned distribution only


def test_the_stdlib_modules_the_rule_tests_rely_on_are_in_the_table() -> None:
    """Scans without measuring (--no-measure) cost imports from the table."""
    entries = document()
    for module in ("asyncio", "http.client", "email.mime.multipart", "urllib.request", "decimal", "sqlite3"):
        assert module in entries, module
