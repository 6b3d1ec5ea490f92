"""Round trips recorded as they happen: every SQL statement and HTTP request,
grouped by (kind, normalised shape, project call stack) with a count and the
seconds spent waiting.

Hooks, narrowest first (docs/runtime-evidence.md says which is which):

- HTTP through ``http.client`` (urllib, requests, urllib3): the interpreter's
  ``http.client.send`` audit event opens the request (its first line gives the
  method and path; the rest of the data is never kept) and a wrapper around
  ``HTTPConnection.getresponse`` closes it when the response headers arrive;
  no audit event marks the end.
- SQLAlchemy (any driver): its documented cursor events on ``Engine``,
  listened to right after ``sqlalchemy.engine`` is imported (``AfterImport``).
- httpx: its transports' ``handle_request``/``handle_async_request``
  (wrapped right after ``httpx`` is imported).
- Django (any backend): ``connection.execute_wrapper``'s list, extended as
  each connection is created (``connection_created``), right after
  ``django.db.backends.signals`` is imported.
- psycopg 2 and 3, PyMySQL used directly: ``drivers.py``.
- sqlite3 has no execute hook (its audit events cover connecting only), so
  ``sqlite3.connect`` is wrapped to pass a ``factory=``: a Connection subclass
  whose cursors time ``execute``/``executemany``/``executescript``.

A round trip inside another (SQLAlchemy over sqlite3) is counted once, by the
outermost hook: a per-thread depth guards it.
"""

from __future__ import annotations

import sys
import threading
import time
from types import FrameType
from typing import Any, Callable

from .sites import ProjectFiles, Site

Key = tuple[str, str, tuple[Site, ...]]


class TripRecorder:
    """Groups of round trips; thread-safe, values never kept."""

    def __init__(self, files: ProjectFiles) -> None:
        self.files = files
        self.groups: dict[Key, list[float]] = {}  # key -> [count, seconds]
        self.active = True
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sql_cache: dict[object, str] = {}
        self._pending: dict[int, tuple[float, str, tuple[Site, ...]]] = {}

    # -- the depth guard --------------------------------------------------------------

    def enter(self) -> bool:
        """True when this is the outermost round trip of the thread."""
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        return depth == 0

    def leave(self) -> None:
        self._local.depth -= 1

    def depth(self) -> int:
        """How many recorded round trips of this thread are in progress."""
        return int(getattr(self._local, "depth", 0))

    def add(self, kind: str, shape: str, seconds: float, stack: tuple[Site, ...]) -> None:
        if not self.active or not stack:
            return  # (library-internal statements, e.g. a migration tool's, have no project frame)
        key = (kind, shape, stack)
        with self._lock:
            group = self.groups.get(key)
            if group is None:
                self.groups[key] = [1, seconds]
            else:
                group[0] += 1
                group[1] += seconds

    def timed_sql(self, run: Callable[[], Any], sql: object, frame: FrameType | None) -> Any:
        """Run one statement, recording it when it is the outermost round trip."""
        if not self.enter():
            try:
                return run()
            finally:
                self.leave()
        started = time.perf_counter()
        try:
            return run()
        finally:
            elapsed = time.perf_counter() - started
            self.leave()
            self.add("sql", self.sql_shape(sql), elapsed, self.files.stack(frame))

    def sql_shape(self, sql: object) -> str:
        try:
            return self._sql_cache[sql]
        except (KeyError, TypeError):
            pass
        from .shapes import sql_shape  # (loaded on the first round trip: most programs make none)

        shape = sql_shape(sql)
        if len(self._sql_cache) > 4096:
            self._sql_cache.clear()
        try:
            self._sql_cache[sql] = shape
        except TypeError:
            pass
        return shape

    # -- http.client ------------------------------------------------------------------

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        """The audit hook: opens an HTTP round trip on the request's first send."""
        if event != "http.client.send" or not self.active:
            return
        connection, data = args
        key = id(connection)
        if key in self._pending or not isinstance(data, (bytes, bytearray)):
            return
        from .shapes import http_shape, request_line

        line = request_line(bytes(data[:8192]))
        if line is None:
            return
        shape = http_shape(line[0], str(getattr(connection, "host", "")), line[1])
        self._pending[key] = (time.perf_counter(), shape, self.files.stack(sys._getframe(1)))

    def response_arrived(self, connection: object) -> None:
        opened = self._pending.pop(id(connection), None)
        if opened is not None:
            started, shape, stack = opened
            self.add("http", shape, time.perf_counter() - started, stack)

    def dropped(self, connection: object) -> None:
        self._pending.pop(id(connection), None)

    def rows(self) -> list[dict[str, Any]]:
        """The groups as plain data for the evidence file."""
        with self._lock:
            items = list(self.groups.items())
        return [
            {"kind": kind, "shape": shape, "count": int(count), "seconds": round(seconds, 6),
             "stack": [{"path": p, "line": line, "function": fn} for p, line, fn in stack]}
            for (kind, shape, stack), (count, seconds) in items
        ]


