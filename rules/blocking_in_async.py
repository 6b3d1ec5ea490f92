"""Rule blocking-in-async: blocking calls that stall the event loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from advisor._lazy import lazy_module
from advisor.rule import FileContext, Invalid, Rule, Valid

from advisor.rules.support.frames import LoopWalkMixin, short_code
from advisor.rules.support.round_trips import ROUND_TRIPS

if TYPE_CHECKING:
    import libcst as cst

    from advisor.first_pass import FirstPass
else:
    cst = lazy_module("libcst")

_SUBPROCESS = "`await asyncio.create_subprocess_exec(...)`"
_FILES = "`await asyncio.to_thread(...)` (or `aiofiles` / `anyio.Path`)"
_HTTP = "an async client (`httpx.AsyncClient`, `aiohttp`) or `await asyncio.to_thread(...)`"
_DB = "an async driver (`aiosqlite`, `asyncpg`, psycopg's `AsyncConnection`) or `asyncio.to_thread`"
#: Blocking callables -> what to use instead.
BLOCKING: dict[str, str] = {
    "time.sleep": "`await asyncio.sleep(...)`",
    "builtins.open": _FILES,
    "builtins.input": "`await asyncio.to_thread(input, ...)`",
    "urllib.request.urlopen": _HTTP,
    "os.system": _SUBPROCESS,
    "os.popen": _SUBPROCESS,
    "os.waitpid": "`await process.wait()` on an asyncio subprocess",
    "subprocess.Popen().wait": "`await process.wait()` on an asyncio subprocess",
    "subprocess.Popen().communicate": "`await process.communicate()` on an asyncio subprocess",
    "socket.create_connection": "`await asyncio.open_connection(...)`",
    "shutil.rmtree": _FILES,
    "shutil.copytree": _FILES,
    "shutil.copyfile": _FILES,
    "shutil.copy": _FILES,
    "shutil.copy2": _FILES,
    "shutil.move": _FILES,
}
for _name in ("run", "call", "check_call", "check_output", "getoutput", "getstatusoutput"):
    BLOCKING[f"subprocess.{_name}"] = _SUBPROCESS
for _name in ("read_text", "read_bytes", "write_text", "write_bytes"):
    BLOCKING[f"pathlib.Path().{_name}"] = _FILES
for _symbol, _trip in ROUND_TRIPS.items():
    if _trip.family == "http" and not _symbol.startswith(("httpx.AsyncClient()", "aiohttp.")):
        BLOCKING[_symbol] = "`httpx.AsyncClient`" if _symbol.startswith("httpx") else _HTTP
    elif _trip.family == "sql" and _symbol.startswith("dbapi."):
        BLOCKING[_symbol] = _DB
for _name in ("executemany", "fetchone", "fetchall", "fetchmany", "commit"):
    BLOCKING[f"dbapi.Cursor().{_name}"] = _DB
BLOCKING["dbapi.Connection().commit"] = _DB

#: Calls whose arguments run in a worker thread, not on the event loop.
OFFLOADERS = frozenset({
    "asyncio.to_thread", "anyio.to_thread.run_sync", "trio.to_thread.run_sync",
    "starlette.concurrency.run_in_threadpool", "fastapi.concurrency.run_in_threadpool",
    "asgiref.sync.sync_to_async", "functools.partial",
})


@dataclass(frozen=True)
class BlockingInAsyncOptions:
    #: Also report test files.
    include_tests: bool = False


class BlockingInAsync(LoopWalkMixin, Rule):
    """Blocking calls (sleep, sync HTTP, subprocess, file I/O) inside `async def`.

    ## What it does
    Finds calls that block the thread inside the body of an `async def`:
    `time.sleep`, `requests` and sync `httpx` calls, `urllib.request.urlopen`,
    `subprocess.run`/`call`/`check_output`, `os.system`, `shutil` copies and
    moves, builtin `open()` and
    `Path.read_text()`-style file I/O, and DB-API cursors (`sqlite3`,
    `psycopg2`, ...). Names are resolved through the module's imports and
    assignments, so `from time import sleep` counts and `from trio import
    sleep` does not.

    ## Why it matters
    While a coroutine blocks, the event loop runs nothing else: one
    `requests.get` taking 200 ms stalls every other request the server is
    handling for those 200 ms, and latency grows with concurrency.

    ## Example
    ```python
    import time, requests

    async def refresh(url):
        time.sleep(1)
        return requests.get(url).json()
    ```

    ## Use instead
    ```python
    import asyncio, httpx

    async def refresh(url):
        await asyncio.sleep(1)
        async with httpx.AsyncClient() as client:
            return (await client.get(url)).json()
    ```

    ## Fix safety
    No automatic fix: the message names the async replacement, but swapping
    a client or moving work to a thread changes error types and timeouts,
    so it is a suggestion.

    ## Known limits
    Stays silent inside a nested `def` or `lambda` (they run wherever they
    are called, often in an executor), inside the arguments of
    `asyncio.to_thread`, `loop.run_in_executor`, `anyio.to_thread.run_sync`
    and `functools.partial`, on awaited calls (an awaited call returns an
    awaitable, so it is async), and in test files. Calls made through
    helper functions defined elsewhere are not followed; a short `open()` of
    a small local file still counts, though it may cost microseconds.

    ## Options
    `include-tests` (default false): also report test files.
    """

    id = "blocking-in-async"
    message = "`{call}` blocks the event loop inside `async def {function}`; use {instead}"
    kind = "runtime"
    fix = "none"
    Options = BlockingInAsyncOptions

    VALID = [
        Valid("""\
            import time

            async def main():
                def work():
                    time.sleep(1)
                await asyncio.to_thread(work)
        """,
              why="nested-sync-def-runs-in-a-thread"),
        Valid("""\
            import asyncio

            async def main():
                await asyncio.to_thread(lambda: input('name? '))
        """,
              why="lambda-passed-to-to-thread"),
        Valid("""\
            import asyncio, time

            async def main():
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(None, time.sleep, 1)
        """,
              why="run-in-executor-gets-a-reference"),
        Valid("""\
            import asyncio, requests

            async def fetch(url):
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(None, functools.partial(requests.get, url, timeout=5))
        """,
              why="partial-inside-run-in-executor"),
        Valid("""\
            from trio import sleep

            async def tick():
                await sleep(1)
        """, why="async-sleep-imported-by-name"),
        Valid("""\
            import aiofiles

            async def read(path):
                async with aiofiles.open(path) as f:
                    return await f.read()
        """,
              why="aiofiles-open-is-async"),
        Valid("""\
            import time

            def wait():
                time.sleep(1)
        """, why="sync-function"),
        Valid("""\
            import redis.asyncio as redis

            async def get(key):
                r = redis.Redis()
                return await r.get(key)
        """,
              why="awaited-call-is-async"),
        Valid("""\
            from anyio import open_file

            async def read(path):
                async with await open_file(path) as f:
                    return await f.read()
        """,
              why="anyio-open-file"),
        Valid("""\
            async def load(open, path):
                return open(path)
        """, why="open-is-a-parameter"),
        Valid("""\
            import time

            async def test_slow():
                time.sleep(0.1)
        """, why="test-files-are-skipped", path="tests/test_slow.py"),
    ]
    INVALID = [
        Invalid("""\
            import time

            async def poll():
                while True:
                    time.sleep(5)
        """,
                why="time-sleep", line=5, message="`time.sleep()` blocks the event loop inside `async def poll`; use `await asyncio.sleep"),
        Invalid("""\
            from time import sleep

            async def poll():
                sleep(5)
        """, why="sleep-imported-by-name", line=4, message="asyncio.sleep"),
        Invalid("""\
            import requests

            async def fetch(url):
                return requests.get(url).json()
        """,
                why="requests-in-async", line=4, message="httpx.AsyncClient"),
        Invalid("""\
            import subprocess

            async def build():
                subprocess.run(['make'], check=True)
        """,
                why="subprocess-run", line=4, message="create_subprocess_exec"),
        Invalid("""\
            async def load(path):
                with open(path) as f:
                    return f.read()
        """,
                why="builtin-open", line=2, message="`open()`"),
        Invalid("""\
            from pathlib import Path

            async def load(name):
                return Path(name).read_text()
        """,
                why="path-read-text", line=4, message="to_thread"),
        Invalid("""\
            import httpx

            class Api:
                async def get(self, url):
                    with httpx.Client() as client:
                        return client.get(url)
        """,
                why="sync-httpx-client-in-async-method", line=6, message="`client.get()`"),
        Invalid("""\
            import urllib.request

            async def fetch(url):
                return urllib.request.urlopen(url).read()
        """,
                why="urlopen", line=4, message="urllib.request.urlopen"),
        Invalid("""
            import shutil
            from pathlib import Path

            async def download_to_drive(self, custom_path):
                if custom_path is not None and self.local:
                    shutil.copyfile(self.file_path, str(custom_path))
                    return Path(custom_path)
            """, why="shutil-copyfile-in-async-def", line=7, message="`shutil.copyfile()` blocks the event loop"),
    ]

    @classmethod
    def may_report(cls, first_pass: "FirstPass", context: FileContext, options: BlockingInAsyncOptions) -> bool:
        """Only calls inside an ``async def`` are reported."""
        return first_pass.async_def and cls.runs_on(context, options)

    def __init__(self, context: FileContext, options: BlockingInAsyncOptions) -> None:
        super().__init__(context, options)
        self.init_walk()
        self.enabled = self.runs_on(context, options)
        self.awaited: set[int] = set()
        #: Offloading calls whose arguments are being walked.
        self.offloads: set[int] = set()

    def visit_Await(self, node: "cst.Await") -> None:
        self.awaited.add(id(node.expression))

    def visit_Call(self, node: "cst.Call") -> None:
        if self._is_offload(node):
            self.offloads.add(id(node))
            return
        frame = self.frame
        if not self.enabled or self.offloads or frame.kind != "function" or not frame.is_async:
            return
        if id(node) in self.awaited:
            return
        symbol = self.resolve(node.func)
        instead = BLOCKING.get(symbol)
        if instead is None:
            return
        self.report(node, call=f"{short_code(node.func)}()", function=frame.node.name.value,
                    instead=instead, api=symbol, loop_depth=len(frame.loops))

    def leave_Call(self, original_node: "cst.Call") -> None:
        self.offloads.discard(id(original_node))

    def _is_offload(self, node: "cst.Call") -> bool:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "run_in_executor":
            return True
        return self.resolve(func) in OFFLOADERS
