"""Rule n-plus-one: one I/O round trip per loop item where a batch API exists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from advisor._lazy import lazy_module
from advisor.errors import ConfigError
from advisor.findings import Finding
from advisor.rule import FileContext, Invalid, Rule, Valid, WithoutTree

from advisor.rules.support.frames import Loop, LoopWalkMixin, names_read, root_name, short_code
from advisor.rules.support.loop_copies import assigned_values
from advisor.rules.support.scopes import descendants
from advisor.rules.support.round_trips import (
    DJANGO_FIELDS, DJANGO_RELATED, DJANGO_TERMINALS, DJANGO_WORDS, ROUND_TRIPS, TRIGGER_WORDS, TRIP_NAMES,
    RoundTrip, last_names, parse_extra, roots,
)
from advisor.rules.support.sql_text import SQL_METHODS, is_row_sql, sql_argument, sql_text
from advisor.rules.support.calls import file_calls, per_item_calls
from advisor.rules.support.trips_through_calls import candidate_items, through_calls_findings
from advisor.rules.support.syntax import dotted_name

if TYPE_CHECKING:
    import libcst as cst

    from advisor.evidence.profile import Evidence
    from advisor.first_pass import FirstPass
    from advisor.project import Project
else:
    cst = lazy_module("libcst")

_ORM = "orm"


@dataclass(frozen=True)
class NPlusOneOptions:
    #: More round trips: "pkg.api.fetch_user -> fetch_users", "pkg.Client().get -> get_many".
    extra_round_trips: tuple[str, ...] = ()
    #: Also report loops in test files.
    include_tests: bool = False
    #: With runtime evidence (advisor profile): round trips of one shape from one line
    #: in a loop are an N+1 from this many (Sentry's threshold: 5)...
    observed_min_repeats: int = 5
    #: ...when together they took more than this many milliseconds (Sentry's: 50).
    observed_min_ms: float = 50.0

    def __post_init__(self) -> None:
        try:
            parse_extra(self.extra_round_trips)
        except ValueError as exc:
            raise ConfigError(f"[tool.advisor.rules.n-plus-one] extra-round-trips: {exc}") from None


class NPlusOne(LoopWalkMixin, Rule):
    """One database query, HTTP request or cloud API call per loop item.

    ## What it does
    Finds a round trip made once per item of a `for` loop or comprehension
    when a batch form exists: Django ORM `get`/`first`/`count`/`create`/
    `save()` and related-manager access on each row; DB-API
    `cursor.execute(sql, params)`, and on any receiver (a `conn`
    parameter, `self.db`) `execute`/`fetch*` of SQL text written in the
    code (`SELECT`/`INSERT`/`UPDATE`/`DELETE` with a clause, a literal, an
    f-string, `%` or `.format()`, or a name assigned one) whose parameters
    or text change per item: the SQL is the evidence (DDL such as `CREATE`/
    `DROP`, `executemany` and statements that do not change per item are
    not reported); SQLAlchemy `session.get`/`query`/
    `execute`; `requests`/`httpx`/`urllib` requests; boto3 calls that have a
    batch form; Redis commands. A name counts only when it is resolved
    through the module's imports and simple assignments (`import requests`,
    `session = requests.Session()`, `cur = conn.cursor()`, `with ... as`,
    parameter annotations, `self.x = ...` in the class), and only when the
    call's arguments change with the loop: a bare `.get()` on something
    unknown, such as a dict, is never a query.

    Calls are followed across modules: a loop that calls, once per item, a
    project function that makes one of these round trips (itself, or in a
    function it calls, up to two levels down and in any module) is reported
    at the loop's call, with the chain ("`repo.order_lines()` in a loop runs
    one query per item (`conn.execute()` at shop/repo.py:5)").

    ## Why it matters
    Every round trip pays a network latency (0.2-1 ms to a local database,
    20-200 ms to a remote API) on top of the work itself, so a loop over
    1,000 items spends seconds waiting. One batched call pays it once.

    ## Example
    ```python
    import requests

    def titles(ids):
        return [requests.get(f"https://api/items/{i}").json()["title"] for i in ids]

    def authors(book_ids):
        return [Book.objects.get(pk=pk).author_id for pk in book_ids]
    ```

    ## Use instead
    ```python
    from concurrent.futures import ThreadPoolExecutor

    def titles(ids):
        with requests.Session() as session, ThreadPoolExecutor(8) as pool:
            urls = [f"https://api/items/{i}" for i in ids]
            return [r.json()["title"] for r in pool.map(session.get, urls)]

    def authors(book_ids):
        books = Book.objects.in_bulk(book_ids)
        return [books[pk].author_id for pk in book_ids]
    ```

    ## Fix safety
    No automatic fix: the message names the batch API to use, but a batch
    changes error handling, ordering and transaction boundaries, so the
    rewrite is a suggestion for a person to make.

    ## Known limits
    Stays silent for `while` loops (pagination and polling depend on the
    previous response), loops that `break` or `return` (retries, first
    match), loops that sleep (deliberate throttling), loops over a literal
    list or tuple (a fixed, tiny count), SQL whose text changes per item (a
    script, not a batch) unless the text itself is a query written in the
    code, SQLAlchemy `session.add` (queued, flushed once),
    calls on a Redis `pipeline()`, awaited HTTP calls (sequential-await
    reports those), and test files. Names are resolved within one module:
    a client passed in as an unannotated parameter is unknown. A project
    function is followed only when the loop calls it through an import, by
    its name in the module or as `self.method()` (not `obj.fetch()` on an
    unknown object); its round trip counts when the call itself shows it
    (SQL text that reads or writes rows on any receiver, a call its imports
    name such as `requests.get`, `Model.objects.get` on a model imported
    from a models module; not a session or cursor bound earlier in the
    function), it is made outside the function's own loops, the function is
    not behind a cache (`functools.cache`, `lru_cache`, any decorator named
    like a cache) and its SQL is not already batched (`IN (...)`,
    `= ANY(...)`, `executemany`). Async functions are not followed, nor
    loops whose variable or iterable is named for things that are each their
    own round trip or already a batch (configured hosts, servers, instances,
    plugins, backends, tables, databases; chunks, batches, pages). Django
    foreign-key access is recognised for `.pk` and for fields declared in
    the same module. A `save()` of a copy (`obj.pk = None`) or of an object
    stored into a container the loop reads again (a later item needs its
    key) is not reported.

    ## Options
    `extra-round-trips` (default none): your own round trips, as
    `"pkg.api.fetch_user -> pkg.api.fetch_users"`; write an instance method
    as `"pkg.Client().get -> Client.get_many"`, which also teaches the
    resolver that `pkg.Client(...)` makes a client.
    `include-tests` (default false): also report test files.
    `observed-min-repeats` (default 5) and `observed-min-ms` (default 50):
    with runtime evidence from `advisor profile`, round trips of one shape
    from one line inside a loop are reported (or confirm a finding here) when
    there are at least this many and they took more than this long together,
    as Sentry's N+1 detector counts them (see docs/runtime-evidence.md).
    """

    id = "n-plus-one"
    message = "`{call}` in a loop makes one {what} per item; {batch}"
    kind = "runtime"
    fix = "none"
    Options = NPlusOneOptions

    VALID = [
        Valid("""\
            def lookup(cache, keys):
                out = []
                for key in keys:
                    out.append(cache.get(key))
                return out
        """,
              why="get-on-an-unknown-object-is-not-a-query"),
        Valid("""\
            import requests

            def fetch(requests, ids):
                return [requests.get(i) for i in ids]
        """,
              why="parameter-shadows-the-import"),
        Valid("""\
            import requests

            def fetch(url):
                for attempt in range(3):
                    try:
                        return requests.get(url, timeout=attempt + 1)
                    except requests.Timeout:
                        continue
        """,
              why="retry-loop-returns-on-success"),
        Valid("""\
            import requests

            def crawl(url):
                while url:
                    page = requests.get(url).json()
                    url = page['next']
        """,
              why="pagination-in-a-while-loop"),
        Valid("""\
            import time
            import requests

            def polite(urls):
                for url in urls:
                    requests.get(url)
                    time.sleep(1)
        """,
              why="deliberately-throttled-loop"),
        Valid("""\
            import sqlite3

            def migrate(path, statements):
                conn = sqlite3.connect(path)
                cur = conn.cursor()
                for statement in statements:
                    cur.execute(statement)
        """,
              why="sql-text-changes-per-item-is-a-script"),
        Valid("""\
            from sqlalchemy.orm import Session

            def save(engine, rows):
                with Session(engine) as session:
                    for row in rows:
                        session.add(Item(**row))
                    session.commit()
        """,
              why="sqlalchemy-session-add-is-queued"),
        Valid("""\
            import redis

            def store(items):
                r = redis.Redis()
                pipe = r.pipeline()
                for key, value in items:
                    pipe.set(key, value)
                pipe.execute()
        """,
              why="redis-pipeline-buffers-commands"),
        Valid("""\
            from .models import Tag

            def seed():
                for name in ('red', 'green', 'blue'):
                    Tag.objects.get_or_create(name=name)
        """,
              why="literal-iterable-has-a-fixed-tiny-count"),
        Valid("""\
            from .models import Book

            def show():
                for book in Book.objects.select_related('author'):
                    print(book.author.pk)
        """,
              why="select-related-already-joined"),
        Valid("""\
            import requests

            def rows(url):
                for row in requests.get(url).json():
                    print(row)
        """,
              why="request-in-the-loop-header-runs-once"),
        Valid("""\
            import httpx

            async def fetch(urls):
                async with httpx.AsyncClient() as client:
                    for url in urls:
                        await client.get(url)
        """,
              why="awaited-http-is-left-to-sequential-await"),
        Valid("""\
            import requests

            def check(urls):
                session = requests.Session()
                session = {}
                for url in urls:
                    session.get(url)
        """,
              why="name-rebound-to-something-unknown"),
        Valid("""\
            import requests

            def ping(url, n):
                for _ in range(n):
                    requests.get(url)
        """,
              why="same-request-each-iteration-does-not-depend-on-the-item"),
        Valid("""\
            import requests

            def get_all(ids):
                for i in ids:
                    requests.get(i)
        """, why="test-files-are-skipped", path="tests/test_api.py"),
        Valid("""
            def drop_all(cursor, tables):
                for table in tables:
                    cursor.execute(f"DROP TABLE IF EXISTS [{table}]")
            """, why="ddl-per-table-has-no-batch-form"),
        Valid("""
            def insert_chunks(conn, chunks):
                for chunk in chunks:
                    conn.executemany("INSERT INTO rows (a, b) VALUES (?, ?)", chunk)
            """, why="executemany-is-already-batched"),
        Valid("""
            def poll(conn, jobs):
                for job in jobs:
                    pending = conn.execute("SELECT count(*) FROM queue WHERE done = 0").fetchone()
                    job.report(pending)
            """, why="same-statement-without-per-item-parameters"),
        Valid("""
            def first_owner(conn, ids):
                for i in ids:
                    return conn.execute("SELECT owner FROM pages WHERE id = ?", (i,)).fetchone()
            """, why="loop-returns-on-the-first-item"),
        Valid("""
            def healthy(connections):
                return [conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'").fetchone() for conn in connections]
            """, why="same-statement-on-each-connection-has-no-batch-form"),
        Valid("""
            from copy import deepcopy
            from cms.models import CMSPlugin

            def copy_plugins(plugins, placeholder, root=None):
                by_id = {}
                for source in plugins:
                    parent = by_id.get(source.parent_id, root)
                    if source.__class__ is not CMSPlugin:
                        new = deepcopy(source)
                        new.pk = None
                    else:
                        new = CMSPlugin(parent=parent, placeholder=placeholder)
                    new.save()
                    by_id[source.pk] = new
            """, why="save-of-a-copy-whose-key-later-items-need"),
        Valid("""
            def prices(conn, skus):
                marks = ",".join("?" * len(skus))
                return conn.execute(f"SELECT sku, price FROM items WHERE sku IN ({marks})", skus).fetchall()

            def totals(conn, baskets):
                return [sum(p for _, p in prices(conn, basket)) for basket in baskets]
            """, why="the-function-the-loop-calls-batches-its-query"),
        Valid("""
            import functools

            @functools.lru_cache(maxsize=None)
            def region_name(conn, code):
                return conn.execute("SELECT name FROM regions WHERE code = ?", (code,)).fetchone()

            def labels(conn, orders):
                return [region_name(conn, o.region) for o in orders]
            """, why="the-function-the-loop-calls-is-cached"),
        Valid("""
            def price(conn, sku):
                return conn.execute("SELECT price FROM items WHERE sku = ?", (sku,)).fetchone()[0]

            def cheapest(conn, skus):
                for sku in skus:
                    if price(conn, sku) < 1:
                        return sku
            """, why="the-loop-calling-it-stops-at-the-first-match"),
        Valid("""
            import requests

            def update_kodi(host, port):
                return requests.post(f"http://{host}:{port}/jsonrpc", timeout=10)

            def update_all(config):
                for instance in config.get():
                    update_kodi(instance["host"], instance["port"]).raise_for_status()
            """, why="one-request-to-each-configured-host-cannot-be-batched"),
        Valid("""
            import requests

            def fetch_tracks(ids):
                return requests.get("https://api.example.com/tracks", params={"ids": ",".join(ids)}).json()

            def details(track_ids):
                found = {}
                for chunk in (track_ids[i:i + 50] for i in range(0, len(track_ids), 50)):
                    found.update(fetch_tracks(chunk))
                return found
            """, why="the-loop-is-over-chunks-already"),
    ]
    INVALID = [
        Invalid("""\
            import requests

            def fetch(ids):
                out = []
                for i in ids:
                    out.append(requests.get(f'https://api/items/{i}'))
                return out
        """,
                why="requests-get-per-item", line=6, message="`requests.get()` in a loop makes one HTTP request per item"),
        Invalid("""\
            import requests

            def fetch(urls):
                session = requests.Session()
                return [session.get(u).json() for u in urls]
        """,
                why="session-assigned-then-used-in-a-comprehension", line=5, message="ThreadPoolExecutor"),
        Invalid("""\
            from shop.models import Book

            def titles(ids):
                return [Book.objects.get(pk=i).title for i in ids]
        """,
                why="django-get-per-item", line=4, message="in_bulk"),
        Invalid("""\
            import sqlite3

            def insert(path, rows):
                conn = sqlite3.connect(path)
                cur = conn.cursor()
                for row in rows:
                    cur.execute('INSERT INTO t VALUES (?, ?)', row)
        """,
                why="dbapi-execute-per-row", line=7, message="executemany()"),
        Invalid("""\
            from .models import Book

            def report():
                for book in Book.objects.filter(published=True):
                    print(book.title, book.tags.all())
        """,
                why="django-related-manager-per-row", line=5, message="prefetch_related('tags')"),
        Invalid("""\
            from .models import Book

            def reprice(factor):
                for book in Book.objects.all():
                    book.price = book.price * factor
                    book.save()
        """,
                why="django-save-per-row", line=6, message="bulk_update()"),
        Invalid("""\
            from django.db import models

            class Book(models.Model):
                author = models.ForeignKey('Author', on_delete=models.CASCADE)

            def names():
                return [b.author.name for b in Book.objects.all()]
        """,
                why="django-foreign-key-declared-in-the-module", line=7, message="select_related('author')"),
        Invalid("""\
            import redis

            cache = redis.Redis()

            def load(keys):
                return {k: cache.get(k) for k in keys}
        """,
                why="redis-get-per-key", line=6, message="mget()"),
        Invalid("""\
            import boto3

            def notify(messages):
                sqs = boto3.client('sqs')
                for m in messages:
                    sqs.send_message(QueueUrl=URL, MessageBody=m)
        """,
                why="boto3-call-with-a-batch-form", line=6, message="send_message_batch"),
        Invalid("""\
            from sqlalchemy.orm import Session

            def users(session: Session, ids):
                return [session.get(User, i) for i in ids]
        """,
                why="sqlalchemy-session-from-an-annotation", line=4, message="in_(ids)"),
        Invalid("""\
            import requests

            class Client:
                def __init__(self):
                    self.http = requests.Session()

                def pull(self, ids):
                    for i in ids:
                        self.http.post(URL, json={'id': i})
        """,
                why="session-stored-on-self", line=9, message="`self.http.post()`"),
        Invalid("""\
            from .models import Author, Book

            def shelves(authors):
                for author in authors:
                    for book in Book.objects.filter(author=author):
                        print(book)
        """,
                why="queryset-iterated-per-outer-item", line=5, message="prefetch_related"),
        Invalid("""\
            from myapp import api

            def users(ids):
                return [api.fetch_user(i) for i in ids]
        """,
                why="round-trip-added-in-config", line=4, message="api.fetch_users",
                options={"extra-round-trips": ["myapp.api.fetch_user -> api.fetch_users"]}),
        Invalid("""\
            import asyncpg

            async def names(dsn, ids):
                conn = await asyncpg.connect(dsn)
                return [await conn.fetchval('SELECT name FROM users WHERE id = $1', i) for i in ids]
        """,
                why="awaited-asyncpg-query-per-item", line=5, message="= ANY($1)"),
        Invalid("""\
            from urllib.request import urlopen

            def bodies(urls):
                for url in urls:
                    yield urlopen(url).read()
        """,
                why="urllib-urlopen-per-item", line=5, message="HTTP request"),
        Invalid("""
            def order_totals(conn, order_ids):
                totals = {}
                for order_id in order_ids:
                    row = conn.execute("SELECT SUM(amount) FROM lines WHERE order_id = ?", (order_id,)).fetchone()
                    totals[order_id] = row[0]
                return totals
            """, why="sql-literal-through-a-connection-parameter", line=5,
                message="`conn.execute()` in a loop makes one query per item"),
        Invalid("""
            class Repository:
                def names(self, ids):
                    return [self.db.execute(f"select name from users where id = {i}").fetchone() for i in ids]
            """, why="f-string-sql-with-the-loop-variable-on-self-db", line=4, message="`self.db.execute()`"),
        Invalid("""
            async def rows(conn, ids):
                return [await conn.fetchrow("SELECT * FROM items WHERE id = $1", i) for i in ids]
            """, why="awaited-fetchrow-on-an-unannotated-connection", line=3, message="`conn.fetchrow()`"),
        Invalid("""
            def store(cur, rows):
                for row in rows:
                    sql = "INSERT INTO events (kind, at) VALUES (%s, %s)"
                    cur.execute(sql, (row.kind, row.at))
            """, why="sql-assigned-to-a-name-then-executed", line=5, message="executemany()"),
        Invalid("""
            def price(conn, sku):
                return conn.execute("SELECT price FROM items WHERE sku = ?", (sku,)).fetchone()[0]

            def total(conn, skus):
                return sum(price(conn, s) for s in skus)
            """, why="loop-calls-a-function-that-runs-a-query", line=6,
                message="`price()` in a loop runs one query per item (`conn.execute()` at example.py:3)"),
        Invalid("""
            import requests

            class Users:
                def fetch(self, uid):
                    return requests.get(f"https://api.example.com/users/{uid}").json()

                def names(self, ids):
                    return [self.fetch(i)["name"] for i in ids]
            """, why="loop-calls-a-method-that-makes-an-http-request", line=9,
                message="`self.fetch()` in a loop runs one HTTP request per item"),
    ]

    @classmethod
    def may_report(cls, first_pass: "FirstPass", context: FileContext, options: NPlusOneOptions) -> bool:
        """A ``for`` loop or comprehension, and an import of Django or of a
        ``models`` module, or else an import of a client library (or of a
        configured round trip) and a call in a loop that may be one of its
        calls: the resolver knows a name only through the file's imports."""
        if not first_pass.for_loop or not cls.runs_on(context, options):
            return False
        managers = not first_pass.attributes.isdisjoint(("objects", "_default_manager"))
        if first_pass.mentions(DJANGO_WORDS) and (managers or first_pass.may_call_in_loop({"save"})):
            return True  # every queryset starts at ``Model.objects``; new objects are saved
        if not first_pass.called_in_loop.isdisjoint(SQL_METHODS):
            return True  # SQL text sent in a loop, whatever the receiver
        extra = parse_extra(options.extra_round_trips)[0]  # valid: the options were checked on load
        return first_pass.mentions(TRIGGER_WORDS | roots(extra)) and first_pass.may_call_in_loop(
            TRIP_NAMES | last_names(extra))

    @classmethod
    def from_tree(cls, first_pass: "FirstPass", context: FileContext, options: NPlusOneOptions) -> WithoutTree:
        """Every file's calls of functions that may be the project's, with the
        ones made once per loop item (``items``): plain facts, from which refine
        makes a finding for the few whose callee makes a round trip a level or two down."""
        if not cls.runs_on(context, options) or first_pass.tree is None:
            return WithoutTree()
        tree, package = first_pass.tree, context.path.endswith("__init__.py")
        known = set(parse_extra(options.extra_round_trips)[0])
        facts = file_calls(tree, context.module, package)
        items = candidate_items(per_item_calls(tree, context.module, package), context.lines, known, cls.id)
        return WithoutTree(facts={"calls": facts, "items": items} if items else {"calls": facts})

    REFINE_MAKES_FINDINGS = True

    @classmethod
    def refine(cls, findings: list[Finding], project: "Project", options: NPlusOneOptions,
               evidence: "Evidence | None") -> Iterable[Finding]:
        """Loops that call a project function making a round trip (see
        ``support/trips_through_calls.py``)."""
        return through_calls_findings(findings, project, cls)

    def __init__(self, context: FileContext, options: NPlusOneOptions) -> None:
        super().__init__(context, options)
        trips, factories = parse_extra(options.extra_round_trips)
        self.trips: dict[str, RoundTrip] = {**ROUND_TRIPS, **trips}
        self.extra_factories = factories
        self.init_walk()
        self.enabled = self.runs_on(context, options)
        self.awaited: set[int] = set()
        #: Django model -> fields declared as ForeignKey/OneToOneField here.
        self.relations: dict[str, set[str]] = {}
        self.reported: set[tuple[int, str]] = set()

    # -- facts gathered on the way -------------------------------------------------

    def visit_Await(self, node: "cst.Await") -> None:
        self.awaited.add(id(node.expression))

    def visit_Assign(self, node: "cst.Assign") -> None:
        frame = self.frame
        if frame.kind != "class" or not isinstance(node.value, cst.Call):
            return
        field_type = dotted_name(node.value.func).rsplit(".", 1)[-1]
        if field_type in DJANGO_FIELDS and field_type != "ManyToManyField":
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self.relations.setdefault(frame.node.name.value, set()).add(target.target.value)

    # -- findings ----------------------------------------------------------------------

    def visit_For(self, node: "cst.For") -> None:
        loop = self._per_item_loop()
        symbol = self.resolve(node.iter)
        if loop is None or not symbol.startswith("django.qs:") or not self._depends(node.iter):
            return
        batch = "fetch them all at once with `prefetch_related()` or one `filter(..__in=...)` query, then group in Python"
        self._report(node.iter, short_code(node.iter), "query", batch, _ORM)

    def visit_Call(self, node: "cst.Call") -> None:
        if self._per_item_loop() is None:
            return
        found = self._round_trip(node)
        if found is None:
            self._sql_text_call(node)
            return
        label, trip = found
        if trip.family == "http" and id(node) in self.awaited:
            return
        if trip.sql_params:
            args = [a for a in node.args if a.keyword is None]
            if len(args) < 2 or self._depends(args[0].value) or not self._depends(args[1].value):
                return
        elif not self._depends(node):
            return
        self._report(node, label, trip.what, trip.batch, trip.family)

    def visit_Attribute(self, node: "cst.Attribute") -> None:
        """``book.author.name`` on a row of a queryset without select_related."""
        inner = node.value
        if not isinstance(inner, cst.Attribute) or not isinstance(inner.value, cst.Name):
            return
        row = self.resolve(inner.value)
        if not row.startswith("django.row:") or "+" in row or self._per_item_loop() is None:
            return
        model, field = row.removeprefix("django.row:"), inner.attr.value
        if node.attr.value == "pk" or field in self.relations.get(model, ()):
            batch = f"join it in the first query with `select_related('{field}')`"
            self._report(inner, short_code(inner), "query", batch, _ORM)

    def _sql_text_call(self, node: "cst.Call") -> None:
        """``x.execute("SELECT ... WHERE id = ?", (item,))`` on any receiver: the SQL
        text is the evidence; per item when its parameters (or the text) change."""
        argument = sql_argument(node)
        function = self.frame.node if self.frame.kind == "function" else None
        if argument is None or not is_row_sql(sql_text(argument, function)):
            return
        if not any(self._depends(arg.value) for arg in node.args):
            return  # the same statement every iteration (or one per connection): not a per-item query
        trip = ROUND_TRIPS["dbapi.Cursor().execute"]
        texts = assigned_values(argument.value, function.body) if isinstance(argument, cst.Name) and function else [argument]
        batch = trip.batch if not any(self._depends(t) for t in texts) else (
            "build one statement for all items (`IN (...)` when only a value changes, `UNION ALL` across tables)")
        self._report(node, f"{short_code(node.func)}()", trip.what, batch, trip.family)

    # -- helpers ------------------------------------------------------------------------

    def _per_item_loop(self) -> Loop | None:
        """The innermost loop, unless it is one where batching does not apply."""
        if not self.enabled or not self.frame.loops:
            return None
        loop = self.frame.loops[-1]
        if loop.kind == "while" or loop.literal_iter or loop.facts.exits:
            return None
        if any(c.rsplit(".", 1)[-1] == "sleep" for c in loop.facts.callees):
            return None
        return loop

    def _depends(self, node: Any) -> bool:
        variant = set().union(*(loop.variant for loop in self.frame.loops))
        return bool(names_read(node) & variant)

    def _round_trip(self, node: "cst.Call") -> tuple[str, RoundTrip] | None:
        func = node.func
        symbol = self.resolve(func)
        if symbol in self.trips:
            return f"{short_code(func)}()", self.trips[symbol]
        if not isinstance(func, cst.Attribute):
            return None
        method, base = func.attr.value, self.resolve(func.value)
        if base.startswith("django.qs:") and method in DJANGO_TERMINALS:
            return f"{short_code(func)}()", RoundTrip("query", DJANGO_TERMINALS[method], _ORM)
        if base.startswith(("django.row:", "django.obj:")) and "." not in base.partition(":")[2] and method == "save" \
                and not _saved_copy_needed(func.value, self.frame.loops[-1]):
            batch = "save them with one `bulk_update()`" if base.startswith("django.row:") else "save them with one `bulk_create()`"
            return f"{short_code(func)}()", RoundTrip("query", batch, _ORM)
        owner = func.value
        if method in DJANGO_RELATED and isinstance(owner, cst.Attribute) and isinstance(owner.value, cst.Name):
            row = self.resolve(owner.value)
            if row.startswith("django.row:") and "+" not in row:
                batch = f"load them with the rows using `prefetch_related('{owner.attr.value}')`"
                return f"{short_code(func)}()", RoundTrip("query", batch, _ORM)
        return None

    def _report(self, node: Any, call: str, what: str, batch: str, family: str) -> None:
        key = (id(self.frame.loops[-1].node), call)
        if key in self.reported:
            return
        self.reported.add(key)
        self.report(node, call=call, what=what, batch=batch, loop_depth=len(self.frame.loops), round_trip=family)


def _saved_copy_needed(saved: Any, loop: Loop) -> bool:
    """``obj.pk = None; obj.save()`` (a copy whose new key the next lines need), or
    ``by_id[k] = obj`` / ``done.append(obj)`` into a container the loop reads again
    (a later item refers to this saved row): one ``bulk_create`` cannot replace it."""
    if not isinstance(saved, cst.Name) or not isinstance(loop.node, cst.For):
        return False
    name, stored_into = saved.value, set[str]()
    for node in descendants(loop.node.body):
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Name) and node.value.value == name:
            stored_into.update(root_name(t.target) for t in node.targets if isinstance(t.target, cst.Subscript))
        elif isinstance(node, cst.Assign) and _is_none(node.value):
            if any(isinstance(t.target, cst.Attribute) and t.target.attr.value in ("pk", "id")
                   and isinstance(t.target.value, cst.Name) and t.target.value.value == name for t in node.targets):
                return True
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "append":
            if any(name in names_read(a.value) for a in node.args):
                stored_into.add(root_name(node.func.value))
    stored_into.discard("")
    return any(_reads_container(loop.node.body, c) for c in stored_into)


def _is_none(node: Any) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _reads_container(body: Any, name: str) -> bool:
    """``name.get(...)`` or ``x in name`` somewhere in ``body``."""
    for node in descendants(body):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get":
            if root_name(node.func.value) == name:
                return True
        if isinstance(node, cst.ComparisonTarget) and root_name(node.comparator) == name:
            return True
    return False
