"""Rule sequential-await: independent awaits run one per loop iteration."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from advisor._lazy import lazy_module
from advisor.rule import FileContext, Invalid, Rule, Valid

from advisor.rules.support.await_order import formats_only, runs_steps, says_ordered, walks_batches
from advisor.rules.support.coroutines import PERMISSION_CHECK, CoroutineIndex, callee_name, last_name
from advisor.rules.support.frames import Loop, LoopWalkMixin, names_read, root_name, short_code
from advisor.rules.support.round_trips import ROUND_TRIPS
from advisor.rules.support.syntax import dotted_name

if TYPE_CHECKING:
    import libcst as cst

    from advisor.first_pass import FirstPass
else:
    cst = lazy_module("libcst")

#: Awaits that serialise on purpose (rate limits, locks, queues) or already run things together.
SERIAL_CALLS = frozenset({"sleep", "acquire", "wait", "put", "join", "drain", "wait_closed", "gather", "as_completed"})
#: Of those, the ones that count only when awaited: ``os.path.join``/``", ".join`` are not ``await queue.join()``.
AWAITED_ONLY = frozenset({"join"})
#: Name parts of receivers that are one ordered stream or a shared lock: gather would interleave.
STREAM_PARTS = frozenset({
    "ws", "websocket", "socket", "sock", "writer", "reader", "stream", "conn", "connection",
    "channel", "transport", "pipe", "proc", "process", "cursor", "cur", "tx", "transaction",
    "queue", "lock", "sem", "semaphore", "limiter", "throttle", "file", "fp",
})
#: Method names that write to an ordered stream.
STREAM_METHODS = frozenset({"send", "send_bytes", "send_text", "send_json", "sendall", "write", "writelines", "reply", "respond"})
#: Iterators whose items share one underlying iterator: they must be consumed in order.
SHARED_ITERATORS = frozenset({"groupby", "tee"})
#: Name prefixes of calls that fetch rather than change things (safe to run together).
READ_PREFIXES = ("get", "fetch", "load", "read", "download", "head", "lookup", "resolve", "check", "ping", "query", "retrieve")
#: Methods of a database connection or cursor (a coroutine of the module calling one
#: is a database read or write: n-plus-one's concern, and one connection runs one at a time).
DATABASE_METHODS = frozenset({"execute", "executemany", "executescript", "fetchall", "fetchone", "commit"})
#: Wrappers whose first argument is the real awaited call.
WRAPPERS = frozenset({"wait_for", "shield", "timeout", "ensure_async"})
_PARTS = re.compile(r"[_.]")


@dataclass(frozen=True)
class SequentialAwaitOptions:
    #: Also report test files (tests often run steps in order on purpose).
    include_tests: bool = False


class SequentialAwait(LoopWalkMixin, Rule):
    """Independent awaits made one after another, one per loop iteration.

    ## What it does
    Finds `for x in xs: await f(x)` (and `[await f(x) for x in xs]`) in an
    `async def` when the iterations do not depend on each other: the awaited
    call uses the loop item, nothing it reads is carried over from an
    earlier iteration, and the loop does not stop early.

    ## Why it matters
    Each iteration waits for the previous one to finish, so ten 100 ms
    requests take a second; started together they take about 100 ms.

    ## Example
    ```python
    async def fetch_all(client, urls):
        pages = []
        for url in urls:
            pages.append(await client.get(url))
        return pages
    ```

    ## Use instead
    ```python
    async def fetch_all(client, urls):
        return await asyncio.gather(*(client.get(url) for url in urls))
    ```
    On Python 3.11+, `asyncio.TaskGroup` cancels the rest when one fails;
    bound the concurrency with an `asyncio.Semaphore` for large inputs.

    ## Fix safety
    No automatic fix: running the calls together changes the order of side
    effects and of errors (all start, even after one fails), so this is a
    suggestion.

    ## Known limits
    Stays silent when a name the await reads is updated by an earlier
    iteration (`cursor = await page(cursor)`, `self.n += 1`), when the loop
    breaks or returns, in `async for` and `while` loops, in async generators
    (they yield per item), over literal tuples and lists, when the loop
    awaits a sleep, lock, semaphore or queue (deliberate pacing), when the
    awaited call writes to one ordered stream (`ws.send`, ASGI `send`,
    `writer.write`, `conn.execute`), when it calls the loop item itself
    (hooks, handlers, `proxy.aclose()`: their order is the point), over
    pluggy `pm.hook.*()` results and `itertools.groupby` groups, for
    maybe-await helpers (`await_me_maybe(x)`: the work already started),
    for a bare `await f(x)` statement unless `f` reads (an HTTP client, or a
    name like `get`/`fetch`/`load`/`check`), since a side effect such as
    applying a migration may depend on order, for database calls
    (n-plus-one reports those: one session cannot run queries
    concurrently; SQL text sent with `execute`/`fetch*` goes there too),
    for awaits of coroutines of the module that never wait for I/O (an
    `async def` with no `await` of anything else, `async for` or `async
    with`: the next await in the loop is reported instead), for permission
    checks by name (`check_visibility`, `permission_allowed`, `has_perm`:
    a heuristic, since another module's coroutine cannot be read, also
    through `ensure_async(...)`), for coroutines that only format
    (`aformat`, `aformat_messages`), for coroutines of the module that call
    a database cursor (`self.cursor.execute`: one connection, and
    n-plus-one's concern), for loops over batches or chunks (one await
    per batch bounds the concurrency on purpose), for loops over
    handlers, hooks, callbacks, middlewares, plugins or migrations by
    name (each runs in its turn), when a comment in or
    above the loop says the order matters ("explicit ordering", "one at a
    time", "sequentially"), and in test files. `os.path.join` and
    `str.join` in the loop do not count as a queue `join`; only an awaited
    `join()` does. A data dependency through an object the loop does not name
    (a shared client's internal state) is not seen.

    ## Options
    `include-tests` (default false): also report test files.
    """

    id = "sequential-await"
    message = "`await {call}` runs once per loop item, one after another; start them together with `asyncio.gather()` or a `TaskGroup`"
    kind = "runtime"
    fix = "none"
    Options = SequentialAwaitOptions

    VALID = [
        Valid("""\
            async def crawl(client, url):
                cursor = None
                for _ in range(100):
                    page = await client.get(url, params={'cursor': cursor})
                    cursor = page['next']
        """,
              why="uses-the-previous-iteration-result"),
        Valid("""\
            async def first_ok(client, mirrors):
                for url in mirrors:
                    response = await client.get(url)
                    if response.ok:
                        return response
        """,
              why="returns-early"),
        Valid("""\
            async def paced(client, urls):
                for url in urls:
                    await client.get(url)
                    await asyncio.sleep(0.5)
        """,
              why="deliberately-paced-with-sleep"),
        Valid("""\
            async def guarded(client, urls, lock):
                for url in urls:
                    async with lock:
                        await client.get(url)
        """,
              why="serialised-by-a-lock"),
        Valid("""\
            async def stream(client, urls):
                for url in urls:
                    yield await client.get(url)
        """,
              why="async-generator-yields-per-item"),
        Valid("""\
            async def replay(ws, messages):
                for message in messages:
                    await ws.send(message)
        """,
              why="ordered-writes-to-one-websocket"),
        Valid("""\
            async def consume(queue, client):
                async for item in queue:
                    await client.post(item)
        """,
              why="async-for-over-a-stream"),
        Valid("""\
            async def wait_all(tasks):
                for task in tasks:
                    await task
        """,
              why="awaiting-tasks-that-already-run"),
        Valid("""\
            async def chunks(client, groups):
                for group in groups:
                    await asyncio.gather(*(client.get(u) for u in group))
        """,
              why="gather-per-chunk-bounds-concurrency"),
        Valid("""\
            async def total(client, urls):
                state = {}
                for url in urls:
                    state[url] = await client.get(url, headers=state)
        """,
              why="state-mutated-and-read-by-the-next-await"),
        Valid("""\
            from sqlalchemy.ext.asyncio import AsyncSession

            async def users(session: AsyncSession, ids):
                return [await session.get(User, i) for i in ids]
        """,
              why="database-session-left-to-n-plus-one"),
        Valid("""\
            async def ping(client, url):
                for attempt in range(3):
                    await client.get(url)
        """,
              why="await-does-not-use-the-loop-item"),
        Valid("""\
            async def send_request(self, request):
                for hook in self._event_hooks['request']:
                    await hook(request)
        """,
              why="calls-each-hook-in-order"),
        Valid("""\
            async def close_all(self):
                for proxy in self._mounts.values():
                    if proxy is not None:
                        await proxy.aclose()
        """,
              why="closes-each-resource-in-order"),
        Valid("""\
            async def respond(send, chunks):
                for chunk in chunks:
                    await send({'type': 'http.response.body', 'body': chunk, 'more_body': True})
        """,
              why="asgi-send-is-one-ordered-stream"),
        Valid("""\
            from itertools import groupby

            async def groups(rows, key):
                return [(k, await to_list(v)) for k, v in groupby(rows, key)]
        """,
              why="groupby-groups-must-be-consumed-in-order"),
        Valid("""\
            async def migrate(db, migrations):
                for migration in migrations:
                    await apply(migration)
        """,
              why="bare-side-effect-await-whose-order-may-matter"),
        Valid("""\
            async def extra_vars(pm, request):
                merged = {}
                for extra in pm.hook.extra_template_vars(request=request):
                    merged.update(await resolve_value(extra))
                return merged
        """,
              why="pluggy-hook-results-in-plugin-order"),
        Valid("""\
            async def scripts(items):
                out = []
                for item in items:
                    out.append(await await_me_maybe(item))
                return out
        """,
              why="maybe-await-helper-awaits-work-already-started"),
        Valid("""\
            async def test_pages(client):
                for page in PAGES:
                    await client.get(page)
        """, why="test-files-are-skipped", path="tests/test_pages.py"),
        Valid("""
            async def can_see(actor, table):
                return actor is not None and not table.startswith("_")

            async def visible(actor, tables):
                return [t for t in tables if await can_see(actor, t)]
            """, why="cpu-only-coroutine-of-the-module-never-waits"),
        Valid("""
            class IndexView:
                async def get(self, request, name, table_names):
                    shown = []
                    for table in table_names:
                        visible, private = await self.ds.check_visibility(request.actor, "view-table", (name, table))
                        if visible:
                            shown.append(table)
                    return shown
            """, why="permission-check-computes-from-the-actor"),
        Valid("""
            async def names(conn, ids):
                out = []
                for i in ids:
                    out.append(await conn.fetchval("SELECT name FROM users WHERE id = $1", i))
                return out
            """, why="sql-text-per-item-is-left-to-n-plus-one"),
        Valid("""
            async def abatch(self, inputs, config, max_concurrency):
                batches = [inputs[i : i + max_concurrency] for i in range(0, len(inputs), max_concurrency)]
                return [
                    output
                    for i, batch in enumerate(batches)
                    for output in await self.abatch_once(batch, config=config[i])
                ]
            """, why="one-await-per-batch-bounds-concurrency-on-purpose"),
        Valid("""
            async def abatch(self, inputs, config, **kwargs):
                # do Not use an async iterator here because need explicit ordering
                return [await self.ainvoke(m, config, **kwargs) for m in inputs]
            """, why="a-comment-says-the-order-matters"),
        Valid("""
            async def aformat(self, examples):
                return [await self.example_prompt.aformat(**example) for example in examples]
            """, why="coroutine-that-only-formats-text"),
        Valid("""
            async def post(self, user, permissions_to_check):
                permissions = {}
                for resource, actions in permissions_to_check.items():
                    allowed = permissions[resource] = []
                    for action in actions:
                        authorized = await ensure_async(self.authorizer.is_authorized(self, user, action, resource))
                        if authorized:
                            allowed.append(action)
                return permissions
            """, why="permission-check-through-ensure-async"),
        Valid("""
            class SessionManager:
                async def row_to_model(self, row):
                    if await self.culled(row["kernel_id"]):
                        self.cursor.execute("DELETE FROM session WHERE session_id=?", (row["session_id"],))
                        raise KeyError(row["session_id"])
                    return dict(row)

                async def list_sessions(self):
                    result = []
                    for row in self.cursor.execute("SELECT * FROM session").fetchall():
                        result.append(await self.row_to_model(row))
                    return result
            """, why="coroutine-of-the-module-shares-a-database-cursor"),
        Valid("""
            async def execute_handlers(handlers_plan, state, settings):
                outcomes = {}
                for handler in handlers_plan:
                    outcome = await execute_handler_once(settings=settings, handler=handler, state=state[handler.id])
                    outcomes[handler.id] = outcome
                return outcomes
            """, why="planned-handlers-run-in-their-order"),
    ]
    INVALID = [
        Invalid("""\
            async def fetch_all(client, urls):
                pages = []
                for url in urls:
                    pages.append(await client.get(url))
                return pages
        """,
                why="append-awaited-results", line=4, message="`await client.get()` runs once per loop item"),
        Invalid("""\
            import aiohttp

            async def warm(urls):
                async with aiohttp.ClientSession() as session:
                    for url in urls:
                        await session.head(url)
        """,
                why="bare-await-of-a-known-http-client", line=6, message="asyncio.gather()"),
        Invalid("""\
            async def upload(client, items):
                return [await client.post(URL, json=item) for item in items]
        """,
                why="method-call-on-the-client-is-not-carried-state", line=2, message="`await client.post()`"),
        Invalid("""\
            async def prefetch(keys):
                for key in keys:
                    await load_thumbnail(key)
        """,
                why="bare-await-of-a-read-like-call", line=3),
        Invalid("""\
            async def sizes(client, urls):
                return [len(await client.get(u)) for u in urls]
        """,
                why="await-in-a-comprehension", line=2),
        Invalid("""\
            async def total(client, urls):
                count = 0
                for url in urls:
                    response = await client.get(url)
                    count += len(response.content)
                return count
        """,
                why="accumulator-not-read-by-the-await", line=4),
        Invalid("""\
            async def resize(images):
                done = []
                for image in images:
                    path = f'/tmp/{image.name}'
                    done.append(await asyncio.wait_for(convert(image, path), timeout=5))
        """,
                why="per-item-value-computed-before-the-await", line=5, message="convert()"),
        Invalid("""
            class IndexView:
                async def get(self, request, db, name, table_names):
                    tables = {}
                    for table in table_names:
                        visible, private = await self.ds.check_visibility(request.actor, "view-table", (name, table))
                        if not visible:
                            continue
                        tables[table] = {"columns": await db.table_columns(table)}
                    return tables
            """, why="per-table-database-reads-after-a-permission-check", line=9, message="`await db.table_columns()`"),
        Invalid("""
            async def resolve(addresses, loop):
                hosts = []
                for address in addresses:
                    host, _port = await loop.getnameinfo(address, 0)
                    hosts.append(host)
                return hosts
            """, why="reverse-lookup-per-address", line=5, message="`await loop.getnameinfo()`"),
        Invalid("""
            import os

            async def listing(os_dir, names):
                contents = []
                for name in names:
                    os_path = os.path.join(os_dir, name)
                    st = await run_sync(os.lstat, os_path)
                    contents.append(st)
                return contents
            """, why="os-path-join-in-the-loop-is-not-a-queue-join", line=8, message="`await run_sync()`"),
        Invalid("""
            async def resync(self, rows):
                room_ids = [row["room_id"] for row in rows]
                found = {}
                for room_id in room_ids:
                    try:
                        evt = await self.client.get_state_event(room_id, "m.room.encryption")
                    except LookupError:
                        continue
                    found[room_id] = evt
                return found
            """, why="one-state-request-per-room", line=7, message="`await self.client.get_state_event()`"),
    ]

    @classmethod
    def may_report(cls, first_pass: "FirstPass", context: FileContext, options: SequentialAwaitOptions) -> bool:
        """Only ``await`` expressions are reported."""
        return first_pass.awaits and cls.runs_on(context, options)

    def __init__(self, context: FileContext, options: SequentialAwaitOptions) -> None:
        super().__init__(context, options)
        self.init_walk()
        self.enabled = self.runs_on(context, options)
        #: id(loop) -> the loop's candidate awaits, in source order; the first one that
        #: is not a CPU-only coroutine is reported in ``finish`` (definitions may come later).
        self.pending: dict[int, list[tuple["cst.Await", "cst.Call", int]]] = {}
        #: Awaits that are whole statements (their result is dropped).
        self.bare: set[int] = set()
        #: The enclosing simple statements (their comments speak for a comprehension in them).
        self.statements: list["cst.SimpleStatementLine"] = []
        self.coroutines = CoroutineIndex()

    def _reads(self, call: "cst.Call") -> bool:
        """The call fetches something: a known HTTP client, or a read-like name."""
        trip = ROUND_TRIPS.get(self.resolve(call.func))
        if trip is not None and trip.family == "http":
            return True
        func = call.func
        name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
        return isinstance(name, str) and name.lower().startswith(READ_PREFIXES)

    def visit_SimpleStatementLine(self, node: "cst.SimpleStatementLine") -> None:
        self.statements.append(node)

    def leave_SimpleStatementLine(self, original_node: "cst.SimpleStatementLine") -> None:
        self.statements.pop()

    def visit_Call(self, node: "cst.Call") -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in DATABASE_METHODS:
            self.coroutines.uses_database()

    def visit_Expr(self, node: "cst.Expr") -> None:
        if isinstance(node.value, cst.Await):
            self.bare.add(id(node.value))

    def visit_FunctionDef(self, node: "cst.FunctionDef") -> None:
        self.coroutines.enter(node)

    def leave_FunctionDef(self, original_node: "cst.FunctionDef") -> None:
        self.coroutines.leave()

    def visit_For(self, node: "cst.For") -> None:
        if node.asynchronous is not None:
            self.coroutines.waits_for_io()

    def visit_With(self, node: "cst.With") -> None:
        if node.asynchronous is not None:
            self.coroutines.waits_for_io()

    def visit_Await(self, node: "cst.Await") -> None:
        self.coroutines.awaited(node.expression)
        loop = self._candidate_loop()
        if loop is None:
            return
        from advisor.rules.support.sql_text import sql_call  # deferred: only awaits inside loops get here

        call = _unwrap(node.expression)
        if call is None or not self._independent(call, loop) or sql_call(call, self.frame.node):
            return  # SQL text per item: n-plus-one reports it
        if id(node) in self.bare and not self._reads(call):
            return  # a side effect whose order may matter (apply each migration)
        if says_ordered(loop.node, self.statements[-1] if self.statements else None):
            return  # a comment says the order matters
        self.pending.setdefault(id(loop.node), []).append((node, call, len(self.frame.loops)))

    def finish(self) -> None:
        """Report, per loop, its first await that may wait for I/O: not a
        CPU-only coroutine of this module, nor a permission check."""
        quiet = self.coroutines.cpu_only() | self.coroutines.database()
        for candidates in self.pending.values():
            for node, call, depth in candidates:
                name = last_name(call)
                if callee_name(call) in quiet or PERMISSION_CHECK.search(name) or formats_only(name):
                    continue
                self.report(node, call=f"{short_code(call.func)}()", loop_depth=depth)
                break

    def _candidate_loop(self) -> Loop | None:
        frame = self.frame
        if not self.enabled or frame.kind != "function" or not frame.is_async or not frame.loops:
            return None
        if frame.facts is not None and frame.facts.yields:
            return None
        loop = frame.loops[-1]
        if loop.kind not in ("for", "comprehension") or loop.literal_iter or loop.facts.exits:
            return None
        if isinstance(loop.iter, cst.Call):
            source = dotted_name(loop.iter.func)
            if source.rsplit(".", 1)[-1] in SHARED_ITERATORS or ".hook." in f".{source}":
                return None  # shared iterators; pluggy ``pm.hook.x()`` results run in plugin order
        if walks_batches(loop.node) or runs_steps(loop.node):
            return None  # one await per batch bounds the concurrency; handlers and hooks run in turn
        facts = loop.facts
        if any(c.rsplit(".", 1)[-1] in SERIAL_CALLS for c in facts.awaited) or any(
                c.rsplit(".", 1)[-1] in SERIAL_CALLS - AWAITED_ONLY for c in facts.callees):
            return None
        if any(_stream_like(name) for name in loop.facts.async_with):
            return None
        return loop

    def _independent(self, call: "cst.Call", loop: Loop) -> bool:
        reads = names_read(call)
        if not reads & loop.variant:
            return False
        trip = ROUND_TRIPS.get(self.resolve(call.func))
        if trip is not None and trip.family == "sql":
            return False
        func = call.func
        name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
        if isinstance(name, str) and "await" in name.lower():
            return False  # ``await_me_maybe(x)``: awaits work that is already started
        if root_name(func) in loop.variant:
            return False  # calls each item (hooks, handlers, resources): their order is the point
        if isinstance(func, cst.Attribute):
            if func.attr.value in STREAM_METHODS or _stream_like(dotted_name(func.value)):
                return False
        elif isinstance(func, cst.Name) and func.value in STREAM_METHODS:
            return False  # ASGI ``send``: one ordered stream
        body = loop.node.body if isinstance(loop.node, cst.For) else None
        carried = (loop.variant | loop.facts.stored) - _target_names(loop)
        return not any(not _written_first(body, name) for name in reads & carried)


def _unwrap(expression: Any) -> "cst.Call | None":
    if not isinstance(expression, cst.Call):
        return None
    func = expression.func
    name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
    if name in WRAPPERS and expression.args:
        return _unwrap(expression.args[0].value)
    return expression


def _stream_like(name: str) -> bool:
    return bool(name) and any(part in STREAM_PARTS for part in _PARTS.split(name.lower()))


def _target_names(loop: Loop) -> set[str]:
    return names_read(loop.node.target)


def _written_first(body: Any, name: str) -> bool:
    """The first thing the loop body does with ``name`` is a plain assignment."""
    if body is None:
        return False
    for unit in _units(body):
        if isinstance(unit, (cst.Assign, cst.AnnAssign)) and unit.value is not None:
            targets = [t.target for t in unit.targets] if isinstance(unit, cst.Assign) else [unit.target]
            if name in names_read(unit.value):
                return False
            if any(isinstance(t, cst.Name) and t.value == name for t in targets):
                return True
        if name in names_read(unit):
            return False
    return False


def _units(block: Any) -> Iterator[Any]:
    """Small statements and compound-statement headers of a block, in source order."""
    if isinstance(block, (cst.IndentedBlock, cst.SimpleStatementSuite)):
        statements: Any = block.body
    elif block is not None and hasattr(block, "body"):  # Else, Finally, ExceptHandler
        yield from _units(block.body)
        return
    else:
        return
    for statement in statements:
        yield from _statement_units(statement)


def _statement_units(statement: Any) -> Iterator[Any]:
    if isinstance(statement, cst.SimpleStatementLine):
        yield from statement.body
    elif isinstance(statement, cst.BaseSmallStatement):
        yield statement
    elif isinstance(statement, cst.If):
        yield statement.test
        yield from _units(statement.body)
        if isinstance(statement.orelse, cst.If):
            yield from _statement_units(statement.orelse)
        else:
            yield from _units(statement.orelse)
    else:
        for header in (getattr(statement, "iter", None), getattr(statement, "test", None)):
            if header is not None:
                yield header
        for item in getattr(statement, "items", ()):
            yield item.item
        yield from _units(getattr(statement, "body", None))
        for handler in getattr(statement, "handlers", ()):
            yield from _units(handler)
        yield from _units(getattr(statement, "orelse", None))
        yield from _units(getattr(statement, "finalbody", None))
