"""The startup model (advisor/evidence/startup.py): what entries load, and
what deferring a set of statements saves, computed on the graph together.

Hand-built graphs pin the cases the issue quotes (a module loaded by the line
above, two lines loading the same module, a chain); property tests on random
graphs check the guarantees: a saving is never negative, never above the
entries' total, grows with the set deferred, and is zero for modules no
entry reaches.
"""

from __future__ import annotations

from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.evidence.startup import (
    Entry, StartupGraph, Statement, closure_from_importtime, load, reached_by, saving, single_savings,
)

#: pkg.cli imports django.db (which loads functions) and, one line below,
#: django.db.models.functions; pkg.views imports pint; pkg.migrations imports
#: heavy_migration_tool but no entry reaches it.
GRAPH = StartupGraph(
    project={
        "pkg": (),
        "pkg.cli": (
            Statement("pkg.cli:1", ("django.db",)),
            Statement("pkg.cli:2", ("django.db.models.functions",)),
            Statement("pkg.cli:3", ("pkg.views",)),
            Statement("pkg.cli:4", ("json",)),
        ),
        "pkg.views": (Statement("pkg.views:1", ("pint",)), Statement("pkg.views:2", ("json",))),
        "pkg.migrations": (Statement("pkg.migrations:1", ("heavy_migration_tool",)),),
    },
    closures={
        "django.db": {"django": 5.0, "django.db": 20.0, "django.db.models": 100.0, "django.db.models.functions": 60.0},
        "django.db.models.functions": {"django": 5.0, "django.db": 20.0, "django.db.models": 100.0,
                                       "django.db.models.functions": 60.0},
        "pint": {"pint": 300.0},
        "json": {"json": 2.0, "json.decoder": 1.0},
        "heavy_migration_tool": {"heavy_migration_tool": 900.0},
    },
)
CLI = Entry("console script `tool`", ("pkg.cli",))


def test_an_entry_loads_its_project_modules_and_their_closures() -> None:
    loaded = load(GRAPH, CLI)
    assert loaded.modules == {"pkg", "pkg.cli", "pkg.views", "django", "django.db", "django.db.models",
                              "django.db.models.functions", "pint", "json", "json.decoder"}
    assert loaded.total_ms == pytest.approx(5 + 20 + 100 + 60 + 300 + 2 + 1)
    assert loaded.unmeasured == frozenset()


def test_a_line_whose_modules_the_line_above_loads_saves_nothing() -> None:
    assert saving(GRAPH, [CLI], ["pkg.cli:2"]).saving_ms == 0
    assert saving(GRAPH, [CLI], ["pkg.cli:1"]).saving_ms == 0
    both = saving(GRAPH, [CLI], ["pkg.cli:1", "pkg.cli:2"])
    assert both.saving_ms == pytest.approx(185)  # together they free django: more than the sum (0 + 0)
    assert both.removed == {"django", "django.db", "django.db.models", "django.db.models.functions"}


def test_a_chain_saves_less_together_than_the_sum_of_its_links() -> None:
    alone = single_savings(GRAPH, [CLI], ["pkg.cli:3", "pkg.views:1"])
    assert alone["pkg.cli:3"].saving_ms == pytest.approx(300)  # pkg.views and pint; json stays
    assert alone["pkg.views:1"].saving_ms == pytest.approx(300)
    together = saving(GRAPH, [CLI], ["pkg.cli:3", "pkg.views:1"])
    assert together.saving_ms == pytest.approx(300)  # not 600: pint is freed once
    assert together.saving_ms <= together.total_ms


def test_a_module_no_entry_reaches_has_no_startup_saving() -> None:
    result = saving(GRAPH, [CLI], ["pkg.migrations:1"])
    assert result.saving_ms == 0 and result.unreached == {"pkg.migrations:1"}
    assert reached_by(GRAPH, [CLI], "pkg.migrations") == []
    assert reached_by(GRAPH, [CLI], "pkg.views") == [CLI.name]


def test_a_module_still_loaded_by_another_entry_is_not_saved() -> None:
    server = Entry("`import pkg.views`", ("pkg.views",))
    result = saving(GRAPH, [CLI, server], ["pkg.cli:3"])
    assert result.saving_ms == 0  # the server entry still imports pkg.views, and pint with it
    assert result.per_entry[CLI.name] == (pytest.approx(300), pytest.approx(488))  # the CLI alone is faster
    assert result.per_entry[server.name] == (0, pytest.approx(303))
    pint = saving(GRAPH, [CLI, server], ["pkg.views:1"])
    assert pint.saving_ms == pytest.approx(300) and pint.removed == {"pint"}


def test_unmeasured_targets_are_named_not_guessed() -> None:
    graph = StartupGraph(project={"app": (Statement("app:1", ("numpy",)), Statement("app:2", ("json",)))},
                         closures={"json": {"json": 2.0}})
    loaded = load(graph, Entry("`import app`", ("app",)))
    assert loaded.unmeasured == {"numpy"} and loaded.total_ms == pytest.approx(2.0)


def test_parent_packages_load_first_and_a_submodule_closure_covers_its_parent() -> None:
    graph = StartupGraph(project={"app": (Statement("app:1", ("email.mime.text",)),)},
                         closures={"email.mime.text": {"email": 1.0, "email.mime": 0.5, "email.mime.text": 3.0}})
    loaded = load(graph, Entry("e", ("app",)))
    assert {"email", "email.mime", "email.mime.text"} <= loaded.modules and loaded.unmeasured == frozenset()


