"""lazy-imports on the startup model: savings computed on the graph, entries,
modules no entry reaches, where deferred code would run, and the summary.

Deterministic: measuring is off, so external modules cost the bundled
table's figures, pinned here (numpy 60 ms, pandas 300 ms, requests 60 ms) so
that regenerating the table (benchmarks/cost_table.py) leaves these tests
alone; nothing is timed.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
from pathlib import Path

from advisor.config import config_from_table
from advisor.engine.scan import scan
from advisor.findings import ScanReport

import pytest

#: The figures these tests are written against, over the shipped table.
PINNED = {"numpy": 60.0, "pandas": 300.0, "requests": 60.0}


@pytest.fixture(autouse=True)
def _pinned_table(monkeypatch: pytest.MonkeyPatch) -> None:
    from advisor.rules.lazy_imports import costs

    shipped = costs.load_table()
    monkeypatch.setattr(costs, "load_table", lambda: {**shipped, **PINNED})


def project(root: Path, files: dict[str, str], scripts: str = "tool = 'pkg.cli:main'", **table: object) -> Path:
    (root / "pyproject.toml").write_text(f"[project]\nname = 'demo'\nversion = '0'\n\n[project.scripts]\n{scripts}\n")
    for name, text in {"pkg/__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def run(root: Path, **table: object) -> ScanReport:
    config = config_from_table({"measure-imports": False, "select": ["lazy-imports"], **table}, root=root)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return scan([root], config, use_cache=False)
    finally:
        os.chdir(cwd)


def by_statement(report: ScanReport) -> dict[str, object]:
    return {f.data["statement"]: f for f in report.findings}


def test_an_import_an_eager_line_above_already_loads_saves_nothing(tmp_path: Path) -> None:
    """`from pandas import DataFrame` under `import pandas as pd` used at module level: 0 new modules."""
    root = project(tmp_path, {"pkg/cli.py": """\
        import pandas as pd
        from pandas import DataFrame

        EMPTY = pd.Series()

        def main():
            return DataFrame()
        """})
    assert run(root).findings == []


def test_overlapping_imports_in_two_reached_modules_are_not_added_up(tmp_path: Path) -> None:
    """b.py keeps numpy eager at startup: deferring it in cli.py removes nothing."""
    root = project(tmp_path, {
        "pkg/cli.py": "import numpy\nfrom pkg import b\n\ndef main():\n    return numpy.zeros(1), b.X\n",
        "pkg/b.py": "import numpy\n\nX = numpy.ones(1)\n",
    })
    assert run(root).findings == []


def test_the_message_names_the_entry_and_the_summary_is_computed_on_the_graph(tmp_path: Path) -> None:
    root = project(tmp_path, {"pkg/cli.py": """\
        import numpy
        import requests

        def fetch(url):
            return requests.get(url)

        def compute():
            return numpy.zeros(1)
        """})
    report = run(root)
    found = by_statement(report)
    assert set(found) == {"import numpy", "import requests"}
    numpy = found["import numpy"]
    assert numpy.message == "`numpy` costs ~60 ms at startup of console script `tool`; only compute() uses it"
    assert numpy.impact.estimate_ms == 60.0 and numpy.impact.source == "table"
    assert numpy.data["entries"] == {"console script `tool`": 60.0}
    figures = report.summary["startup"]
    assert figures["startup_total_ms"] == 120.0  # numpy + requests, each once
    assert figures["startup_saving_ms"] == 120.0 and figures["fixable_saving_ms"] == 120.0
    tool = next(e for e in figures["entries"] if e["name"] == "console script `tool`")
    assert tool == {"name": "console script `tool`", "roots": ["pkg.cli"], "total_ms": 120.0, "saving_ms": 120.0,
                    "fixable_saving_ms": 120.0}


def test_no_total_exceeds_the_entries_import_time(tmp_path: Path) -> None:
    """Two lines loading the same module: the total counts it once."""
    root = project(tmp_path, {"pkg/cli.py": """\
        import numpy
        import numpy.linalg

        def a():
            return numpy.zeros(1)

        def main():
            return 0
        """, "pkg/other.py": "import numpy\n\ndef b():\n    return numpy.ones(1)\n"},
        scripts="tool = 'pkg.cli:main'\nother = 'pkg.other:b'")
    report = run(root)
    figures = report.summary["startup"]
    assert figures["startup_saving_ms"] <= figures["startup_total_ms"]
    for finding in report.findings:
        assert finding.impact.estimate_ms <= max(e["total_ms"] for e in figures["entries"])


def test_a_module_no_entry_reaches_says_so_and_has_no_fix(tmp_path: Path) -> None:
    root = project(tmp_path, {"pkg/cli.py": "def main():\n    return 0\n",
                              "pkg/tools.py": "import numpy\n\ndef norm(x):\n    return numpy.abs(x)\n"})
    report = run(root)
    (finding,) = report.findings
    assert "when `pkg.tools` is imported (no entry point loads it at startup)" in finding.message
    assert finding.fix.safety == "none" and "no entry point loads pkg.tools" in finding.data["no_fix"]
    assert report.summary["startup"]["startup_saving_ms"] == 0.0
    assert any("no entry point loads at startup" in n for n in report.notices)
    named = run(root, **{"entry-points": ["import pkg.tools"]})
    (finding,) = named.findings
    assert finding.message.startswith("`numpy` costs ~60 ms at startup of `import pkg.tools`")
    assert finding.fix.safety == "safe"


def test_deferring_into_code_that_always_runs_at_startup_is_not_reported(tmp_path: Path) -> None:
    """The console script's function, what it always calls, a function called at module
    level, __init__ of a class built at module level, AppConfig.ready(): all run at every start."""
    root = project(tmp_path, {
        "pkg/cli.py": """\
            import numpy
            import pandas
            import requests

            def setup():
                return pandas.DataFrame()

            def main():
                setup()
                return numpy.zeros(1)

            def maybe(flag):
                if flag:
                    return requests.get("x")
            """,
        "pkg/boot.py": """\
            import numpy

            class Engine:
                def __init__(self):
                    self.zeros = numpy.zeros(1)

            ENGINE = Engine()
            """,
        "pkg/apps.py": """\
            from django.apps import AppConfig
            import pandas

            class PkgConfig(AppConfig):
                def ready(self):
                    pandas.set_option("x", 1)
            """,
    }, **{})
    report = run(root, **{"entry-points": ["import pkg.boot", "import pkg.apps"]})
    assert {(f.path.replace(os.sep, "/"), f.data["statement"]) for f in report.findings} == {
        ("pkg/cli.py", "import requests")}  # maybe() runs only when a flag says so


def test_per_item_and_per_request_users_keep_the_finding_without_a_fix(tmp_path: Path) -> None:
    root = project(tmp_path, {"pkg/cli.py": """\
        import aiohttp
        import httpx
        import numpy
        import pandas
        import requests

        class Point:
            @property
            def norm(self):
                return numpy.abs(1)

        def view(request):
            return pandas.DataFrame()

        def get(url):
            return requests.get(url)

        class Router:
            async def route_path(self, scope, receive, send):
                return httpx.get("x")

        def _request(url):
            return aiohttp.get(url)

        def main():
            return 0
        """})
    found = by_statement(run(root))
    assert set(found) == {"import aiohttp", "import httpx", "import numpy", "import pandas", "import requests"}
    assert "a property" in found["import numpy"].data["no_fix"] and found["import numpy"].fix.safety == "none"
    assert "request handler" in found["import pandas"].data["no_fix"]
    assert "ASGI/WSGI callable" in found["import httpx"].data["no_fix"]
    assert "handles a request (by its name)" in found["import aiohttp"].data["no_fix"]
    assert found["import requests"].fix.safety == "safe" and "no_fix" not in found["import requests"].data


def test_the_summary_survives_the_whole_scan_memo(tmp_path: Path) -> None:
    root = project(tmp_path, {"pkg/cli.py": "import numpy\n\ndef compute():\n    return numpy.zeros(1)\n"})
    config = config_from_table({"measure-imports": False, "select": ["lazy-imports"]}, root=root)
    first = scan([root], config)
    again = scan([root], config)
    assert again.cached and again.summary == first.summary and first.summary["startup"]["startup_saving_ms"] == 60.0


def test_json_and_text_show_the_models_figures(tmp_path: Path) -> None:
    from advisor.report import RenderOptions, get_renderer

    root = project(tmp_path, {"pkg/cli.py": "import numpy.linalg\nfrom numpy import ones\n\ndef f():\n    return numpy.linalg.norm(ones(1))\n"})
    report = run(root)  # each alone saves nothing (the other line keeps numpy): reported as a pair
    assert sorted(f.impact.estimate_ms for f in report.findings) == [60.0, 60.0]
    summary = json.loads(get_renderer("json")(report, RenderOptions()))["summary"]
    assert summary["startup_saving_ms"] == 60.0 and summary["startup_total_ms"] == 60.0  # not 120: never a sum
    assert summary["fixable_saving_ms"] == 60.0 and summary["startup_source"] == "table"
    assert summary["startup_project_timed"] is False  # the project's own modules count 0 ms
    assert [e["name"] for e in summary["startup_entries"]] == ["console script `tool`", "`import pkg`"]
    text = get_renderer("text")(report, RenderOptions())
    assert "~60 ms of ~60 ms startup of console script `tool` (its installed and stdlib imports) to save" in text.splitlines()[-1]


def test_a_rescan_after_editing_a_file_runs_no_measuring_subprocess(tmp_path: Path) -> None:
    """Closures are cached per interpreter, module and module version, not per
    project state: appending a comment re-measures nothing (counted by a
    wrapper interpreter that logs every run)."""
    log = tmp_path / "runs.log"
    wrapper = tmp_path / "bin" / "python"
    wrapper.parent.mkdir()
    wrapper.write_text(f"#!/bin/sh\necho run >> '{log}'\nexec '{sys.executable}' \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    root = project(tmp_path / "proj", {"pkg/cli.py": "import json\nimport asyncio\n\ndef run():\n    return asyncio, json\n"}) \
        if (tmp_path / "proj").mkdir() is None else None
    config = config_from_table({"select": ["lazy-imports"], "python": str(wrapper)}, root=root)
    scan([root], config)
    assert log.read_text().count("run") >= 2  # the version probe and the closures
    with (root / "pkg" / "cli.py").open("a") as handle:
        handle.write("# an edit\n")
    log.write_text("")
    report = scan([root], config)
    assert report.cached == 1  # pkg/__init__.py: the edited file was analysed again
    assert log.read_text() == ""


def test_modules_that_do_something_when_imported_are_never_measured(tmp_path: Path) -> None:
    """A checkout naming `import ensurepip.__main__` or `antigravity` must not make
    the measuring interpreter run them (it would install pip, open a browser)."""
    from advisor.evidence.closures import ClosureStore, measurable

    assert not measurable("antigravity") and not measurable("ensurepip.__main__") and not measurable("pip.__main__")
    assert not measurable("turtledemo.clock") and measurable("json") and measurable("email.mime.text")
    log = tmp_path / "runs.log"
    wrapper = tmp_path / "python"
    wrapper.write_text(f"#!/bin/sh\necho \"$@\" >> '{log}'\nexec '{sys.executable}' \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    store = ClosureStore(str(wrapper), None)
    found, failed = store.closures({"antigravity": "stdlib", "pip.__main__": "dist-pip", "json": "stdlib"})
    assert set(found) == {"json"} and failed == []
    assert "antigravity" not in log.read_text() and "__main__" not in log.read_text()


def test_imports_that_save_only_together_are_reported_as_a_group(tmp_path: Path) -> None:
    """numpy in cli.py and in b.py (which cli.py imports), each used only in a function:
    alone each saves nothing, together they take numpy off the startup. (main() calls
    b.f() only on some runs: called unconditionally, b.f() would run at every start.)"""
    root = project(tmp_path, {
        "pkg/cli.py": "import sys\nimport numpy\nfrom pkg import b\n\ndef main():\n    if sys.argv[1:]:\n        return b.f()\n\n"
                      "def compute():\n    return numpy.zeros(1)\n",
        "pkg/b.py": "import numpy\n\ndef f():\n    return numpy.ones(1)\n",
        "pkg/c.py": "import numpy\n\nX = numpy.ones(1)\n",  # never imported at startup: not part of it
    })
    found = sorted(run(root).findings, key=lambda f: f.path)
    assert [(f.path.replace(os.sep, "/"), f.impact.estimate_ms) for f in found] == [("pkg/b.py", 60.0), ("pkg/cli.py", 60.0)]
    assert found[1].message.endswith("(saved only with `import numpy` in pkg/b.py:1 deferred too)")
    assert len(found[0].data["together"]) == 2
    # a third eager, module-level use on the startup path keeps numpy: no group saves anything
    (root / "pkg" / "cli.py").write_text("import numpy\nfrom pkg import b, c\n\ndef compute():\n    return numpy.zeros(1)\n")
    assert run(root).findings == []


def test_a_group_whose_other_member_is_unsafe_is_not_fixed_by_default(tmp_path: Path) -> None:
    """cookiecutter 2.6.0: two lines load one module, and a test patches the name one of
    them binds (that one is in the unsafe tier). The safe line alone removes nothing,
    so `advisor fix` must not write it by default: it takes the group's unsafe tier."""
    root = project(tmp_path, {
        # main() calls b.f() only on some runs (a call on every start would make f() always-run)
        "pkg/cli.py": "import numpy\nfrom pkg import b\n\ndef main(argv=None):\n    if argv:\n        return b.f()\n\n"
                      "def compute():\n    return numpy.zeros(1)\n",
        "pkg/b.py": "import numpy\n\ndef f():\n    return numpy.ones(1)\n",
        "tests/test_b.py": "from unittest import mock\n\n@mock.patch('pkg.b.numpy')\ndef test_f(numpy):\n    pass\n",
    })
    report = run(root)
    found = {f.path.replace(os.sep, "/"): f for f in report.findings}
    assert sorted(found) == ["pkg/b.py", "pkg/cli.py"]
    assert found["pkg/b.py"].fix.safety == "unsafe" and found["pkg/cli.py"].fix.safety == "unsafe"
    assert "saves only with `import numpy` in pkg/b.py:1, an unsafe fix" in found["pkg/cli.py"].message
    assert report.summary["startup"]["fixable_saving_ms"] == 0
    # without the patch, both lines are safe and fixed together
    (root / "tests" / "test_b.py").write_text("def test_f():\n    pass\n")
    assert {f.fix.safety for f in run(root).findings} == {"safe"}