def install_http(recorder: TripRecorder) -> None:
    import http.client

    sys.addaudithook(recorder.audit)  # (cannot be removed: it checks recorder.active)
    original = http.client.HTTPConnection.getresponse

    def getresponse(self: http.client.HTTPConnection) -> http.client.HTTPResponse:
        try:
            response = original(self)
        except BaseException:
            recorder.dropped(self)
            raise
        recorder.response_arrived(self)
        return response

    getresponse.__wrapped__ = original  # type: ignore[attr-defined]
    http.client.HTTPConnection.getresponse = getresponse  # type: ignore[method-assign]


def install_sqlite(recorder: TripRecorder) -> None:
    import sqlite3
    import sqlite3.dbapi2

    original = sqlite3.connect
    cursors: dict[type, type] = {}
    connections: dict[type, type] = {}

    def timed_cursor(base: type) -> type:
        if base not in cursors:
            class TimedCursor(base):  # type: ignore[valid-type, misc]
                def execute(self, sql: Any, *params: Any) -> Any:
                    return recorder.timed_sql(lambda: super(TimedCursor, self).execute(sql, *params), sql, sys._getframe(1))

                def executemany(self, sql: Any, *params: Any) -> Any:
                    return recorder.timed_sql(lambda: super(TimedCursor, self).executemany(sql, *params), sql, sys._getframe(1))

                def executescript(self, script: Any) -> Any:
                    return recorder.timed_sql(lambda: super(TimedCursor, self).executescript(script), script, sys._getframe(1))

            cursors[base] = TimedCursor
        return cursors[base]

    def timed_connection(base: type) -> type:
        if base not in connections:
            class TimedConnection(base):  # type: ignore[valid-type, misc]
                def cursor(self, *args: Any, **kwargs: Any) -> Any:
                    factory = kwargs.pop("factory", args[0] if args else sqlite3.Cursor)
                    return super().cursor(timed_cursor(factory))

                def execute(self, sql: Any, *params: Any) -> Any:
                    return self.cursor().execute(sql, *params)

                def executemany(self, sql: Any, *params: Any) -> Any:
                    return self.cursor().executemany(sql, *params)

                def executescript(self, script: Any) -> Any:
                    return self.cursor().executescript(script)

            connections[base] = TimedConnection
        return connections[base]

    def connect(*args: Any, **kwargs: Any) -> Any:
        if len(args) > 5:  # factory given by position
            args = (*args[:5], timed_connection(args[5]), *args[6:])
        else:
            kwargs["factory"] = timed_connection(kwargs.get("factory") or sqlite3.Connection)
        return original(*args, **kwargs)

    connect.__wrapped__ = original  # type: ignore[attr-defined]
    connect.__doc__ = original.__doc__
    sqlite3.connect = sqlite3.dbapi2.connect = connect


