"""psycopg 2, psycopg 3 and PyMySQL used directly are recorded like sqlite3,
against real servers on 127.0.0.1 (tests/dbservers.py): an N+1 loop through
each driver becomes an observed `n-plus-one` finding at the right line with
the right count; shapes lose their literals; executemany, COPY and
server-side cursors count once; pipelines are not round trips; nothing is
recorded after recording stops; and a driver the program never imports is
never imported."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any, Iterator

import pytest

import dbservers
from conftest import run_advisor

#: Items in the table, and lookups made one per loop item.
ITEMS, LOOKUPS = 50, 120


@pytest.fixture(scope="module")
def pg() -> Iterator[dict[str, Any]]:
    pytest.importorskip("psycopg2")
    try:
        with dbservers.postgres() as params:
            yield params
    except dbservers.Unavailable as why:
        pytest.skip(f"no PostgreSQL server: {why}")


@pytest.fixture(scope="module", params=["mysql-mimic", "mariadb"])
def my(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """The pip-installed protocol server always; MariaDB where the machine has one."""
    pytest.importorskip("pymysql")
    try:
        with (dbservers.mysql() if request.param == "mysql-mimic" else dbservers.mariadb()) as params:
            yield params
    except dbservers.Unavailable as why:
        pytest.skip(f"no {request.param} server: {why}")


def line_of(source: str, marker: str) -> int:
    [line] = [n for n, text in enumerate(source.splitlines(), 1) if marker in text]
    return line


def profile(tmp_path: Path, source: str, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Record ``app.main()`` under `advisor profile`, then scan: (runtime file, report, stdout)."""
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""\
        [project]
        name = "dbapp"

        [tool.advisor]
        measure-imports = false

        [tool.advisor.rules.n-plus-one]
        observed-min-ms = 0.0  # (the count decides here, not this machine's speed)
    """))
    (tmp_path / "app.py").write_text(source)
    (tmp_path / "run.py").write_text("import json, os, sys\n\nimport app\n\nprint(app.main(json.loads(os.environ['DB'])))\n")
    recorded = run_advisor("profile", "--", sys.executable, "run.py", cwd=tmp_path, env={"DB": json.dumps(params)})
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    runtime = json.loads((tmp_path / ".advisor" / "runtime.json").read_text())
    scanned = run_advisor("scan", ".", "--no-cache", "--no-measure", "--format", "json", cwd=tmp_path)
    assert scanned.returncode in (0, 1), scanned.stderr
    return runtime, json.loads(scanned.stdout), recorded.stdout


def counts(runtime: dict[str, Any]) -> dict[str, int]:
    """Round trips per SQL shape, over every call stack."""
    found: dict[str, int] = {}
    for trip in runtime["round_trips"]:
        if trip["kind"] == "sql":
            found[trip["shape"]] = found.get(trip["shape"], 0) + trip["count"]
    return found


def observed_n_plus_one(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule"] == "n-plus-one" and f["evidence"].get("round_trips")]


def assert_n_plus_one(report: dict[str, Any], source: str, shape: str) -> None:
    found = [f for f in observed_n_plus_one(report) if f["evidence"]["shape"] == shape]
    assert len(found) == 1, [(f["line"], f["evidence"]) for f in observed_n_plus_one(report)]
    # Observed at the statement, or, where the static rule follows the loop's call into the
    # function that runs it (n-plus-one through calls), confirmed at that call in the loop.
    assert found[0]["path"] == "app.py"
    assert found[0]["line"] in (line_of(source, "# <- per item"), line_of(source, "# <- the loop"))
    assert found[0]["evidence"]["round_trips"] == LOOKUPS and found[0]["evidence"]["kind"] == "sql"
    assert found[0]["evidence"]["loop"] == f"app.py:{line_of(source, '# <- the loop')}"


PSYCOPG2_APP = textwrap.dedent(f'''\
    import io

    import psycopg2
    import psycopg2.extras


    def price(cur, sku):
        cur.execute("SELECT price FROM items WHERE sku = %s", (sku,))  # <- per item
        return cur.fetchone()[0]


    def main(dsn):
        conn = psycopg2.connect(**dsn)
        cur = conn.cursor()
        cur.execute("CREATE TEMP TABLE items (sku TEXT, price REAL)")
        cur.executemany("INSERT INTO items VALUES (%s, %s)", [(f"S{{i}}", i) for i in range({ITEMS})])
        for i in range(3):
            cur.execute(f"SELECT count(*) FROM items WHERE sku = 'S{{i}}' AND price > {{i}}.5")
        total = sum(price(cur, f"S{{i % {ITEMS}}}") for i in range({LOOKUPS}))  # <- the loop
        out = io.StringIO()
        cur.copy_expert("COPY items TO STDOUT", out)
        big = conn.cursor(name="all_items")  # a server-side cursor: one statement, rows fetched in batches
        big.itersize = 7
        big.execute("SELECT sku FROM items ORDER BY sku")
        rows = sum(1 for _ in big)
        with conn.cursor(cursor_factory=psycopg2.extras.DictCursor) as named:
            named.execute("SELECT sku FROM items WHERE price = 3")
            sku = named.fetchone()["sku"]
        conn.close()
        other = psycopg2.connect(**dsn, connection_factory=psycopg2.extras.RealDictConnection)
        cur = other.cursor()  # (RealDictConnection's own default factory, timed)
        cur.execute("SELECT 7 AS seven")
        seven = cur.fetchone()["seven"]
        other.close()
        return total, len(out.getvalue().splitlines()), rows, sku, seven
''')


def test_psycopg2_round_trips(pg: dict[str, Any], tmp_path: Path) -> None:
    runtime, report, out = profile(tmp_path, PSYCOPG2_APP, pg)
    # the program's own results are intact: prices, COPY, the server-side cursor, the dict rows
    assert str((float(sum(i % ITEMS for i in range(LOOKUPS))), ITEMS, ITEMS, "S3", 7)) in out.splitlines()
    shapes = counts(runtime)
    assert shapes["SELECT price FROM items WHERE sku = %s"] == LOOKUPS
    assert shapes["SELECT count(*) FROM items WHERE sku = ? AND price > ?"] == 3  # literals replaced
    assert shapes["INSERT INTO items VALUES (?)"] == 1  # executemany: one round trip
    assert shapes["COPY items TO STDOUT"] == 1
    assert shapes["SELECT sku FROM items ORDER BY sku"] == 1  # its FETCHes are not statements of their own
    assert shapes["SELECT sku FROM items WHERE price = ?"] == 1  # a cursor_factory of the program's own
    assert shapes["SELECT ? AS seven"] == 1  # a connection_factory of the program's own
    assert not [s for s in shapes if "FETCH" in s.upper() or "DECLARE" in s.upper()]
    assert_n_plus_one(report, PSYCOPG2_APP, "SELECT price FROM items WHERE sku = %s")


PSYCOPG_APP = textwrap.dedent(f'''\
    import asyncio

    import psycopg
    from psycopg import sql


    def price(conn, sku):
        query = sql.SQL("SELECT price FROM {{}} WHERE sku = %s").format(sql.Identifier("items"))
        return conn.execute(query, (sku,)).fetchone()[0]  # <- per item


    async def stock(conn, sku):
        async with conn.cursor() as cur:
            await cur.execute("SELECT price FROM items WHERE sku = %s AND price >= 0", (sku,))
            return (await cur.fetchone())[0]


    async def stocks(dsn):
        async with await psycopg.AsyncConnection.connect(**dsn) as conn:
            return [await stock(conn, f"S{{i}}") for i in range(6)]


    def main(dsn):
        with psycopg.connect(**dsn) as conn:
            conn.execute("DROP TABLE IF EXISTS items")
            conn.execute("CREATE TABLE items (sku TEXT, price REAL)")
            with conn.cursor() as cur:
                with cur.copy("COPY items (sku, price) FROM STDIN") as copy:
                    for i in range({ITEMS}):
                        copy.write_row((f"S{{i}}", i))
                cur.executemany("UPDATE items SET price = price + %s WHERE sku = %s", [(1, f"S{{i}}") for i in range(5)])
            for i in range(4):
                conn.execute(f"UPDATE items SET price = {{i}} WHERE sku = 'S{{i}}'")
            with conn.pipeline():
                for i in range(10):
                    conn.execute("UPDATE items SET price = price WHERE sku = %s", (f"S{{i}}",))
            total = 0
            for i in range({LOOKUPS}):
                total += price(conn, f"S{{i % {ITEMS}}}")  # <- the loop
            with conn.cursor(name="big") as big:
                big.itersize = 7
                big.execute("SELECT sku FROM items")
                rows = sum(1 for _ in big)
        return total, rows, len(asyncio.run(stocks(dsn)))
''')


def test_psycopg3_round_trips(pg: dict[str, Any], tmp_path: Path) -> None:
    runtime, report, out = profile(tmp_path, PSYCOPG_APP, pg)
    assert out.splitlines()[0].endswith(f", {ITEMS}, 6)")
    shapes = counts(runtime)
    assert shapes['SELECT price FROM "items" WHERE sku = %s'] == LOOKUPS  # a composed query, as its SQL
    assert shapes["COPY items (sku, price) FROM STDIN"] == 1  # the whole COPY block: one
    assert shapes["UPDATE items SET price = price + %s WHERE sku = %s"] == 1  # executemany: one
    assert shapes["UPDATE items SET price = ? WHERE sku = ?"] == 4
    assert "UPDATE items SET price = price WHERE sku = %s" not in shapes  # pipelined: sent together
    assert shapes["SELECT sku FROM items"] == 1  # server-side cursor: its DECLARE, not its FETCHes
    assert shapes["SELECT price FROM items WHERE sku = %s AND price >= ?"] == 6  # async cursors
    assert_n_plus_one(report, PSYCOPG_APP, 'SELECT price FROM "items" WHERE sku = %s')


PYMYSQL_APP = textwrap.dedent(f'''\
    import pymysql
    import pymysql.cursors


    def price(conn, sku):
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SELECT price FROM items WHERE sku = %s", (sku,))  # <- per item
            return cur.fetchone()["price"]


    def main(params):
        conn = pymysql.connect(**params)
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE items (sku TEXT, price REAL)")
            cur.executemany("INSERT INTO items VALUES (%s, %s)", [(f"S{{i}}", i) for i in range({ITEMS})])
            cur.executemany("UPDATE items SET price = %s WHERE sku = %s", [(i, f"S{{i}}") for i in range(5)])
            for i in range(3):
                cur.execute(f"DELETE FROM items WHERE sku = 'X{{i}}' OR price < -{{i}}")
        total = 0
        for i in range({LOOKUPS}):
            total += price(conn, f"S{{i % {ITEMS}}}")  # <- the loop
        conn.close()
        return total
''')


def test_pymysql_round_trips(my: dict[str, Any], tmp_path: Path) -> None:
    runtime, report, out = profile(tmp_path, PYMYSQL_APP, my)
    assert str(float(sum(i % ITEMS for i in range(LOOKUPS)))) in out.splitlines()
    shapes = counts(runtime)
    assert shapes["SELECT price FROM items WHERE sku = %s"] == LOOKUPS
    assert shapes["INSERT INTO items VALUES (?)"] == 1  # executemany: one, whatever PyMySQL sends
    assert shapes["UPDATE items SET price = %s WHERE sku = %s"] == 1  # (PyMySQL runs this one row by row)
    assert shapes["DELETE FROM items WHERE sku = ? OR price < ?"] == 3
    assert_n_plus_one(report, PYMYSQL_APP, "SELECT price FROM items WHERE sku = %s")


NO_DRIVER = textwrap.dedent('''\
    import sqlite3
    import sys

    conn = sqlite3.connect(":memory:")
    conn.execute("SELECT 1")
    DRIVERS = ("psycopg2", "psycopg", "pymysql")
    if "--pymysql" in sys.argv:
        import pymysql  # noqa: F401
    print("loaded:", sorted(m for m in DRIVERS if m in sys.modules))
''')


def test_a_driver_the_program_does_not_import_is_never_imported(tmp_path: Path) -> None:
    pytest.importorskip("pymysql")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "nodriver"\n')
    (tmp_path / "prog.py").write_text(NO_DRIVER)
    alone = run_advisor("profile", "--", sys.executable, "prog.py", cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr
    assert "loaded: []" in alone.stdout
    one = run_advisor("profile", "--", sys.executable, "prog.py", "--pymysql", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert "loaded: ['pymysql']" in one.stdout  # its hook loads nothing else


# -- in process: installing and removing the hooks ------------------------------------------


def recorder() -> Any:
    from advisor.evidence.recorder.sites import ProjectFiles
    from advisor.evidence.recorder.trips import TripRecorder

    return TripRecorder(ProjectFiles(str(Path(__file__).parent)))


def trips_of(recorded: Any, shape: str) -> int:
    return sum(row["count"] for row in recorded.rows() if row["shape"] == shape)  # type: ignore[no-any-return]


def test_nothing_is_recorded_after_stop_and_pymysql_is_put_back(my: dict[str, Any]) -> None:
    import pymysql
    import pymysql.cursors

    from advisor.evidence.recorder.drivers import DriverHooks
    from advisor.evidence.recorder.trips import AfterImport

    originals = dict(vars(pymysql.cursors.Cursor))
    trips = recorder()
    after_import = AfterImport({})
    hooks = DriverHooks(trips, after_import)
    assert set(after_import.hooks) == {"psycopg2", "psycopg", "pymysql"}
    after_import.hooks.pop("pymysql")()  # (what the import hook runs right after `import pymysql`)
    conn = pymysql.connect(**my)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS stops (n INT)")
            for i in range(6):
                cur.execute("SELECT n FROM stops WHERE n = %s", (i,))
            assert trips_of(trips, "SELECT n FROM stops WHERE n = %s") == 6
            trips.active = False  # recording stops as main.py stops it
            hooks.remove()
            assert after_import.hooks == {}
            assert vars(pymysql.cursors.Cursor)["execute"] is originals["execute"]
            assert vars(pymysql.cursors.Cursor)["executemany"] is originals["executemany"]
            for i in range(6):
                cur.execute("SELECT n FROM stops WHERE n = %s", (i,))
    finally:
        conn.close()
    assert trips_of(trips, "SELECT n FROM stops WHERE n = %s") == 6


def test_psycopg_hooks_are_put_back_and_silent_after_stop(pg: dict[str, Any]) -> None:
    psycopg2 = pytest.importorskip("psycopg2")
    psycopg = pytest.importorskip("psycopg")
    from advisor.evidence.recorder.drivers import Patches, install_psycopg, install_psycopg2

    connect, cursor = psycopg2.connect, vars(psycopg.Connection)["cursor"]
    trips, patches = recorder(), Patches()
    install_psycopg2(trips, patches)
    install_psycopg(trips, patches)
    old = psycopg2.connect(**pg)
    new = psycopg.connect(**{k: v for k, v in pg.items()})
    try:
        for conn in (old, new):
            conn.cursor().execute("SELECT 1 WHERE 2 = %s", (2,))
        assert trips_of(trips, "SELECT ? WHERE ? = %s") == 2
        trips.active = False
        patches.restore()
        assert psycopg2.connect is connect and vars(psycopg.Connection)["cursor"] is cursor
        for conn in (old, new):  # connections made while recording keep their cursors, which now only pass through
            conn.cursor().execute("SELECT 1 WHERE 2 = %s", (2,))
        assert trips_of(trips, "SELECT ? WHERE ? = %s") == 2
    finally:
        old.close()
        new.close()


def test_patches_restore_what_was_there_and_remove_what_was_not() -> None:
    from advisor.evidence.recorder.drivers import Patches

    class Target:
        def method(self) -> str:
            return "original"

    class Child(Target):
        pass

    patches = Patches()
    patches.replace(Target, "method", lambda self: "patched")
    patches.replace(Child, "method", lambda self: "child")
    assert (Target().method(), Child().method()) == ("patched", "child")
    patches.restore()
    assert (Target().method(), Child().method()) == ("original", "original")
    assert "method" not in vars(Child)
