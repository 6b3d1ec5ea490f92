"""advisor against its peers and the libcst floor, on the same files, in one run.

Usage: python benchmarks/peers.py [--runs N] [--skip-peers] [--jobs N]

1. Downloads a pinned corpus of real code from PyPI (wheels of pure-Python
   packages, which carry the source) into
   benchmarks/.work/corpus (git-ignored; never committed) and keeps only the
   packages' own source (tests and docs dropped).
2. Installs each peer in its own venv under benchmarks/.work/venvs:
   Fixit, pylint + perflint, Ruff (pinned).
3. Times, on the same files: advisor cold (`--no-cache`), advisor warm (the
   result cache in place), Fixit (`fixit lint`), pylint with only perflint's
   checks, Ruff with PERF/TC/PLC0415, and the floor: libcst parse plus the
   metadata the enabled rules declare, in one process and with all cores
   (each cold run of advisor alternates with a run of the floor, so both
   see the same machine load), and once more with Python's cyclic GC paused
   around each parse, as advisor's workers do. Also `advisor --help`
   against `python -c pass`.
4. Prints medians over --runs and the ratios advisor/peer.

advisor runs with --no-measure so that every tool does the same job (static
analysis); measuring import costs is cached per module and is not part of a
repeated scan.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "benchmarks" / ".work"
CORPUS = WORK / "peers-corpus"
VENVS = WORK / "venvs"

#: name==version -> the source directories kept from the sdist.
PACKAGES = {
    "Django==5.1.4": ["django"],
    "SQLAlchemy==2.0.36": ["lib/sqlalchemy"],
    "rich==13.9.4": ["rich"],
    "httpx==0.28.1": ["httpx"],
    "flask==3.1.0": ["src/flask"],
    "requests==2.32.3": ["src/requests"],
    "black==24.10.0": ["src/black", "src/blib2to3"],
    "pip==24.3.1": ["src/pip"],
    "Pygments==2.18.0": ["pygments"],
    "Sphinx==8.1.3": ["sphinx"],
    "docutils==0.21.2": ["docutils"],
    "setuptools==75.6.0": ["setuptools"],
    "networkx==3.4.2": ["networkx"],
}
PEERS = {
    "fixit": ["fixit==2.1.0"],
    "pylint": ["pylint==3.3.2", "perflint==0.8.1"],
    "ruff": ["ruff==0.8.4"],
}


def fetch_corpus() -> Path:
    """Download the pinned wheels (pure-Python source inside) and keep the packages' code."""
    missing = {spec: keep for spec, keep in PACKAGES.items() if not (CORPUS / spec.split("==")[0].lower()).is_dir()}
    if not missing:
        return CORPUS
    downloads = WORK / "wheels"
    downloads.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
                    "-d", str(downloads), *missing], check=True)
    CORPUS.mkdir(parents=True, exist_ok=True)
    for spec, keep in missing.items():
        name, version = spec.split("==")
        (wheel,) = [w for w in downloads.glob("*.whl") if w.name.lower().startswith(f"{name.lower()}-{version}-")]
        unpacked = WORK / "unpacked" / name.lower()
        zipfile.ZipFile(wheel).extractall(unpacked)
        for part in keep:
            target = CORPUS / name.lower() / Path(part).name
            shutil.copytree(unpacked / Path(part).name, target, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("tests", "test", "testing", "docs"))
    return CORPUS


def peer_venv(name: str) -> Path:
    venv = VENVS / name
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *PEERS[name]], check=True)
    return venv / "bin"


def _findings_exit(code: int) -> bool:
    """0 (clean) or 1 (findings): advisor, Fixit, Ruff."""
    return code in (0, 1)


def _advisor_exit(code: int) -> bool:
    """advisor: 0 clean, 1 findings, 2 some files had errors (syntax errors in
    the corpus; the summary is printed once after the runs)."""
    return code in (0, 1, 2)


def _pylint_exit(code: int) -> bool:
    """pylint's exit code is a bit mask: 1 = fatal (a file it could not even
    parse), 32 = usage error. Either means the run did not do the work."""
    return not code & (1 | 32)


