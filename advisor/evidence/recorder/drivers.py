"""Round trips through PostgreSQL and MySQL drivers used directly: psycopg 2,
psycopg 3 and PyMySQL (through SQLAlchemy or Django, their hooks record the
statement first and the depth guard keeps it from counting twice).

Each hook is installed right after its driver is first imported (never
importing a driver the program does not import), uses the extension point
the driver offers, and is taken out again when recording stops:

- psycopg 2: ``psycopg2.connect`` passes a ``connection_factory`` (a subclass
  of the one asked for) whose ``cursor()`` hands the C layer a timed subclass
  of whatever cursor factory it would have used (``cursor_factory`` given to
  ``cursor()`` or ``connect()``, ``DictConnection``'s default, ...);
- psycopg 3: it has no execute hook, but a connection's ``cursor_factory`` and
  ``server_cursor_factory`` may be any ``Cursor`` subclass: ``cursor()`` (which
  ``Connection.execute`` also uses) swaps in timed subclasses of them first;
- PyMySQL has no hook at all: ``Cursor.execute``/``executemany`` are wrapped
  on the class (every cursor class inherits them).

What counts as one round trip (docs/runtime-evidence.md): an ``execute``; an
``executemany``, whatever the driver sends for it; a server-side cursor's
``execute`` (its ``DECLARE``; the ``FETCH``es of the rows that follow are
reading one result, not statements per item, and are not counted); a COPY.
Statements queued in a psycopg 3 pipeline are not round trips of their own
and are not recorded.
"""

from __future__ import annotations

import contextvars
import importlib
import sys
import time
from types import FrameType
from typing import Any, Callable

from .trips import AfterImport, TripRecorder

_MISSING = object()
#: Depth of recorded async round trips in the current task (a thread's depth
#: counter would be shared by every task of its event loop).
_ASYNC_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("advisor_async_trip_depth", default=0)


class Patches:
    """Class and module attributes replaced while recording, put back on restore."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, object]] = []

    def replace(self, owner: Any, name: str, value: object) -> None:
        self._saved.append((owner, name, vars(owner).get(name, _MISSING)))
        setattr(owner, name, value)

    def restore(self) -> None:
        while self._saved:
            owner, name, old = self._saved.pop()
            if old is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, old)


class DriverHooks:
    """Installs the driver hooks as their drivers get imported; ``remove()``
    takes them out (and drops the hooks of drivers not imported yet)."""

    def __init__(self, recorder: TripRecorder, after_import: AfterImport) -> None:
        self.recorder = recorder
        self.after_import = after_import
        self.patches = Patches()
        self.names = {"psycopg2": install_psycopg2, "psycopg": install_psycopg, "pymysql": install_pymysql}
        for name, install in self.names.items():
            after_import.hooks[name] = self._installer(install)

    def _installer(self, install: Callable[[TripRecorder, Patches], None]) -> Callable[[], None]:
        return lambda: install(self.recorder, self.patches)

    def remove(self) -> None:
        for name in self.names:
            self.after_import.hooks.pop(name, None)
        self.patches.restore()


def statement_text(query: object, context: object) -> object:
    """The SQL of a composed query (``psycopg.sql.SQL(...).format(...)``) as
    text, so that its shape is the statement's and not a class name."""
    if isinstance(query, (str, bytes)):
        return query
    as_string = getattr(query, "as_string", None)
    if as_string is not None:
        try:
            return as_string(context)
        except Exception:  # (a context the object does not accept: its class name is the shape)
            pass
    return query


def timed_block(recorder: TripRecorder, block: Any, sql: object, frame: FrameType | None) -> Any:
    """A context manager (a COPY) recorded as one round trip: the time spent
    starting and finishing it, not the program's own time inside the block."""
    stack = recorder.files.stack(frame) if recorder.active and not recorder.depth() else ()
    return _TimedBlock(recorder, block, sql, stack)


