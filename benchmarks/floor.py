"""The floor for a cold scan: libcst parses every file and resolves the
metadata that advisor's enabled rules declare (`needs`), nothing else.

Usage: python benchmarks/floor.py DIR [--jobs N] [--gc-paused]

``--gc-paused`` pauses Python's cyclic garbage collector around each parse,
as advisor's workers do (see advisor/analysis.py): the floor for a tool that
made the same choice.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("advisor") is None:  # not installed: use this checkout
    sys.path.insert(0, str(REPO))


def providers() -> tuple:
    from advisor.config import Config
    from advisor.engine.scan import select_rules
    from advisor.engine.analyse import _provider

    names = sorted({n for rule in select_rules(Config(root=REPO)) for n in rule.needs})
    return tuple(_provider(n) for n in names)


def parse(path: str) -> int:
    import libcst as cst
    from libcst.metadata import MetadataWrapper

    if GC_PAUSED:
        gc.disable()
    try:
        try:
            module = cst.parse_module(Path(path).read_bytes())
        except Exception:
            return 0
        wanted = PROVIDERS
        if wanted:
            MetadataWrapper(module, unsafe_skip_copy=True).resolve_many(wanted)
        return 1
    finally:
        gc.enable()


PROVIDERS: tuple = ()
GC_PAUSED = False


def _init(gc_paused: bool = False) -> None:
    global PROVIDERS, GC_PAUSED
    PROVIDERS = providers()
    GC_PAUSED = gc_paused


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", type=Path)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--gc-paused", action="store_true", help="pause the cyclic GC around each parse, as advisor does")
    args = parser.parse_args()
    files = [str(p) for p in sorted(args.directory.rglob("*.py"))]
    if args.jobs == 1:
        _init(args.gc_paused)
        parsed = sum(parse(f) for f in files)
    else:
        with ProcessPoolExecutor(args.jobs, initializer=_init, initargs=(args.gc_paused,)) as pool:
            parsed = sum(pool.map(parse, files, chunksize=16))
    gc_note = ", GC paused" if args.gc_paused else ""
    print(f"parsed {parsed}/{len(files)} files with providers {[p.__name__ for p in PROVIDERS]}{gc_note}")


if __name__ == "__main__":
    main()