def timed(argv: list[str], cwd: Path = REPO, accept: "Callable[[int], bool]" = _findings_exit) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if not accept(result.returncode):
        raise SystemExit(f"{argv[0]} failed ({result.returncode}): {(result.stdout + result.stderr)[-2000:]}")
    return elapsed


def median(argv: list[str], runs: int, accept: "Callable[[int], bool]" = _findings_exit) -> float:
    return statistics.median(timed(argv, accept=accept) for _ in range(runs))


def perflint_ids(bin_dir: Path) -> str:
    listing = subprocess.run([str(bin_dir / "pylint"), "--load-plugins=perflint", "--list-msgs"], capture_output=True, text=True).stdout
    ids = sorted(set(re.findall(r"\(([WRCE]8\d{3})\)", listing)))
    if not ids:
        raise SystemExit("could not list perflint's messages")
    return ",".join(ids)


def pylint_seconds(bin_dir: Path, corpus: Path, jobs: int) -> float:
    """pylint + perflint over the corpus, one run per package. pylint's
    parallel mode aborts the whole run when astroid fails on one file; a
    package where that happens is run again with --jobs=1, where pylint
    reports the file (astroid-error) and checks the rest."""
    base = [str(bin_dir / "pylint"), "--load-plugins=perflint", "--disable=all", f"--enable={perflint_ids(bin_dir)}",
            "--recursive=y"]
    total = 0.0
    for package in sorted(p for p in corpus.iterdir() if p.is_dir() and not p.name.startswith(".")):
        started = time.perf_counter()
        result = subprocess.run([*base, f"--jobs={jobs}", str(package)], capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if not _pylint_exit(result.returncode) and "Traceback" in result.stderr:
            started = time.perf_counter()
            result = subprocess.run([*base, "--jobs=1", str(package)], capture_output=True, text=True)
            seconds = time.perf_counter() - started
            failed = result.stdout.count("astroid-error") + result.stdout.count("(fatal)")
            print(f"  pylint: astroid failed in {package.name}; ran it with --jobs=1 ({failed} file(s) reported)", flush=True)
        elif not _pylint_exit(result.returncode):
            raise SystemExit(f"pylint failed on {package} ({result.returncode}): {(result.stdout + result.stderr)[-2000:]}")
        total += seconds
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-peers", action="store_true", help="only advisor and the floor")
    parser.add_argument("--only", default="advisor,floor,fixit,pylint,ruff,help",
                        help="comma-separated subset to time (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--peer-runs", type=int, help="runs for Fixit and pylint (default: --runs; each takes minutes)")
    parser.add_argument("--corpus", type=Path, help="time on this directory instead of the pinned corpus")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if args.skip_peers:
        only -= {"fixit", "pylint", "ruff"}
    corpus = args.corpus.resolve() if args.corpus else fetch_corpus()
    files = sum(1 for _ in corpus.rglob("*.py"))
    lines = sum(p.read_bytes().count(b"\n") for p in corpus.rglob("*.py"))
    print(f"corpus: {files} files, {lines} lines in {corpus}", flush=True)
    count = subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from advisor.engine.discover import discover;"
                            "print(sum(1 for _ in discover([Path(sys.argv[1])], Path.cwd(), ())))", str(corpus)],
                           capture_output=True, text=True, cwd=REPO).stdout.strip()
    print(f"advisor scans {count} of them (default excludes)", flush=True)
    script = Path(sys.executable).parent / "advisor"  # the installed command, as users run it
    command = [str(script)] if script.exists() else [sys.executable, "-m", "advisor"]
    advisor = [*command, "scan", str(corpus), "-q", "--no-measure", "--jobs", str(args.jobs)]
    cache = corpus / ".advisor"
    results: dict[str, float] = {}

    def record(name: str, seconds: float) -> None:
        results[name] = seconds
        print(f"{name:<26} {seconds:>9.3f} s (median)", flush=True)

    slow_runs = args.peer_runs or args.runs
    floor = [sys.executable, str(REPO / "benchmarks" / "floor.py"), str(corpus)]
    floor_n = f"floor, {args.jobs} processes"
    pairs: list[float] = []
    if "advisor" in only:
        shutil.rmtree(cache, ignore_errors=True)
        # cold runs alternate with the floor on the same cores, so both see the same machine load
        cold_runs, floor_runs = [], []
        for _ in range(args.runs):
            cold_runs.append(timed(advisor + ["--no-cache"], accept=_advisor_exit))
            if "floor" in only:
                floor_runs.append(timed(floor + ["--jobs", str(args.jobs)]))
                pairs.append(cold_runs[-1] / floor_runs[-1])
        record("advisor cold", statistics.median(cold_runs))
        if floor_runs:
            record(floor_n, statistics.median(floor_runs))
        timed(advisor, accept=_advisor_exit)  # populate the cache
        record("advisor warm", median(advisor, args.runs, accept=_advisor_exit))
        as_json = [a for a in advisor if a != "-q"] + ["--format", "json"]
        summary = json.loads(subprocess.run(as_json, capture_output=True, text=True).stdout)["summary"]
        print(f"  advisor: {summary['files']} files, {summary['findings']} findings, {summary['errors']} file errors", flush=True)
        shutil.rmtree(cache, ignore_errors=True)
    if "floor" in only:
        if floor_n not in results:
            record(floor_n, median(floor + ["--jobs", str(args.jobs)], args.runs))
        record(f"{floor_n}, GC paused", median(floor + ["--jobs", str(args.jobs), "--gc-paused"], args.runs))
        record("floor, 1 process", median(floor + ["--jobs", "1"], args.runs))
    if "fixit" in only:
        fixit = peer_venv("fixit")
        record("fixit", median([str(fixit / "fixit"), "lint", str(corpus)], slow_runs))
    if "pylint" in only:
        pylint = peer_venv("pylint")
        record("pylint+perflint", statistics.median(pylint_seconds(pylint, corpus, args.jobs) for _ in range(slow_runs)))
    if "ruff" in only:
        ruff = peer_venv("ruff")
        record("ruff PERF,TC,PLC0415", median([str(ruff / "ruff"), "check", "--no-cache", "--select", "PERF,TC,PLC0415",
                                               "--exit-zero", str(corpus)], args.runs))
    if "help" in only:
        record("python -c pass", median([sys.executable, "-c", "pass"], max(args.runs, 10)))
        record("advisor --help", median([*command, "--help"], max(args.runs, 10)))
    summarize(results, args.jobs, pairs)


