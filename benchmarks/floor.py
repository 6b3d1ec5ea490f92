"""The floor for a cold scan: libcst parses every file and resolves the
metadata that advisor's enabled rules declare (`needs`), nothing else.

Usage: python benchmarks/floor.py DIR [--jobs N]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("advisor") is None:  # not installed: use this checkout
    sys.path.insert(0, str(REPO))


def providers() -> tuple:
    from advisor.config import Config
    from advisor.engine import select_rules
    from advisor.analysis import _provider

    names = sorted({n for rule in select_rules(Config(root=REPO)) for n in rule.needs})
    return tuple(_provider(n) for n in names)


def parse(path: str) -> int:
    import libcst as cst
    from libcst.metadata import MetadataWrapper

    try:
        module = cst.parse_module(Path(path).read_bytes())
    except Exception:
        return 0
    wanted = PROVIDERS
    if wanted:
        MetadataWrapper(module, unsafe_skip_copy=True).resolve_many(wanted)
    return 1


PROVIDERS: tuple = ()


def _init() -> None:
    global PROVIDERS
    PROVIDERS = providers()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", type=Path)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    files = [str(p) for p in sorted(args.directory.rglob("*.py"))]
    if args.jobs == 1:
        _init()
        parsed = sum(parse(f) for f in files)
    else:
        with ProcessPoolExecutor(args.jobs, initializer=_init) as pool:
            parsed = sum(pool.map(parse, files, chunksize=16))
    print(f"parsed {parsed}/{len(files)} files with providers {[p.__name__ for p in PROVIDERS]}")


if __name__ == "__main__":
    main()