def install_sqlalchemy(recorder: TripRecorder) -> None:
    """SQLAlchemy's documented cursor events, for every driver under it: the
    statement is recorded once, with SQLAlchemy's timing (a sqlite3 cursor
    below it is inside the round trip, so the depth guard skips it)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    local = threading.local()

    def before(conn: Any, cursor: Any, statement: Any, parameters: Any, context: Any, executemany: bool) -> None:
        pending = local.__dict__.setdefault("pending", [])
        pending.append((recorder.enter(), time.perf_counter()))

    def after(conn: Any, cursor: Any, statement: Any, parameters: Any, context: Any, executemany: bool) -> None:
        pending = local.__dict__.get("pending")
        if not pending:
            return
        outer, started = pending.pop()
        elapsed = time.perf_counter() - started
        recorder.leave()
        if outer:
            recorder.add("sql", recorder.sql_shape(statement), elapsed, recorder.files.stack(sys._getframe(1)))

    def failed(context: Any) -> None:
        pending = local.__dict__.get("pending")
        if pending:
            pending.pop()
            recorder.leave()

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    event.listen(Engine, "handle_error", failed)


def install_django(recorder: TripRecorder) -> None:
    """Django's documented database instrumentation (``execute_wrapper``),
    added to every connection as it is created (the ``connection_created``
    signal), for every backend."""
    from django.db.backends.signals import connection_created  # type: ignore[import-untyped, unused-ignore]

    def wrapper(execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: Any) -> Any:
        return recorder.timed_sql(lambda: execute(sql, params, many, context), sql, sys._getframe(1))

    def created(sender: Any, connection: Any, **kwargs: Any) -> None:
        if wrapper not in connection.execute_wrappers:
            connection.execute_wrappers.append(wrapper)

    connection_created.connect(created, weak=False, dispatch_uid="advisor-runtime-evidence")


def install_httpx(recorder: TripRecorder) -> None:
    """httpx's transport API (``HTTPTransport.handle_request`` and its async
    twin, the documented point where a custom transport plugs in): wrapped to
    time each request until its response headers, sync and async alike."""
    import httpx

    def shape(request: Any) -> str:
        from .shapes import http_shape

        url = request.url
        target = url.raw_path.decode("ascii", "replace") if isinstance(url.raw_path, bytes) else str(url.raw_path)
        return http_shape(str(request.method), str(url.host), target)

    sync = httpx.HTTPTransport.handle_request
    asynchronous = httpx.AsyncHTTPTransport.handle_async_request

    def handle_request(self: Any, request: Any) -> Any:
        stack, started = recorder.files.stack(sys._getframe(1)), time.perf_counter()
        response = sync(self, request)
        recorder.add("http", shape(request), time.perf_counter() - started, stack)
        return response

    async def handle_async_request(self: Any, request: Any) -> Any:
        stack, started = recorder.files.stack(sys._getframe(1)), time.perf_counter()
        response = await asynchronous(self, request)
        recorder.add("http", shape(request), time.perf_counter() - started, stack)
        return response

    httpx.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign]
    httpx.AsyncHTTPTransport.handle_async_request = handle_async_request  # type: ignore[method-assign]


class AfterImport:
    """Runs a hook right after a library module is first imported (SQLAlchemy's
    events can only be listened to once it is there). A hook that fails is
    skipped: the program must run as it would without advisor."""

    def __init__(self, hooks: dict[str, Callable[[], None]]) -> None:
        self.hooks = hooks

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        found = self.hooks.pop(name, None)
        if found is None:
            return None
        hook: Callable[[], None] = found
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or type(spec.loader) is not importlib.machinery.SourceFileLoader:
            return spec

        class HookedLoader(importlib.machinery.SourceFileLoader):
            def exec_module(self, module: Any) -> None:
                super().exec_module(module)
                try:
                    hook()
                except Exception:  # (a version whose API differs: record without it)
                    pass

        spec.loader = HookedLoader(spec.loader.name, spec.loader.path)
        return spec

    def install(self) -> None:
        sys.meta_path.insert(0, self)  # type: ignore[arg-type]