def summarize(results: dict[str, float], jobs: int, pairs: list[float]) -> None:
    cold = results.get("advisor cold")
    if cold:
        print(f"\n{'what':<26} {'median s':>9} {'advisor cold / this':>20}")
        for name, seconds in results.items():
            print(f"{name:<26} {seconds:>9.3f} {cold / seconds:>19.2f}x")
        floor_n = results.get(f"floor, {jobs} processes")
        if floor_n:
            print(f"\ncold / floor (same cores): {cold / floor_n:.2f}x")
        if pairs:
            print(f"cold / floor, run by run (each cold run next to a floor run): median {statistics.median(pairs):.2f}x, "
                  f"runs {', '.join(f'{p:.2f}' for p in pairs)}")
        paused = results.get(f"floor, {jobs} processes, GC paused")
        if paused:
            print(f"cold / floor with the GC paused as advisor does: {cold / paused:.2f}x")
        print(f"cold / warm: {cold / results['advisor warm']:.1f}x")
        for peer in ("fixit", "pylint+perflint", "ruff PERF,TC,PLC0415"):
            if peer in results:
                print(f"{peer} / advisor cold: {results[peer] / cold:.2f}x")
    if "advisor --help" in results:
        print(f"--help / python -c pass: {results['advisor --help'] / results['python -c pass']:.2f}x")


if __name__ == "__main__":
    main()