def test_django_settings_apps_and_urlconf_are_one_entry(tmp_path: Path) -> None:
    """Read from the facts the workers recorded: settings, installed apps' models, ROOT_URLCONF.
    Migrations are not startup (and not scanned by default)."""
    root = project(tmp_path, {
        "site/__init__.py": "",
        "site/settings.py": "INSTALLED_APPS = ['pkg']\nROOT_URLCONF = 'site.urls'\n",
        "site/urls.py": "import numpy\n\ndef view_count():\n    return numpy.zeros(1)\n",
        "pkg/models.py": "import requests\n\ndef fetch():\n    return requests.get('x')\n",
        "pkg/migrations/__init__.py": "",
        "pkg/migrations/0001_initial.py": "import pandas\n\ndef forwards():\n    return pandas.DataFrame()\n",
    }, scripts="")
    report = run(root)
    found = by_statement(report)
    django = "Django settings `site.settings`"
    assert found["import numpy"].message.startswith(f"`numpy` costs ~60 ms at startup of {django}")
    assert found["import requests"].data["entries"] == {django: 60.0}
    assert "import pandas" not in found  # migrations are left out of the scan by default (include-migrations)
    entry = next(e for e in report.summary["startup"]["entries"] if e["name"] == django)
    assert set(entry["roots"]) >= {"site.settings", "pkg", "pkg.models", "site.urls"} and entry["saving_ms"] == 120.0


