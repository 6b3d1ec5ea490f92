"""Rule n-plus-one: one I/O round trip per loop item where a batch API exists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from advisor._lazy import lazy_module
from advisor.errors import ConfigError
from advisor.rule import FileContext, Invalid, Rule, Valid

from advisor.rules.support.frames import Loop, LoopWalkMixin, names_read, short_code
from advisor.rules.support.round_trips import (
    DJANGO_FIELDS, DJANGO_RELATED, DJANGO_TERMINALS, DJANGO_WORDS, ROUND_TRIPS, TRIGGER_WORDS, TRIP_NAMES,
    RoundTrip, last_names, parse_extra, roots,
)
from advisor.rules.support.syntax import dotted_name

if TYPE_CHECKING:
    import libcst as cst

    from advisor.first_pass import FirstPass
else:
    cst = lazy_module("libcst")

_ORM = "orm"


@dataclass(frozen=True)
class NPlusOneOptions:
    #: More round trips: "pkg.api.fetch_user -> fetch_users", "pkg.Client().get -> get_many".
    extra_round_trips: tuple[str, ...] = ()
    #: Also report loops in test files.
    include_tests: bool = False

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
    `cursor.execute(sql, params)`; SQLAlchemy `session.get`/`query`/
    `execute`; `requests`/`httpx`/`urllib` requests; boto3 calls that have a
    batch form; Redis commands. A name counts only when it is resolved
    through the module's imports and simple assignments (`import requests`,
    `session = requests.Session()`, `cur = conn.cursor()`, `with ... as`,
    parameter annotations, `self.x = ...` in the class), and only when the
    call's arguments change with the loop: a bare `.get()` on something
    unknown, such as a dict, is never a query.

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
    script, not a batch), SQLAlchemy `session.add` (queued, flushed once),
    calls on a Redis `pipeline()`, awaited HTTP calls (sequential-await
    reports those), and test files. Names are resolved within one module:
    a client passed in as an unannotated parameter is unknown. Django
    foreign-key access is recognised for `.pk` and for fields declared in
    the same module.

    ## Options
    `extra-round-trips` (default none): your own round trips, as
    `"pkg.api.fetch_user -> pkg.api.fetch_users"`; write an instance method
    as `"pkg.Client().get -> Client.get_many"`, which also teaches the
    resolver that `pkg.Client(...)` makes a client.
    `include-tests` (default false): also report test files.
    """

    id = "n-plus-one"
    message = "`{call}` in a loop makes one {what} per item; {batch}"
    kind = "runtime"
    fix = "none"
    Options = NPlusOneOptions

    VALID = [
        Valid("def lookup(cache, keys):\n    out = []\n    for key in keys:\n        out.append(cache.get(key))\n    return out\n",
              why="get-on-an-unknown-object-is-not-a-query"),
        Valid("import requests\n\ndef fetch(requests, ids):\n    return [requests.get(i) for i in ids]\n",
              why="parameter-shadows-the-import"),
        Valid("import requests\n\ndef fetch(url):\n    for attempt in range(3):\n        try:\n            return requests.get(url, timeout=attempt + 1)\n        except requests.Timeout:\n            continue\n",
              why="retry-loop-returns-on-success"),
        Valid("import requests\n\ndef crawl(url):\n    while url:\n        page = requests.get(url).json()\n        url = page['next']\n",
              why="pagination-in-a-while-loop"),
        Valid("import time\nimport requests\n\ndef polite(urls):\n    for url in urls:\n        requests.get(url)\n        time.sleep(1)\n",
              why="deliberately-throttled-loop"),
        Valid("import sqlite3\n\ndef migrate(path, statements):\n    conn = sqlite3.connect(path)\n    cur = conn.cursor()\n    for statement in statements:\n        cur.execute(statement)\n",
              why="sql-text-changes-per-item-is-a-script"),
        Valid("from sqlalchemy.orm import Session\n\ndef save(engine, rows):\n    with Session(engine) as session:\n        for row in rows:\n            session.add(Item(**row))\n        session.commit()\n",
              why="sqlalchemy-session-add-is-queued"),
        Valid("import redis\n\ndef store(items):\n    r = redis.Redis()\n    pipe = r.pipeline()\n    for key, value in items:\n        pipe.set(key, value)\n    pipe.execute()\n",
              why="redis-pipeline-buffers-commands"),
        Valid("from .models import Tag\n\ndef seed():\n    for name in ('red', 'green', 'blue'):\n        Tag.objects.get_or_create(name=name)\n",
              why="literal-iterable-has-a-fixed-tiny-count"),
        Valid("from .models import Book\n\ndef show():\n    for book in Book.objects.select_related('author'):\n        print(book.author.pk)\n",
              why="select-related-already-joined"),
        Valid("import requests\n\ndef rows(url):\n    for row in requests.get(url).json():\n        print(row)\n",
              why="request-in-the-loop-header-runs-once"),
        Valid("import httpx\n\nasync def fetch(urls):\n    async with httpx.AsyncClient() as client:\n        for url in urls:\n            await client.get(url)\n",
              why="awaited-http-is-left-to-sequential-await"),
        Valid("import requests\n\ndef check(urls):\n    session = requests.Session()\n    session = {}\n    for url in urls:\n        session.get(url)\n",
              why="name-rebound-to-something-unknown"),
        Valid("import requests\n\ndef ping(url, n):\n    for _ in range(n):\n        requests.get(url)\n",
              why="same-request-each-iteration-does-not-depend-on-the-item"),
        Valid("import requests\n\ndef get_all(ids):\n    for i in ids:\n        requests.get(i)\n", why="test-files-are-skipped", path="tests/test_api.py"),
    ]
    INVALID = [
        Invalid("import requests\n\ndef fetch(ids):\n    out = []\n    for i in ids:\n        out.append(requests.get(f'https://api/items/{i}'))\n    return out\n",
                why="requests-get-per-item", line=6, message="`requests.get()` in a loop makes one HTTP request per item"),
        Invalid("import requests\n\ndef fetch(urls):\n    session = requests.Session()\n    return [session.get(u).json() for u in urls]\n",
                why="session-assigned-then-used-in-a-comprehension", line=5, message="ThreadPoolExecutor"),
        Invalid("from shop.models import Book\n\ndef titles(ids):\n    return [Book.objects.get(pk=i).title for i in ids]\n",
                why="django-get-per-item", line=4, message="in_bulk"),
        Invalid("import sqlite3\n\ndef insert(path, rows):\n    conn = sqlite3.connect(path)\n    cur = conn.cursor()\n    for row in rows:\n        cur.execute('INSERT INTO t VALUES (?, ?)', row)\n",
                why="dbapi-execute-per-row", line=7, message="executemany()"),
        Invalid("from .models import Book\n\ndef report():\n    for book in Book.objects.filter(published=True):\n        print(book.title, book.tags.all())\n",
                why="django-related-manager-per-row", line=5, message="prefetch_related('tags')"),
        Invalid("from .models import Book\n\ndef reprice(factor):\n    for book in Book.objects.all():\n        book.price = book.price * factor\n        book.save()\n",
                why="django-save-per-row", line=6, message="bulk_update()"),
        Invalid("from django.db import models\n\nclass Book(models.Model):\n    author = models.ForeignKey('Author', on_delete=models.CASCADE)\n\ndef names():\n    return [b.author.name for b in Book.objects.all()]\n",
                why="django-foreign-key-declared-in-the-module", line=7, message="select_related('author')"),
        Invalid("import redis\n\ncache = redis.Redis()\n\ndef load(keys):\n    return {k: cache.get(k) for k in keys}\n",
                why="redis-get-per-key", line=6, message="mget()"),
        Invalid("import boto3\n\ndef notify(messages):\n    sqs = boto3.client('sqs')\n    for m in messages:\n        sqs.send_message(QueueUrl=URL, MessageBody=m)\n",
                why="boto3-call-with-a-batch-form", line=6, message="send_message_batch"),
        Invalid("from sqlalchemy.orm import Session\n\ndef users(session: Session, ids):\n    return [session.get(User, i) for i in ids]\n",
                why="sqlalchemy-session-from-an-annotation", line=4, message="in_(ids)"),
        Invalid("import requests\n\nclass Client:\n    def __init__(self):\n        self.http = requests.Session()\n\n    def pull(self, ids):\n        for i in ids:\n            self.http.post(URL, json={'id': i})\n",
                why="session-stored-on-self", line=9, message="`self.http.post()`"),
        Invalid("from .models import Author, Book\n\ndef shelves(authors):\n    for author in authors:\n        for book in Book.objects.filter(author=author):\n            print(book)\n",
                why="queryset-iterated-per-outer-item", line=5, message="prefetch_related"),
        Invalid("from myapp import api\n\ndef users(ids):\n    return [api.fetch_user(i) for i in ids]\n",
                why="round-trip-added-in-config", line=4, message="api.fetch_users",
                options={"extra-round-trips": ["myapp.api.fetch_user -> api.fetch_users"]}),
        Invalid("import asyncpg\n\nasync def names(dsn, ids):\n    conn = await asyncpg.connect(dsn)\n    return [await conn.fetchval('SELECT name FROM users WHERE id = $1', i) for i in ids]\n",
                why="awaited-asyncpg-query-per-item", line=5, message="= ANY($1)"),
        Invalid("from urllib.request import urlopen\n\ndef bodies(urls):\n    for url in urls:\n        yield urlopen(url).read()\n",
                why="urllib-urlopen-per-item", line=5, message="HTTP request"),
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
        extra = parse_extra(options.extra_round_trips)[0]  # valid: the options were checked on load
        return first_pass.mentions(TRIGGER_WORDS | roots(extra)) and first_pass.may_call_in_loop(
            TRIP_NAMES | last_names(extra))

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
        if base.startswith(("django.row:", "django.obj:")) and "." not in base.partition(":")[2] and method == "save":
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
