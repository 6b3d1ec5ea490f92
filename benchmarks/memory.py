"""Peak memory of a scan as the tree grows (issue 8: "memory stays bounded
on a 100k-file tree").

Usage: python benchmarks/memory.py [--files N] [--jobs J] [--tracemalloc] [--keep DIR]

Generates N small modules (default 100000; one in ten has a lazy-imports
finding) in a temporary directory, and the same at N/10, then runs the real
CLI, ``advisor scan --no-measure --format json -o FILE``, cold (no cache) and
warm (unchanged tree, cache in place). For each run it prints the peak RSS
of the main process (getrusage RUSAGE_SELF), of the largest worker
(RUSAGE_CHILDREN: the biggest reaped child; its RSS includes the main
process's pages inherited at fork) and the largest private memory a worker
reached (sampled from /proc, Linux only), and main-process KB per file, so
growth with N shows. ``--tracemalloc`` also runs the cold scan in-process at N/10 under
tracemalloc and lists where the main process holds memory when all results
are in (the engine's ``_collect`` step) and where its peak came from.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: Runs the CLI in this process and reports its rusage to the file in $MEMORY_OUT.
#: A thread samples the workers' private memory (smaps_rollup), which, unlike
#: their RSS, leaves out the pages shared with the main process since fork.
WRAPPER = """
import glob, json, os, resource, sys, threading, time
from advisor.cli import main

private = {"max_kb": 0}

def sample():
    while True:
        for path in glob.glob(f"/proc/{os.getpid()}/task/*/children"):
            try:
                pids = open(path).read().split()
            except OSError:
                continue
            for pid in pids:
                try:
                    rollup = open(f"/proc/{pid}/smaps_rollup").read().splitlines()
                except OSError:
                    continue
                kb = sum(int(line.split()[1]) for line in rollup if line.startswith(("Private_Clean", "Private_Dirty")))
                private["max_kb"] = max(private["max_kb"], kb)
        time.sleep(0.2)

threading.Thread(target=sample, daemon=True).start()
try:
    code = main(sys.argv[1:])
finally:
    usage = {"self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
             "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
             "worker_private_kb": private["max_kb"]}
    with open(os.environ["MEMORY_OUT"], "w") as handle:
        json.dump(usage, handle)
sys.exit(code)
"""

PLAIN = '''"""Module {i}: a small, ordinary module."""

import os
from dataclasses import dataclass


@dataclass
class Record{i}:
    name: str
    size: int = {i}

    def label(self) -> str:
        return f"{{self.name}}:{{self.size}}"


def total_{i}(items):
    result = 0
    for item in items:
        result += len(os.fspath(item))
    return result
'''

COSTLY = '''"""Module {i}: defers nothing."""

import asyncio


def run_{i}(coro):
    return asyncio.run(coro)
'''


def generate(root: Path, files: int) -> None:
    """``files`` modules, 1000 per package directory."""
    for i in range(files):
        package = root / f"pkg{i // 1000:04d}"
        if i % 1000 == 0:
            package.mkdir(parents=True)
            (package / "__init__.py").write_text("")
        template = COSTLY if i % 10 == 0 else PLAIN
        (package / f"mod{i:06d}.py").write_text(template.format(i=i))


def measure(tree: Path, jobs: int | None) -> dict[str, float]:
    out = tree.parent / f"{tree.name}-rusage.json"
    command = [sys.executable, "-c", WRAPPER, "scan", "--no-measure", "--format", "json",
               "-o", str(tree.parent / f"{tree.name}-report.json"), "."]
    if jobs:
        command += ["--jobs", str(jobs)]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=tree, env=dict(os.environ, MEMORY_OUT=str(out)),
                            capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"scan failed ({result.returncode}): {result.stderr[-2000:]}")
    usage = json.loads(out.read_text())
    report = json.loads((tree.parent / f"{tree.name}-report.json").read_text())
    return {"seconds": seconds, "main_mb": usage["self_kb"] / 1024, "worker_mb": usage["children_kb"] / 1024,
            "worker_private_mb": usage.get("worker_private_kb", 0) / 1024,
            "findings": report["summary"]["findings"], "cached": report["summary"]["cached"],
            "files": report["summary"]["files"]}


def trace(tree: Path, jobs: int | None, top: int = 12) -> None:
    """Where the main process holds memory when every result is in."""
    import tracemalloc

    import advisor.engine.scan as engine
    from advisor.config import load_config, with_overrides

    snapshots = {}
    collect = engine._collect

    def traced_collect(*args, **kwargs):  # type: ignore[no-untyped-def]
        snapshots["results in"] = tracemalloc.take_snapshot()
        return collect(*args, **kwargs)

    engine._collect = traced_collect
    config = with_overrides(load_config(tree), measure_imports=False)
    cwd = os.getcwd()
    os.chdir(tree)
    tracemalloc.start(8)
    try:
        report = engine.scan([Path(".")], config, jobs=jobs, use_cache=False)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        os.chdir(cwd)
        engine._collect = collect
    print(f"\ntracemalloc, in-process cold scan of {report.files} files: "
          f"peak {peak / 2**20:.1f} MB traced, {current / 2**20:.1f} MB still held after scan()")
    stats = snapshots["results in"].statistics("lineno")
    print(f"held when all results are in ({sum(s.size for s in stats) / 2**20:.1f} MB), top {top} lines:")
    for stat in stats[:top]:
        frame = stat.traceback[0]
        print(f"  {stat.size / 2**20:7.2f} MB {stat.count:8d} blocks  {_short(frame.filename)}:{frame.lineno}")


def _short(filename: str) -> str:
    for marker in ("/advisor/", "/site-packages/", "/lib/python"):
        if marker in filename:
            return filename[filename.index(marker) + 1:]
    return filename


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100_000, help="files in the large tree (default 100000)")
    parser.add_argument("--jobs", type=int, help="worker processes (default: all cores)")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace the main process at N/10")
    parser.add_argument("--keep", type=Path, help="generate the trees here and keep them")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="advisor-memory-"))
    try:
        print(f"{'files':>8} {'run':5} {'seconds':>8} {'main MB':>8} {'worker MB':>9} {'private':>8} "
              f"{'main KB/file':>12} {'findings':>8} {'cached':>7}")
        for files in sorted({max(1, args.files // 10), args.files}):
            tree = base / f"tree{files}"
            if not tree.exists():
                generate(tree, files)
            shutil.rmtree(tree / ".advisor", ignore_errors=True)
            for run in ("cold", "warm"):
                m = measure(tree, args.jobs)
                print(f"{m['files']:8d} {run:5} {m['seconds']:8.1f} {m['main_mb']:8.1f} {m['worker_mb']:9.1f} {m['worker_private_mb']:8.1f} "
                      f"{m['main_mb'] * 1024 / m['files']:12.2f} {m['findings']:8d} {m['cached']:7d}", flush=True)
        if args.tracemalloc:
            trace(base / f"tree{max(1, args.files // 10)}", args.jobs)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