def test_one_self_time_per_module_the_smallest_seen() -> None:
    graph = StartupGraph(project={"app": (Statement("app:1", ("a",)), Statement("app:2", ("b",)))},
                         closures={"a": {"a": 1.0, "shared": 9.0}, "b": {"b": 1.0, "shared": 7.0}})
    assert load(graph, Entry("e", ("app",))).total_ms == pytest.approx(1 + 1 + 7)


def test_closure_from_importtime_reads_self_times_after_the_marker() -> None:
    log = dedent("""\
        import time: self [us] | cumulative | imported package
        import time:       120 |        120 | site
        @@advisor-importtime-mark@@
        import time:      1500 |       1500 |   json.decoder
        import time:      2500 |       4000 | json
    """)
    assert closure_from_importtime(log) == {"json.decoder": 1.5, "json": 2.5}


# -- properties on random graphs ---------------------------------------------------------------

MODULES = [f"p{i}" for i in range(6)]
EXTERNALS = [f"x{i}" for i in range(5)]


@st.composite
def graphs(draw: st.DrawFn) -> tuple[StartupGraph, list[Entry], list[str]]:
    project = {}
    ids = []
    for module in MODULES:
        statements = []
        for line in range(draw(st.integers(0, 4))):
            targets = tuple(draw(st.lists(st.sampled_from(MODULES + EXTERNALS), min_size=1, max_size=2)))
            statements.append(Statement(f"{module}:{line}", targets))
            ids.append(f"{module}:{line}")
        project[module] = tuple(statements)
    closures = {}
    for external in EXTERNALS:
        extra = draw(st.lists(st.sampled_from([f"y{i}" for i in range(6)] + EXTERNALS), max_size=3))
        times = st.floats(0, 500, allow_nan=False)
        closures[external] = {m: draw(times) for m in [external, *extra]}
    self_ms = {m: draw(st.floats(0, 50, allow_nan=False)) for m in MODULES}
    roots = draw(st.lists(st.lists(st.sampled_from(MODULES), min_size=1, max_size=2), min_size=1, max_size=3))
    entries = [Entry(f"entry{i}", tuple(r)) for i, r in enumerate(roots)]
    return StartupGraph(project, closures, self_ms), entries, ids


@settings(max_examples=100, derandomize=True, deadline=None)
@given(graphs(), st.data())
def test_no_saving_exceeds_the_entries_total_or_goes_negative(case: tuple[StartupGraph, list[Entry], list[str]],
                                                              data: st.DataObject) -> None:
    graph, entries, ids = case
    chosen = data.draw(st.lists(st.sampled_from(ids), unique=True) if ids else st.just([]))
    result = saving(graph, entries, chosen)
    assert -1e-9 <= result.saving_ms <= result.total_ms + 1e-9
    for name, (entry_saving, entry_total) in result.per_entry.items():
        assert -1e-9 <= entry_saving <= entry_total + 1e-9, name
    assert result.total_ms <= sum(load(graph, e).total_ms for e in entries) + 1e-9


@settings(max_examples=100, derandomize=True, deadline=None)
@given(graphs(), st.data())
def test_deferring_more_never_saves_less(case: tuple[StartupGraph, list[Entry], list[str]], data: st.DataObject) -> None:
    graph, entries, ids = case
    if not ids:
        return
    small = data.draw(st.lists(st.sampled_from(ids), unique=True))
    large = small + data.draw(st.lists(st.sampled_from(ids), unique=True))
    assert saving(graph, entries, small).saving_ms <= saving(graph, entries, large).saving_ms + 1e-9
    assert saving(graph, entries, small).removed <= saving(graph, entries, large).removed


@settings(max_examples=100, derandomize=True, deadline=None)
@given(graphs(), st.data())
def test_statements_of_unreached_modules_save_nothing(case: tuple[StartupGraph, list[Entry], list[str]],
                                                      data: st.DataObject) -> None:
    graph, entries, ids = case
    reached = set().union(*(load(graph, e).modules for e in entries))
    unreached = [s for s in ids if s.split(":")[0] not in reached]
    chosen = data.draw(st.lists(st.sampled_from(unreached), unique=True)) if unreached else []
    result = saving(graph, entries, chosen)
    assert result.saving_ms == 0 and result.removed == frozenset() and result.unreached == set(chosen)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(graphs(), st.data())
def test_the_saving_is_what_no_entry_loads_any_more(case: tuple[StartupGraph, list[Entry], list[str]],
                                                    data: st.DataObject) -> None:
    """Checked from the outside: every removed module is loaded by some entry
    before and by none after; every module still loaded is not counted."""
    graph, entries, ids = case
    chosen = data.draw(st.lists(st.sampled_from(ids), unique=True)) if ids else []
    result = saving(graph, entries, chosen)
    after = set().union(*(load(graph, e, chosen).modules for e in entries))
    before = set().union(*(load(graph, e).modules for e in entries))
    assert result.removed == before - after
    assert result.saving_ms == pytest.approx(sum(graph.self_ms(m) for m in before - after))
