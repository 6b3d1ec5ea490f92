"""Rules that follow calls across modules (issue 17): missing-cache counts the
project's calls of a cacheable function, n-plus-one reports a loop that calls
a project function making a round trip. Each case is a small project scanned
through the engine, as a user's would be; must-fire and must-stay-silent."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from advisor.config import config_from_table
from advisor.engine.scan import scan
from advisor.findings import Finding
from advisor.rules.support.call_index import CallIndex
from advisor.rules.support.calls import IN_LOOP, NOT_IN_LOOP, PER_ITEM, READ, file_calls

SETTINGS = """\
    import json
    import os

    PATH = os.path.join(os.path.dirname(__file__), "settings.json")


    def load_settings():
        with open(PATH) as f:
            return json.load(f)
"""
REPO = """\
    def order_lines(conn, order_id):
        return conn.execute("SELECT sku, qty FROM lines WHERE order_id = ?", (order_id,)).fetchall()
"""


@pytest.fixture(autouse=True)
def _in_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # paths show as a user in the project sees them


def findings(tmp_path: Path, files: dict[str, str], rule: str) -> list[Finding]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    config = config_from_table({"measure-imports": False, "select": [rule]}, root=tmp_path)
    report = scan([Path(".")], config, jobs=1, use_cache=False)
    assert not report.errors, report.errors
    return [f for f in report.findings if f.rule == rule]


def where(found: list[Finding]) -> list[tuple[str, int]]:
    return [(Path(f.path).name, f.span.line) for f in found]


# -- the call facts of one file ------------------------------------------------------


def test_call_facts_resolve_imports_self_and_loops() -> None:
    code = textwrap.dedent("""\
        from .settings import load_settings
        import shop.repo as repo

        class Cart:
            def total(self, conn, ids):
                return sum(self.price(conn, i) for i in ids)

            def price(self, conn, i):
                return repo.price(conn, i) * load_settings()["vat"]

        def audit(conn):
            while conn.busy():
                repo.ping(conn)
            for name in ("a", "b"):
                repo.check(conn, name)
    """)
    facts = file_calls(ast.parse(code), "shop.cart", False)
    calls = {(c[0], c[1]): (c[3], c[5]) for c in facts["calls"]}
    assert calls[("Cart.total", "shop.cart.Cart.price")][0] == PER_ITEM
    assert calls[("Cart.price", "shop.settings.load_settings")] == (NOT_IN_LOOP, READ)
    assert calls[("Cart.price", "shop.repo.price")][0] == NOT_IN_LOOP
    assert calls[("audit", "shop.repo.ping")][0] == IN_LOOP  # a while loop: not per item
    assert calls[("audit", "shop.repo.check")][0] == IN_LOOP  # a literal tuple: a fixed, tiny count
    assert set(facts["defs"]) == {"Cart.total", "Cart.price", "audit"}


def test_call_facts_note_each_functions_round_trip_outside_its_loops() -> None:
    code = textwrap.dedent("""\
        import requests
        from shop.models import Book

        def price(conn, sku):
            return conn.execute("SELECT price FROM items WHERE sku = ?", (sku,)).fetchone()

        def prices(conn, skus):
            marks = ",".join("?" * len(skus))
            return conn.execute(f"SELECT price FROM items WHERE sku IN ({marks})", skus).fetchall()

        def user(uid):
            return requests.get(f"https://api.example.com/users/{uid}").json()

        def title(pk):
            return Book.objects.get(pk=pk).title

        def each(conn, skus):
            for sku in skus:
                conn.execute("SELECT price FROM items WHERE sku = ?", (sku,))

        async def fetch(conn, sku):
            return await conn.fetchrow("SELECT * FROM items WHERE sku = $1", sku)
    """)
    trips = file_calls(ast.parse(code), "shop.views", False)["trips"]
    assert {name: trip[:2] for name, trip in trips.items()} == {
        "price": [5, "conn.execute()"], "user": [12, "requests.get()"], "title": [15, "Book.objects.get()"]}


def test_the_index_follows_a_package_reexport() -> None:
    init = file_calls(ast.parse("from .settings import load_settings\n"), "shop", True)
    settings = file_calls(ast.parse("def load_settings():\n    return 1\n"), "shop.settings", False)
    user = file_calls(ast.parse("from shop import load_settings\n\ndef f(xs):\n    return [load_settings() for x in xs]\n"),
                      "app", False)
    index = CallIndex([("shop/__init__.py", "shop", init), ("shop/settings.py", "shop.settings", settings),
                       ("app.py", "app", user)])
    assert [s.path for s in index.callers["shop.settings.load_settings"]] == ["app.py"]


# -- missing-cache across modules -------------------------------------------------------

FIRES_MISSING_CACHE = {
    "called-in-a-loop-in-another-module": ({
        "shop/__init__.py": "",
        "shop/settings.py": SETTINGS,
        "shop/pricing.py": """\
            from shop.settings import load_settings

            def prices(items):
                return [i.amount * load_settings()["vat"] for i in items]
        """}, "in a loop at shop/pricing.py:4"),
    "reached-from-a-loop-through-another-function": ({
        "shop/__init__.py": "",
        "shop/settings.py": SETTINGS,
        "shop/pricing.py": """\
            from shop.settings import load_settings

            def with_vat(amount):
                settings = load_settings()
                return amount * (1 + settings["vat"])
        """,
        "shop/orders.py": """\
            from shop import pricing

            def total(items):
                total = 0
                for item in items:
                    total += pricing.with_vat(item.amount)
                return total
        """}, "through `with_vat()`"),
    "from-three-call-sites-in-other-modules": ({
        "shop/__init__.py": "",
        "shop/settings.py": SETTINGS,
        "shop/a.py": "from shop.settings import load_settings\n\ndef a():\n    return load_settings()['a']\n",
        "shop/b.py": "from shop.settings import load_settings\n\ndef b():\n    return load_settings()['b']\n",
        "shop/c.py": "import shop.settings as s\n\ndef c():\n    return 'c' in s.load_settings()\n",
    }, "from 3 call sites"),
    "through-a-package-reexport": ({
        "shop/__init__.py": "from .settings import load_settings\n",
        "shop/settings.py": SETTINGS,
        "app.py": "from shop import load_settings\n\ndef run(rows):\n    for row in rows:\n        print(row, load_settings().get('currency'))\n",
    }, "in a loop at app.py:5"),
}


@pytest.mark.parametrize("files,words", FIRES_MISSING_CACHE.values(), ids=FIRES_MISSING_CACHE.keys())
def test_missing_cache_fires_across_modules(tmp_path: Path, files: dict[str, str], words: str) -> None:
    found = findings(tmp_path, files, "missing-cache")
    assert where(found) == [("settings.py", 7)], [f.message for f in found]
    assert words in found[0].message
    assert "reads and parses a file" in found[0].message


STAYS_SILENT_MISSING_CACHE = {
    "called-once-from-main": {
        "shop/settings.py": SETTINGS,
        "shop/__main__.py": "from shop.settings import load_settings\n\ndef main():\n    print(load_settings())\n\nmain()\n",
    },
    "a-caller-mutates-the-result": {
        "shop/settings.py": SETTINGS,
        "shop/pricing.py": """\
            from shop.settings import load_settings

            def prices(items):
                for item in items:
                    settings = load_settings()
                    settings["seen"] = item
        """,
    },
    "reads-a-path-the-caller-passes": {
        "shop/settings.py": "import json\n\ndef load(path: str):\n    with open(path) as f:\n        return json.load(f)\n",
        "shop/pricing.py": "from shop.settings import load\n\ndef prices(items):\n    return [load('a.json')['vat'] for i in items]\n",
    },
    "an-argument-of-unknown-hashability": {
        "shop/settings.py": "import json\n\ndef load(name):\n    with open('settings.json') as f:\n        return json.load(f)[name]\n",
        "shop/pricing.py": "from shop.settings import load\n\ndef prices(items):\n    return [load(i.region) for i in items]\n",
    },
    "already-cached": {
        "shop/settings.py": "import functools\n" + textwrap.dedent(SETTINGS).replace("def load_settings", "@functools.cache\ndef load_settings"),
        "shop/pricing.py": "from shop.settings import load_settings\n\ndef prices(items):\n    return [load_settings()['vat'] for i in items]\n",
    },
    "reads-the-clock": {
        "shop/settings.py": textwrap.dedent(SETTINGS).replace("import os", "import os\nimport time").replace(
            "return json.load(f)", "return json.load(f), time.time()"),
        "shop/pricing.py": "from shop.settings import load_settings\n\ndef prices(items):\n    return [load_settings()[0] for i in items]\n",
    },
    "a-method-that-reads-self-beside-a-nested-class": {
        "shop/models.py": """\
            import json

            class Product:
                class Meta:
                    ordering = ["name"]

                def spec(self):
                    with open(self.spec_path) as f:
                        return json.load(f)

                def specs(self, names):
                    return [self.spec()[n] for n in names]
        """,
    },
    "only-tests-call-it-in-a-loop": {
        "shop/settings.py": SETTINGS,
        "tests/test_settings.py": "from shop.settings import load_settings\n\ndef test_many():\n    for _ in range(100):\n        assert load_settings()['vat']\n",
    },
}


@pytest.mark.parametrize("files", STAYS_SILENT_MISSING_CACHE.values(), ids=STAYS_SILENT_MISSING_CACHE.keys())
def test_missing_cache_stays_silent_across_modules(tmp_path: Path, files: dict[str, str]) -> None:
    assert findings(tmp_path, {"shop/__init__.py": "", **files}, "missing-cache") == []


# -- n-plus-one through project functions ------------------------------------------------

FIRES_N_PLUS_ONE = {
    "a-query-one-level-down-in-another-module": ({
        "shop/repo.py": REPO,
        "shop/orders.py": """\
            from shop import repo

            def totals(conn, orders):
                return {o: len(repo.order_lines(conn, o)) for o in orders}
        """}, ("orders.py", 4), "`conn.execute()` at shop/repo.py:2"),
    "two-levels-down": ({
        "shop/repo.py": REPO,
        "shop/service.py": "from shop.repo import order_lines\n\ndef weight(conn, order_id):\n    return sum(q for _, q in order_lines(conn, order_id))\n",
        "shop/orders.py": """\
            from shop.service import weight

            def heaviest(conn, orders):
                best = None
                for order in orders:
                    w = weight(conn, order)
                    best = max(best or w, w)
                return best
        """}, ("orders.py", 6), "shop/repo.py:2 via shop/service.py:4"),
    "an-http-request-in-a-helper": ({
        "shop/api.py": "import requests\n\ndef fetch_user(uid):\n    return requests.get(f'https://api.example.com/users/{uid}').json()\n",
        "shop/report.py": "from shop.api import fetch_user\n\ndef names(ids):\n    return [fetch_user(i)['name'] for i in ids]\n",
    }, ("report.py", 4), "one HTTP request per item"),
    "a-method-of-the-same-class": ({
        "shop/store.py": """\
            class Store:
                def __init__(self, conn):
                    self.conn = conn

                def price(self, sku):
                    return self.conn.execute("SELECT price FROM items WHERE sku = ?", (sku,)).fetchone()

                def total(self, skus):
                    return sum(self.price(s)[0] for s in skus)
        """}, ("store.py", 9), "`self.price()` in a loop runs one query per item"),
}


@pytest.mark.parametrize("files,at,words", FIRES_N_PLUS_ONE.values(), ids=FIRES_N_PLUS_ONE.keys())
def test_n_plus_one_fires_through_project_functions(tmp_path: Path, files: dict[str, str], at: tuple[str, int],
                                                   words: str) -> None:
    found = findings(tmp_path, {"shop/__init__.py": "", **files}, "n-plus-one")
    assert where(found) == [at], [f.message for f in found]
    assert words in found[0].message


STAYS_SILENT_N_PLUS_ONE = {
    "the-callee-batches-with-in": {
        "shop/repo.py": "def lines(conn, ids):\n    marks = ','.join('?' * len(ids))\n    return conn.execute(f'SELECT * FROM lines WHERE order_id IN ({marks})', ids).fetchall()\n",
        "shop/orders.py": "from shop import repo\n\ndef all_lines(conn, chunks):\n    return [repo.lines(conn, chunk) for chunk in chunks]\n",
    },
    "the-callee-uses-executemany": {
        "shop/repo.py": "def save(conn, rows):\n    conn.executemany('INSERT INTO lines VALUES (?, ?)', rows)\n",
        "shop/orders.py": "from shop import repo\n\ndef store(conn, batches):\n    for rows in batches:\n        repo.save(conn, rows)\n",
    },
    "the-callee-is-cached": {
        "shop/repo.py": "import functools\n\n@functools.lru_cache(maxsize=None)\ndef region(conn, code):\n    return conn.execute('SELECT name FROM regions WHERE code = ?', (code,)).fetchone()\n",
        "shop/orders.py": "from shop import repo\n\ndef names(conn, orders):\n    return [repo.region(conn, o.region) for o in orders]\n",
    },
    "the-loop-returns-on-the-first-item": {
        "shop/repo.py": REPO,
        "shop/orders.py": "from shop import repo\n\ndef first_lines(conn, orders):\n    for o in orders:\n        return repo.order_lines(conn, o)\n",
    },
    "the-arguments-do-not-change-per-item": {
        "shop/repo.py": "def open_count(conn):\n    return conn.execute(\"SELECT count(*) FROM orders WHERE status = 'open'\").fetchone()\n",
        "shop/orders.py": "from shop import repo\n\ndef report(conn, orders):\n    for o in orders:\n        print(o, repo.open_count(conn))\n",
    },
    "the-callee-makes-no-round-trip": {
        "shop/pricing.py": "def vat(amount):\n    return amount * 0.2\n",
        "shop/orders.py": "from shop import pricing\n\ndef taxes(orders):\n    return [pricing.vat(o.amount) for o in orders]\n",
    },
    "the-callee-queries-only-in-a-branch": {  # django-cms placeholdermodel: the caller passes base
        "shop/repo.py": "def compact(cursor, language, base=None):\n    if base is None:\n        cursor.execute('SELECT MAX(position) FROM plugins WHERE language = %s', [language])\n",
        "shop/orders.py": "from shop import repo\n\ndef tidy(cursor, languages):\n    for language in languages:\n        repo.compact(cursor, language, base=10)\n",
    },
    "the-callee-runs-the-same-statement-every-call": {  # sqlite-utils Database.table() -> view_names()
        "shop/db.py": """\
            class Database:
                def view_names(self):
                    return [r[0] for r in self.execute("select name from sqlite_master where type = 'view'").fetchall()]

                def table(self, name):
                    if name in self.view_names():
                        raise ValueError(name)
                    return name

                def tables(self, names):
                    return [self.table(n) for n in names]
        """,
    },
    "a-loop-over-a-literal": {
        "shop/repo.py": REPO,
        "shop/orders.py": "from shop import repo\n\ndef sample(conn):\n    return [repo.order_lines(conn, o) for o in (1, 2, 3)]\n",
    },
    "a-request-to-each-configured-host": {  # beets kodiupdate.py: no batch exists across hosts
        "shop/kodi.py": """\
            import requests

            def update_kodi(host, port, user, password):
                return requests.post(f"http://{host}:{port}/jsonrpc", auth=(user, password), timeout=10)
        """,
        "shop/plugin.py": """\
            from shop.kodi import update_kodi

            class KodiUpdate:
                def update(self, lib):
                    kodi = self.config.get()
                    for instance in kodi:
                        r = update_kodi(instance["host"], instance["port"], instance["user"], instance["pwd"])
                        r.raise_for_status()
        """,
    },
    "a-loop-over-chunks-already": {  # beets spotify.py: one request per chunk of 50 ids
        "shop/spotify.py": """\
            import requests

            def chunks(items, size):
                return [items[i:i + size] for i in range(0, len(items), size)]

            class Spotify:
                def _handle_response(self, method, url, params):
                    return requests.request(method, url, params=params, timeout=10).json()

                def track_details(self, track_ids):
                    details = {}
                    for chunk in chunks(track_ids, 50):
                        data = self._handle_response("get", self.track_url, params={"ids": ",".join(chunk)})
                        details.update(data)
                    return details
        """,
    },
    "one-statement-per-plugin-table": {  # glances timescaledb: a table per plugin
        "shop/export.py": """\
            class Export:
                def export(self, plugin, values):
                    with self.client.cursor() as cur:
                        cur.execute("SELECT EXISTS(SELECT * FROM information_schema.tables WHERE table_name=%s)",
                                    [plugin])
                        cur.executemany(f"INSERT INTO {plugin} VALUES (%s, %s)", values)

                def update(self, stats):
                    for plugin in self.last_exported_list():
                        self.export(plugin, stats[plugin])
        """,
    },
    "a-loop-over-pages": {
        "shop/repo.py": "def store(conn, page):\n    conn.execute('INSERT INTO pages (body) VALUES (?)', (page.body,))\n",
        "shop/orders.py": "from shop import repo\n\ndef save_all(conn, pages):\n    for page in pages:\n        repo.store(conn, page)\n",
    },
}


@pytest.mark.parametrize("files", STAYS_SILENT_N_PLUS_ONE.values(), ids=STAYS_SILENT_N_PLUS_ONE.keys())
def test_n_plus_one_stays_silent_through_project_functions(tmp_path: Path, files: dict[str, str]) -> None:
    assert findings(tmp_path, {"shop/__init__.py": "", **files}, "n-plus-one") == []


def test_a_round_trip_no_loop_calls_is_not_reported(tmp_path: Path) -> None:
    assert findings(tmp_path, {"shop/__init__.py": "", "shop/repo.py": REPO}, "n-plus-one") == []


def test_suppressing_the_loop_call_silences_it(tmp_path: Path) -> None:
    files = dict(FIRES_N_PLUS_ONE["a-query-one-level-down-in-another-module"][0])
    files["shop/orders.py"] = files["shop/orders.py"].replace(
        "for o in orders}", "for o in orders}  # advisor: ignore[n-plus-one]")
    assert findings(tmp_path, {"shop/__init__.py": "", **files}, "n-plus-one") == []


def test_suppressing_the_whole_file_silences_the_loop_call(tmp_path: Path) -> None:
    files = dict(FIRES_N_PLUS_ONE["a-query-one-level-down-in-another-module"][0])
    files["shop/orders.py"] = "# advisor: ignore-file[n-plus-one]\n" + textwrap.dedent(files["shop/orders.py"])
    assert findings(tmp_path, {"shop/__init__.py": "", **files}, "n-plus-one") == []


def test_a_loop_over_hosts_still_counts_as_a_loop_for_missing_cache() -> None:
    """The host/plugin words only say a per-item call cannot be batched; the call is still in a loop."""
    tree = ast.parse("from pkg.meta import version\n\ndef load(plugins):\n    for plugin in plugins:\n        version(plugin)\n")
    assert [c[3] for c in file_calls(tree, "pkg.app", False)["calls"]] == [IN_LOOP]