class _TimedBlock:
    def __init__(self, recorder: TripRecorder, block: Any, sql: object, stack: tuple[Any, ...]) -> None:
        self.recorder, self.block, self.sql, self.stack, self.seconds = recorder, block, sql, stack, 0.0

    def __enter__(self) -> Any:
        started = time.perf_counter()
        try:
            return self.block.__enter__()
        finally:
            self.seconds += time.perf_counter() - started

    def __exit__(self, *exc: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.block.__exit__(*exc)
        finally:
            self._done(time.perf_counter() - started)

    async def __aenter__(self) -> Any:
        started = time.perf_counter()
        try:
            return await self.block.__aenter__()
        finally:
            self.seconds += time.perf_counter() - started

    async def __aexit__(self, *exc: Any) -> Any:
        started = time.perf_counter()
        try:
            return await self.block.__aexit__(*exc)
        finally:
            self._done(time.perf_counter() - started)

    def _done(self, seconds: float) -> None:
        if self.stack:
            self.recorder.add("sql", self.recorder.sql_shape(self.sql), self.seconds + seconds, self.stack)


async def timed_async(recorder: TripRecorder, run: Callable[[], Any], sql: object, frame: FrameType | None) -> Any:
    """``TripRecorder.timed_sql`` for a coroutine: the depth guard is per task."""
    if not recorder.active or _ASYNC_DEPTH.get() or recorder.depth():
        return await run()
    token = _ASYNC_DEPTH.set(1)
    started = time.perf_counter()
    try:
        return await run()
    finally:
        elapsed = time.perf_counter() - started
        _ASYNC_DEPTH.reset(token)
        recorder.add("sql", recorder.sql_shape(sql), elapsed, recorder.files.stack(frame))


# -- psycopg 2 ---------------------------------------------------------------------------


def install_psycopg2(recorder: TripRecorder, patches: Patches) -> None:
    psycopg2 = importlib.import_module("psycopg2")
    extensions = importlib.import_module("psycopg2.extensions")
    timed_cursor = _psycopg2_cursors(recorder, extensions.cursor)

    class CursorChooser(extensions.connection):  # type: ignore[misc, name-defined]
        """Last in the MRO before the C connection: sees the factory every
        Python subclass (DictConnection, LoggingConnection, ...) chose."""

        def cursor(self, *args: Any, **kwargs: Any) -> Any:
            if len(args) > 1:  # cursor(name, cursor_factory, ...)
                args = (args[0], timed_cursor(args[1] or self.cursor_factory or extensions.cursor), *args[2:])
            else:
                kwargs["cursor_factory"] = timed_cursor(kwargs.get("cursor_factory") or self.cursor_factory or extensions.cursor)
            return super().cursor(*args, **kwargs)

    connections: dict[type, type] = {extensions.connection: CursorChooser}

    def timed_connection(base: Any) -> Any:
        if not (isinstance(base, type) and issubclass(base, extensions.connection)):
            return base  # (a factory function: left alone, its statements are not recorded)
        if base not in connections:
            connections[base] = type(base.__name__, (base, CursorChooser), {"__module__": base.__module__})
        return connections[base]

    original = psycopg2.connect

    def connect(dsn: Any = None, connection_factory: Any = None, cursor_factory: Any = None, **kwargs: Any) -> Any:
        factory = timed_connection(connection_factory or extensions.connection)
        return original(dsn, connection_factory=factory, cursor_factory=cursor_factory, **kwargs)

    connect.__wrapped__ = original  # type: ignore[attr-defined]
    connect.__doc__ = original.__doc__
    patches.replace(psycopg2, "connect", connect)


def _psycopg2_cursors(recorder: TripRecorder, root: type) -> Callable[[Any], Any]:
    made: dict[type, type] = {}

    def timed(query: object, cursor: Any, run: Callable[[], Any]) -> Any:
        if not recorder.active or cursor.connection.async_:  # (an async connection's execute does not wait)
            return run()
        return recorder.timed_sql(run, statement_text(query, cursor), sys._getframe(2))

    def timed_cursor(base: Any) -> Any:
        if not (isinstance(base, type) and issubclass(base, root)) or base in made.values():
            return base
        if base not in made:
            class TimedCursor(base):  # type: ignore[valid-type, misc]
                def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                    return timed(query, self, lambda: super(TimedCursor, self).execute(query, *args, **kwargs))

                def executemany(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                    return timed(query, self, lambda: super(TimedCursor, self).executemany(query, *args, **kwargs))

                def copy_expert(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
                    return timed(sql, self, lambda: super(TimedCursor, self).copy_expert(sql, *args, **kwargs))

                def copy_from(self, file: Any, table: str, *args: Any, **kwargs: Any) -> Any:
                    return timed(f"COPY {table} FROM STDIN", self, lambda: super(TimedCursor, self).copy_from(file, table, *args, **kwargs))

                def copy_to(self, file: Any, table: str, *args: Any, **kwargs: Any) -> Any:
                    return timed(f"COPY {table} TO STDOUT", self, lambda: super(TimedCursor, self).copy_to(file, table, *args, **kwargs))

            TimedCursor.__name__ = TimedCursor.__qualname__ = base.__name__
            made[base] = TimedCursor
        return made[base]

    return timed_cursor


# -- psycopg 3 ---------------------------------------------------------------------------


def install_psycopg(recorder: TripRecorder, patches: Patches) -> None:
    psycopg = importlib.import_module("psycopg")
    sync_cursor = _psycopg_cursors(recorder, asynchronous=False)
    async_cursor = _psycopg_cursors(recorder, asynchronous=True)
    for connection, timed_cursor in ((psycopg.Connection, sync_cursor), (psycopg.AsyncConnection, async_cursor)):
        patches.replace(connection, "cursor", _choosing_cursor(connection.cursor, timed_cursor))


def _choosing_cursor(original: Callable[..., Any], timed_cursor: Callable[[Any], Any]) -> Callable[..., Any]:
    def cursor(self: Any, *args: Any, **kwargs: Any) -> Any:
        for name in ("cursor_factory", "server_cursor_factory"):
            factory = getattr(self, name, None)
            timed = timed_cursor(factory)
            if timed is not factory:
                setattr(self, name, timed)
        return original(self, *args, **kwargs)

    cursor.__wrapped__ = original  # type: ignore[attr-defined]
    cursor.__doc__ = original.__doc__
    return cursor


def _in_pipeline(cursor: Any) -> bool:
    """Whether the statement is queued in a pipeline (sent later, batched)."""
    try:
        return int(cursor.connection.pgconn.pipeline_status) != 0
    except Exception:
        return False


def _psycopg_cursors(recorder: TripRecorder, asynchronous: bool) -> Callable[[Any], Any]:
    made: dict[type, type] = {}

    def timed_cursor(base: Any) -> Any:
        if not isinstance(base, type) or base in made.values():
            return base
        if base not in made:
            made[base] = _async_psycopg_cursor(recorder, base) if asynchronous else _sync_psycopg_cursor(recorder, base)
        return made[base]

    return timed_cursor


def _sync_psycopg_cursor(recorder: TripRecorder, base: Any) -> type:
    def timed(query: object, cursor: Any, run: Callable[[], Any]) -> Any:
        if not recorder.active or _in_pipeline(cursor):
            return run()
        return recorder.timed_sql(run, statement_text(query, cursor), sys._getframe(2))

    class TimedCursor(base):  # type: ignore[valid-type, misc]
        __slots__ = ()

        def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            return timed(query, self, lambda: super(TimedCursor, self).execute(query, *args, **kwargs))

        def executemany(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            return timed(query, self, lambda: super(TimedCursor, self).executemany(query, *args, **kwargs))

        def copy(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
            block = super().copy(statement, *args, **kwargs)
            return timed_block(recorder, block, statement_text(statement, self), sys._getframe(1))

    TimedCursor.__name__ = TimedCursor.__qualname__ = base.__name__
    return TimedCursor


def _async_psycopg_cursor(recorder: TripRecorder, base: Any) -> type:
    async def timed(query: object, cursor: Any, run: Callable[[], Any], frame: FrameType | None) -> Any:
        if not recorder.active or _in_pipeline(cursor):
            return await run()
        return await timed_async(recorder, run, statement_text(query, cursor), frame)

    class TimedAsyncCursor(base):  # type: ignore[valid-type, misc]
        __slots__ = ()

        async def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            run = lambda: super(TimedAsyncCursor, self).execute(query, *args, **kwargs)  # noqa: E731
            return await timed(query, self, run, sys._getframe(1))

        async def executemany(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            run = lambda: super(TimedAsyncCursor, self).executemany(query, *args, **kwargs)  # noqa: E731
            return await timed(query, self, run, sys._getframe(1))

        def copy(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
            block = super().copy(statement, *args, **kwargs)
            return timed_block(recorder, block, statement_text(statement, self), sys._getframe(1))

    TimedAsyncCursor.__name__ = TimedAsyncCursor.__qualname__ = base.__name__
    return TimedAsyncCursor


# -- PyMySQL -----------------------------------------------------------------------------


def install_pymysql(recorder: TripRecorder, patches: Patches) -> None:
    """PyMySQL offers no hook: its base ``Cursor``'s two methods are wrapped
    on the class (``executemany`` runs ``execute`` below it: counted once)."""
    cursor = importlib.import_module("pymysql.cursors").Cursor
    for name in ("execute", "executemany"):
        patches.replace(cursor, name, _timed_method(recorder, vars(cursor)[name]))


def _timed_method(recorder: TripRecorder, original: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        if not recorder.active:
            return original(self, query, *args, **kwargs)
        return recorder.timed_sql(lambda: original(self, query, *args, **kwargs), query, sys._getframe(1))

    method.__wrapped__ = original  # type: ignore[attr-defined]
    method.__name__, method.__qualname__, method.__doc__ = original.__name__, original.__qualname__, original.__doc__
    return method
