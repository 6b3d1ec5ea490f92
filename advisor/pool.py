"""Worker processes with a per-file time limit and crash isolation.

Why not concurrent.futures: one worker killed by a segfault (libcst on
pathologically nested input) breaks a ProcessPoolExecutor for every other
task, and a stuck task cannot be cancelled. Here a worker that dies or runs
past the limit is replaced, and only its file is reported.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from advisor.findings import FileError, FileResult

if TYPE_CHECKING:
    from multiprocessing.connection import Connection


@dataclass(frozen=True)
class Task:
    """One file to analyse."""

    path: Path
    display: str
    module: str
    data: bytes
    #: Also outline the file for static ranking (see advisor.rank.outline.FileIndex).
    outline: bool = False


def _worker_main(conn: "Connection", rule_paths: list[str], extra_rules: list[Any], config: Any) -> None:
    from advisor.engine.analyse import analyse_file
    from advisor.registry import load_class

    rules = [load_class(p) for p in rule_paths] + list(extra_rules)
    while True:
        try:
            task = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if task is None:
            return
        try:
            result = analyse_file(task.path, task.display, task.module, rules, config, data=task.data,
                                  outline=task.outline)
        except BaseException as exc:  # never let one file end the worker silently
            error = FileError(task.display, "crash", f"internal error: {type(exc).__name__}: {exc}")
            result = FileResult(task.display, errors=(error,))
        conn.send_bytes(_encode(result))


def _encode(result: FileResult) -> "bytes | memoryview":
    """The pickled result; a rule whose findings or facts cannot be pickled
    (a plugin storing a lambda, say) loses them and is reported, instead of
    killing the worker with a traceback on the user's terminal."""
    from dataclasses import replace
    from multiprocessing.reduction import ForkingPickler

    try:
        return ForkingPickler.dumps(result)
    except Exception:
        pass
    bad: set[str] = set()
    for finding in result.findings:
        if not _picklable(finding):
            bad.add(finding.rule)
    bad.update(rule for rule, facts in result.facts.items() if not _picklable(facts))
    errors = tuple(e for e in result.errors if _picklable(e)) + tuple(
        FileError(result.path, "rule", f"rule {rule} crashed: its results cannot be pickled for the main process", rule)
        for rule in sorted(bad))
    kept = replace(result, findings=tuple(f for f in result.findings if f.rule not in bad),
                   facts={k: v for k, v in result.facts.items() if k not in bad}, errors=errors)
    try:
        return bytes(ForkingPickler.dumps(kept))
    except Exception as exc:
        error = FileError(result.path, "crash", f"internal error: the result cannot be pickled: {type(exc).__name__}: {exc}")
        return bytes(ForkingPickler.dumps(FileResult(result.path, errors=(error,))))


def _picklable(value: Any) -> bool:
    import pickle

    try:
        pickle.dumps(value)
        return True
    except Exception:
        return False


class _Worker:
    def __init__(self, context: Any, init_args: tuple[Any, ...]) -> None:
        parent, child = context.Pipe()
        self.conn: "Connection" = parent
        self.process = context.Process(target=_worker_main, args=(child, *init_args), daemon=True)
        self.process.start()
        child.close()
        self.task: Task | None = None
        self.deadline = 0.0

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.join(timeout=5)
        except Exception:
            pass
        self.conn.close()


def run_tasks(
    tasks: Iterable[Task],
    init_args: tuple[Any, ...],
    jobs: int,
    timeout: float,
    on_result: Callable[[Task, FileResult], None],
) -> None:
    """Analyse every task in ``jobs`` worker processes; call on_result for each.

    The largest files go first: a big file handed out last keeps one core
    busy while the others idle (on the benchmark corpus, one 3 MB table
    module started last was most of the tail)."""
    pending = sorted(tasks, key=lambda task: len(task.data))  # popped from the end: largest first
    if not pending:
        return
    import multiprocessing

    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    workers = [_Worker(context, init_args) for _ in range(max(1, min(jobs, len(pending))))]
    try:
        _loop(pending, workers, context, init_args, timeout, on_result)
    finally:
        for worker in workers:
            try:
                worker.conn.send(None)
            except (OSError, ValueError):
                pass
        for worker in workers:
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.kill()


def _loop(pending: list[Task], workers: list[_Worker], context: Any, init_args: tuple[Any, ...],
          timeout: float, on_result: Callable[[Task, FileResult], None]) -> None:
    from multiprocessing.connection import wait

    while True:
        for index, worker in enumerate(workers):
            if worker.task is None and pending:
                task = pending.pop()
                try:
                    worker.conn.send(task)
                except (OSError, ValueError):  # died while idle: replace and retry
                    worker.kill()
                    workers[index] = worker = _Worker(context, init_args)
                    worker.conn.send(task)
                worker.task, worker.deadline = task, time.monotonic() + timeout
        busy = [w for w in workers if w.task is not None]
        if not busy:
            return
        wait_for = max(0.0, min(w.deadline for w in busy) - time.monotonic())
        ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=wait_for)
        now = time.monotonic()
        for index, worker in enumerate(workers):
            task = worker.task
            if task is None:
                continue
            if worker.conn in ready or worker.process.sentinel in ready:
                try:
                    result = worker.conn.recv()
                except (EOFError, OSError):
                    worker.process.join(timeout=5)  # the pipe closes a moment before the exit status is known
                    code = worker.process.exitcode
                    reason = _signal_name(-code) if code is not None and code < 0 else f"exit code {code}"
                    result = FileResult(task.display, errors=(FileError(
                        task.display, "crash", f"the analysis process died ({reason}) on this file; the rest of the scan went on"),))
                    worker.kill()
                    workers[index] = _Worker(context, init_args)
                else:
                    worker.task = None
                on_result(task, result)
                if workers[index] is worker:
                    worker.task = None
            elif now >= worker.deadline:
                worker.kill()
                workers[index] = _Worker(context, init_args)
                on_result(task, FileResult(task.display, errors=(FileError(
                    task.display, "timeout", f"analysis took longer than {timeout:g} s and was stopped (raise `timeout` in [tool.advisor])"),)))


def _signal_name(number: int) -> str:
    """'signal 11 (SIGSEGV)': the name tells a crash (SEGV) from a kill (KILL)."""
    import signal

    try:
        return f"signal {number} ({signal.Signals(number).name})"
    except ValueError:
        return f"signal {number}"


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
