"""The profiled process: start the recorders and pyinstrument, run the
target as ``python`` would (``-m mod``, ``-c code`` or a script), then save
the pyinstrument session and the runtime evidence file, even when the
target fails or exits."""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys
import time
import traceback
from typing import Any

from . import tests
from .calls import CallCounter
from .drivers import DriverHooks
from .sites import ProjectFiles
from .trips import AfterImport, TripRecorder, install_django, install_http, install_httpx, install_sqlalchemy, install_sqlite

FORMAT = "advisor-runtime"
VERSION = 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="advisor-recorder")
    parser.add_argument("--session", required=True)
    parser.add_argument("--runtime", required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--interval", type=float, default=0.001)
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--no-calls", action="store_true")
    parser.add_argument("--sampler", choices=("thread", "pyinstrument"), default="thread")
    parser.add_argument("target", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    target = options.target[1:] if options.target[:1] == ["--"] else options.target
    files = ProjectFiles(options.root)
    trips = TripRecorder(files)
    install_sqlite(trips)
    install_http(trips)
    after_import = AfterImport({"sqlalchemy.engine": lambda: install_sqlalchemy(trips),
                                "django.db.backends.signals": lambda: install_django(trips),
                                "httpx": lambda: install_httpx(trips)})
    drivers = DriverHooks(trips, after_import)
    after_import.install()
    calls = CallCounter(files)
    if not options.no_calls:
        calls.install()
    if _is_pytest(target):
        os.environ["PYTEST_PLUGINS"] = ",".join(filter(None, [os.environ.get("PYTEST_PLUGINS", ""), tests.__name__]))
    memory = None
    if options.memory:
        from .memory import MemoryRecorder

        memory = MemoryRecorder(files)
    sampler = _sampler(options.sampler, options.interval, target)
    if memory is not None:
        memory.start()
    started = time.perf_counter()
    sampler.start()
    code, crashed = _run(target, None if options.no_calls else calls)
    sampler.stop()
    wall = time.perf_counter() - started
    trips.active = False
    drivers.remove()
    memory_rows = memory.stop() if memory is not None else None
    if not crashed:  # (as pyinstrument's own command line: an uncaught exception saves nothing)
        sampler.save(options.session)
        document = _document(trips, calls, memory_rows, wall)
        with open(options.runtime, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1)
    return code


class _Pyinstrument:
    """pyinstrument's own profiler, behind the sampler's start/stop/save."""

    def __init__(self, interval: float) -> None:
        from pyinstrument import Profiler

        self.profiler = Profiler(interval=interval)
        self.session: Any = None

    def start(self) -> None:
        self.profiler.start()

    def stop(self) -> None:
        self.session = self.profiler.stop()

    def save(self, path: str) -> None:
        self.session.save(path)


def _sampler(kind: str, interval: float, target: list[str]) -> Any:
    if kind == "pyinstrument":
        return _Pyinstrument(interval)
    from .sampler import ThreadSampler

    return ThreadSampler(interval, target)


def _document(trips: TripRecorder, calls: CallCounter, memory: "dict[str, Any] | None", wall: float) -> dict[str, Any]:
    document: dict[str, Any] = {
        "format": FORMAT, "version": VERSION, "runs": 1, "wall_s": round(wall, 6),
        "python": ".".join(map(str, sys.version_info[:3])),
        "round_trips": trips.rows(), "calls": calls.rows(),
    }
    if memory is not None:
        document["memory"] = memory
        document["timed_with_memory_tracing"] = True  # tracemalloc slows allocating code: its seconds are inflated
    if tests.count():
        document["tests"] = {"count": tests.count(), "slowest": tests.rows()}
    return document


def _run(target: list[str], calls: CallCounter | None) -> tuple[int, bool]:
    """Run the target like the interpreter would: its exit status, and
    whether it ended with an uncaught exception."""
    try:
        if target[0] == "-m":
            sys.argv = [target[1], *target[2:]]
            sys.path[0] = os.getcwd()
            runpy.run_module(target[1], run_name="__main__", alter_sys=True)
        elif target[0] == "-c":
            sys.argv = ["-c", *target[2:]]
            sys.path[0] = ""
            exec(compile(target[1], "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        else:
            sys.argv = list(target)
            sys.path[0] = os.path.dirname(os.path.abspath(target[0]))
            if calls is not None and os.path.isfile(target[0]) and target[0].endswith(".py"):
                calls.run_script(target[0])  # (its own functions counted too)
            else:
                runpy.run_path(target[0], run_name="__main__")
    except SystemExit as exc:
        return (exc.code if isinstance(exc.code, int) else (0 if exc.code is None else _say(exc.code))), False
    except KeyboardInterrupt:
        return 130, False
    except BaseException:
        traceback.print_exc()
        return 1, True
    return 0, False


def _say(message: object) -> int:
    print(message, file=sys.stderr)
    return 1


def _is_pytest(target: list[str]) -> bool:
    if target[:2] == ["-m", "pytest"]:
        return True
    return bool(target) and target[0] not in ("-m", "-c") and os.path.basename(target[0]) in ("pytest", "py.test")