def test_closures_are_timed_by_union_runs_once_and_cached(tmp_path: Path) -> None:
    """A first measurement is one tree plus the union runs that time every module
    (the fastest kept); then nothing runs again."""
    from advisor.evidence.closures import ClosureStore
    from advisor.evidence.self_times import RUNS

    log = tmp_path / "runs.log"
    wrapper = tmp_path / "python"
    wrapper.write_text(f"#!/bin/sh\necho run >> '{log}'\nexec '{sys.executable}' \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    cache = tmp_path / "closures.json"
    store = ClosureStore(str(wrapper), cache)
    found, _ = store.closures({"json": "stdlib-x"})
    assert "json" in found["json"].modules and store.runs == 1 + RUNS
    assert log.read_text().count("run") == 1 + RUNS
    again = ClosureStore(str(wrapper), cache)
    assert again.closures({"json": "stdlib-x"})[0] == found and again.runs == 0


def test_a_group_member_that_removes_nothing_beside_the_others_is_not_written() -> None:
    """datasette 0.65.5, app.py: `import asgi_csrf` (it loads itsdangerous),
    `from itsdangerous import URLSafeSerializer` (safe) and `from itsdangerous
    import BadSignature` (per request: left alone) form one group. With
    BadSignature staying, URLSafeSerializer removes nothing the asgi_csrf line
    does not: it is left alone, and asgi_csrf is still written."""
    from advisor.evidence.startup import Entry, StartupGraph, Statement, load
    from advisor.findings import Finding, FixInfo, Impact, Span
    from advisor.rules.lazy_imports.savings import _group_tier
    from advisor.rules.lazy_imports.startup_model import StartupModel

    lines = {"csrf": "import asgi_csrf", "signer": "from itsdangerous import URLSafeSerializer",
             "bad": "from itsdangerous import BadSignature"}
    graph = StartupGraph(project={"app": (Statement("app:1", ("asgi_csrf",)), Statement("app:2", ("itsdangerous",)),
                                          Statement("app:3", ("itsdangerous",)))},
                         closures={"asgi_csrf": {"asgi_csrf": 4.0, "itsdangerous": 3.0}, "itsdangerous": {"itsdangerous": 3.0}})
    entry = Entry("`import app`", ("app",))
    model = StartupModel(graph, [entry], {}, before={entry.name: load(graph, entry)})

    def finding(line: int, key: str, fixable: bool) -> Finding:
        data = {"statement": lines[key], "statement_id": f"app:{line}", **({} if fixable else {"no_fix": "per request"})}
        return Finding("lazy-imports", "app.py", Span(line, 0, line, 1), lines[key], Impact(kind="startup", estimate_ms=7.0),
                       FixInfo(available=fixable, safety="safe" if fixable else "none"), data=data)

    tiered = _group_tier(model, [finding(1, "csrf", True), finding(2, "signer", True), finding(3, "bad", False)])
    assert [(f.data["statement"], f.fix.safety) for f in tiered] == [
        (lines["csrf"], "safe"), (lines["signer"], "none"), (lines["bad"], "none")]
    assert tiered[1].data["no_fix"] == ("it saves only with `from itsdangerous import BadSignature` in app.py:3 "
                                        "deferred too, which `advisor fix` leaves alone")


@pytest.mark.parametrize("load", [99.0, 0.1])
def test_import_times_measured_on_a_busy_machine_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         load: float) -> None:
    """A claim is taken once and cached: made while the load average was over
    twice the cores, it may be high, and the notice says how to measure again."""
    from advisor.evidence import closures

    monkeypatch.setattr(closures, "_load", lambda: load)
    root = project(tmp_path, {"pkg/cli.py": "import json\n\ndef run():\n    return json\n"})
    config = config_from_table({"select": ["lazy-imports"], "python": sys.executable,
                                "cache-dir": str(tmp_path.parent / f"cache-{tmp_path.name}")}, root=root)
    notices = [n for n in scan([root], config, use_cache=False).notices if "busy" in n]
    if load > 2 * (os.cpu_count() or 1):
        assert len(notices) == 1 and f"(load {load:.1f} on {os.cpu_count() or 1} cores)" in notices[0]
        assert "closures.json to measure them again" in notices[0]
    else:
        assert notices == []
