"""End to end on fixtures/shopapp: `advisor profile` records the run, then
`advisor scan` reports what it showed, with true figures, in every format;
the hot problems rank above the cold path's. Also: a pytest workload, merged
runs, and no recorded value ever reaching the disk."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import FIXTURES, run_advisor

#: What fixtures/shopapp's nightly job does (shopapp/app.py): one price query and one
#: settings read per order, one stock request per SKU of the first 40, three regions.
ORDERS, SKUS, REGIONS = 1500, 40, 3


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("shop") / "shopapp"
    shutil.copytree(FIXTURES / "shopapp", target, ignore=shutil.ignore_patterns(".advisor", "__pycache__", ".pytest_cache"))
    recorded = run_advisor("profile", "--", sys.executable, "-m", "shopapp", cwd=target)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert "round trips (" in recorded.stdout and "repeated calls" in recorded.stdout
    return target


def scan(shop: Path, fmt: str) -> str:
    result = run_advisor("scan", ".", "--no-cache", "--no-measure", "--format", fmt, cwd=shop)
    assert result.returncode == 1, result.stderr
    return result.stdout


def observed(report: dict, rule: str, path: str) -> dict:  # type: ignore[type-arg]
    found = [f for f in report["findings"] if f["rule"] == rule and f["path"] == path and f["evidence"]]
    assert len(found) == 1, [(f["rule"], f["path"], f["line"], f["evidence"]) for f in report["findings"]]
    return found[0]  # type: ignore[no-any-return]


def test_each_kind_of_evidence_with_true_figures(shop: Path) -> None:
    report = json.loads(scan(shop, "json"))
    query = observed(report, "n-plus-one", "shopapp/pricing.py")
    # found statically since issue 17 (the loop calls order_total(), which calls item_price()), confirmed by the run
    assert query["line"] == 20 and "`conn.execute()` at shopapp/pricing.py:7" in query["message"]
    assert query["evidence"]["round_trips"] == ORDERS and query["evidence"]["kind"] == "sql"
    assert query["evidence"]["shape"] == "SELECT price FROM items WHERE sku = ?"
    assert query["evidence"]["loop"] == "shopapp/pricing.py:20"
    request = observed(report, "n-plus-one", "shopapp/stock.py")
    assert request["evidence"]["round_trips"] == SKUS and request["evidence"]["shape"] == "GET 127.0.0.1/stock/{id}"
    cache = observed(report, "missing-cache", "shopapp/settings.py")
    assert cache["line"] == 14
    assert (cache["evidence"]["calls"], cache["evidence"]["distinct_args"], cache["evidence"]["results"]) == (ORDERS, REGIONS, "equal")
    runtime = json.loads((shop / ".advisor" / "runtime.json").read_text())
    for finding in (query, request, cache):
        seconds = finding["evidence"]["seconds"]
        assert 0 < seconds < runtime["wall_s"]
        assert finding["impact"] == {"kind": "runtime", "estimate_ms": pytest.approx(finding["score"], abs=0.1), "source": "observed"}
        assert finding["impact"]["estimate_ms"] <= seconds * 1000


def test_hot_problems_rank_above_the_cold_path(shop: Path) -> None:
    report = json.loads(scan(shop, "json"))
    runtime = [f for f in report["findings"] if f["impact"]["kind"] == "runtime"]
    hot = [i for i, f in enumerate(runtime) if f["impact"]["source"] == "observed"]
    cold = [i for i, f in enumerate(runtime) if f["path"] == "shopapp/cold.py"]
    assert len(hot) == 3 and cold, [(f["path"], f["line"], f["reason"]) for f in runtime]
    assert max(hot) < min(cold)
    assert all(runtime[i]["reason"].startswith("cold: never sampled") for i in cold)


def test_evidence_in_words_in_every_format(shop: Path) -> None:
    words = "1,500 queries of one shape from shopapp/pricing.py:7 in the loop at shopapp/pricing.py:20"
    assert words in scan(shop, "text")
    assert words in scan(shop, "markdown")
    assert words in scan(shop, "html")
    sarif = json.loads(scan(shop, "sarif"))
    properties = [r["properties"] for r in sarif["runs"][0]["results"] if "evidence" in r["properties"]]
    assert len(properties) == 3
    assert any(p["evidence"].get("round_trips") == ORDERS and words in p["evidenceText"] for p in properties)


def test_a_test_suite_as_the_workload_and_merged_runs(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "suite" / "profile.pyisession"
    command = ("profile", "--out", str(out), "--", sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests")
    first = run_advisor(*command, cwd=shop)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "slowest tests (2 run):" in first.stdout and "tests/test_shopapp.py::test_run_small" in first.stdout
    one = json.loads((out.parent / "runtime.json").read_text())
    second = run_advisor(command[0], "--merge", *command[1:], cwd=shop)
    assert second.returncode == 0, second.stdout + second.stderr
    both = json.loads((out.parent / "runtime.json").read_text())
    assert (one["runs"], both["runs"]) == (1, 2) and both["tests"]["count"] == 4
    queries = lambda doc: sum(t["count"] for t in doc["round_trips"] if t["kind"] == "sql")  # noqa: E731
    assert queries(both) == 2 * queries(one) > 0


SECRETS = ("inline-literal-secret", "param-secret", "query-secret", "body-secret", "header-secret", "arg-secret")

APP = textwrap.dedent('''\
    import json
    import sqlite3
    import threading
    import urllib.request
    from http.server import BaseHTTPRequestHandler, HTTPServer


    class Echo(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass


    def settings(name):
        return json.loads(json.dumps({"name": name, "rows": list(range(2000))}))


    def main():
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE t (v TEXT)")
        for _ in range(6):
            conn.execute("INSERT INTO t VALUES ('inline-literal-secret')")
            conn.execute("SELECT v FROM t WHERE v = ?", ("param-secret",)).fetchall()
        server = HTTPServer(("127.0.0.1", 0), Echo)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/echo?token=query-secret"
        for _ in range(6):
            request = urllib.request.Request(url, data=b"body-secret", headers={"Authorization": "header-secret"})
            urllib.request.urlopen(request).read()
        for _ in range(200):
            settings("arg-secret")
        server.shutdown()
''')


def test_no_recorded_value_reaches_the_disk(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "leaky"\n')
    (tmp_path / "leaky.py").write_text(APP)
    (tmp_path / "run.py").write_text("import leaky\n\nleaky.main()\n")
    recorded = run_advisor("profile", "--memory", "--", sys.executable, "run.py", cwd=tmp_path)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    document = json.loads((tmp_path / ".advisor" / "runtime.json").read_text())
    kinds = {(t["kind"], t["shape"]) for t in document["round_trips"]}
    assert ("sql", "INSERT INTO t VALUES (?)") in kinds and ("http", "POST 127.0.0.1/echo?token") in kinds
    assert any(c["function"] == "settings" and c["calls"] == 200 and c["distinct_args"] == 1 for c in document["calls"])
    assert document["timed_with_memory_tracing"] is True and document["memory"]["peak_bytes"] > 0
    assert any(Path(line["path"]).name == "leaky.py" and line["peak_bytes"] > 0 for line in document["memory"]["lines"])
    assert any(i["module"] == "http.server" and i["bytes"] > 0 for i in document["memory"]["imports"])
    assert "memory: peak" in recorded.stdout
    for path in (tmp_path / ".advisor").iterdir():
        data = path.read_bytes()
        assert not [s for s in SECRETS if s.encode() in data], path.name


SCRIPT = textwrap.dedent('''\
    """One-file app: its own functions are counted too."""
    import json
    import os
    import pickle
    import tempfile

    PATH = os.path.join(tempfile.mkdtemp(), "s.json")


    def load(region):
        with open(PATH) as handle:
            return json.load(handle)[region]


    class Point:
        def norm(self):
            return 1


    def main():
        with open(PATH, "w") as handle:
            json.dump({r: list(range(3000)) for r in "abc"}, handle)
        total = 0
        for i in range(600):
            total += len(load("abc"[i % 3]))
        print(total, __name__, len(pickle.dumps(Point())) > 0)


    if __name__ == "__main__":
        main()
''')


def test_a_script_s_own_functions_are_counted(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "onefile"\n')
    (tmp_path / "app.py").write_text(SCRIPT)
    recorded = run_advisor("profile", "--", sys.executable, "app.py", cwd=tmp_path)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert "1800000 __main__ True" in recorded.stdout  # runs as __main__; its classes still pickle
    report = json.loads(run_advisor("scan", ".", "--no-cache", "--no-measure", "--format", "json", cwd=tmp_path).stdout)
    cache = observed(report, "missing-cache", "app.py")
    assert cache["line"] == 10
    assert (cache["evidence"]["calls"], cache["evidence"]["distinct_args"], cache["evidence"]["results"]) == (600, 3, "equal")


def test_a_hook_runs_right_after_its_library_is_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from advisor.evidence.recorder.trips import AfterImport

    (tmp_path / "fakelib").mkdir()
    (tmp_path / "fakelib" / "__init__.py").write_text("")
    (tmp_path / "fakelib" / "engine.py").write_text("READY = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen = []
    hooks = AfterImport({"fakelib.engine": lambda: seen.append(sys.modules["fakelib.engine"].READY)})
    hooks.install()
    try:
        import fakelib.engine  # noqa: F401

        assert seen == [True] and hooks.hooks == {}
    finally:
        sys.meta_path.remove(hooks)  # type: ignore[arg-type]
        for name in ("fakelib.engine", "fakelib"):
            sys.modules.pop(name, None)


ORM = textwrap.dedent('''\
    from sqlalchemy import create_engine, text


    def price(conn, sku):
        return conn.execute(text("SELECT price FROM items WHERE sku = :sku"), {"sku": sku}).scalar()


    def main():
        engine = create_engine("sqlite://")
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE items (sku TEXT, price REAL)"))
            conn.execute(text("INSERT INTO items VALUES (:s, :p)"), [{"s": f"S{i}", "p": i} for i in range(100)])
            return sum(price(conn, f"S{i % 100}") for i in range(300))
''')


def test_sqlalchemy_statements_are_recorded_once(tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "orm"\n')
    (tmp_path / "orm.py").write_text(ORM)
    (tmp_path / "run.py").write_text("import orm\n\nprint(orm.main())\n")
    recorded = run_advisor("profile", "--", sys.executable, "run.py", cwd=tmp_path)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    document = json.loads((tmp_path / ".advisor" / "runtime.json").read_text())
    rows = [t for t in document["round_trips"] if t["shape"] == "SELECT price FROM items WHERE sku = ?"]
    assert sum(t["count"] for t in rows) == 300  # once by SQLAlchemy's events, not again by sqlite3 below them
    assert {(Path(t["stack"][0]["path"]).name, t["stack"][0]["line"]) for t in rows} == {("orm.py", 5)}


DJANGO_APP = textwrap.dedent('''\
    import django
    from django.conf import settings

    settings.configure(DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}})
    django.setup()

    from django.db import connection  # noqa: E402


    def price(sku):
        with connection.cursor() as cursor:
            cursor.execute("SELECT price FROM items WHERE sku = %s", [sku])
            return cursor.fetchone()[0]


    def main():
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE items (sku TEXT, price REAL)")
            cursor.executemany("INSERT INTO items VALUES (%s, %s)", [(f"S{i}", i) for i in range(100)])
        return sum(price(f"S{i % 100}") for i in range(300))
''')


def test_django_statements_are_recorded_by_its_execute_wrapper(tmp_path: Path) -> None:
    pytest.importorskip("django")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "dj"\n')
    (tmp_path / "shop.py").write_text(DJANGO_APP)
    (tmp_path / "run.py").write_text("import shop\n\nprint(shop.main())\n")
    recorded = run_advisor("profile", "--", sys.executable, "run.py", cwd=tmp_path)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    document = json.loads((tmp_path / ".advisor" / "runtime.json").read_text())
    shapes = {t["shape"]: t["count"] for t in document["round_trips"]}
    # Django's own SQL (`%s`), recorded by its wrapper; sqlite3 below it (`?`) is not counted again.
    assert shapes.get("SELECT price FROM items WHERE sku = %s") == 300
    assert "SELECT price FROM items WHERE sku = ?" not in shapes



HTTPX_APP = textwrap.dedent('''\
    import asyncio
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    import httpx


    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass


    def fetch_all(base, ids):
        with httpx.Client() as client:
            return [client.get(f"{base}/items/{i}").text for i in ids]


    async def fetch_async(base, ids):
        async with httpx.AsyncClient() as client:
            return [(await client.get(f"{base}/users/{i}")).text for i in ids]


    def main():
        server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        a = fetch_all(base, range(7))
        b = asyncio.run(fetch_async(base, range(6)))
        server.shutdown()
        return len(a) + len(b)
''')


def test_httpx_requests_sync_and_async(tmp_path: Path) -> None:
    pytest.importorskip("httpx")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "hx"\n')
    (tmp_path / "client.py").write_text(HTTPX_APP)
    (tmp_path / "run.py").write_text("import client\n\nprint(client.main())\n")
    recorded = run_advisor("profile", "--", sys.executable, "run.py", cwd=tmp_path)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    document = json.loads((tmp_path / ".advisor" / "runtime.json").read_text())
    found = {(t["shape"], t["stack"][0]["line"]): t["count"] for t in document["round_trips"]}
    assert found == {("GET 127.0.0.1/items/{id}", 21): 7, ("GET 127.0.0.1/users/{id}", 26): 6}
