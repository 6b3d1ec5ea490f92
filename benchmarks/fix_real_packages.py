"""Try `advisor fix --rule lazy-imports` on real pure-Python packages.

For each package (pinned sdist from PyPI, downloaded with pip into
benchmarks/.work/, never committed): extract a fresh copy, run its test
suite, measure `import pkg` (median cumulative -X importtime of the package
and median wall time of the whole interpreter run), run
`advisor fix --rule lazy-imports`, check every file compiles, run the tests
and measure again; print a table.

    python benchmarks/fix_real_packages.py [--runs 9] [--only click]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from advisor.evidence.importtime import parse_importtime  # noqa: E402


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    module: str
    #: Directory (relative to the sdist root) that goes on sys.path.
    source: str
    #: Directory or file (relative to the sdist root) that `advisor fix` gets.
    fix: str
    tests: tuple[str, ...]


PACKAGES = [
    Package("click", "8.1.7", "click", "src", "src/click",
            ("-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestRemovedIn10Warning", "tests")),
    Package("bottle", "0.12.25", "bottle", ".", "bottle.py", ("-m", "unittest", "discover", "-s", "test", "-t", ".")),
    Package("Jinja2", "3.1.4", "jinja2", "src", "src/jinja2",
            ("-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning", "tests")),
    Package("Markdown", "3.7", "markdown", ".", "markdown", ("-m", "unittest", "discover", "-s", "tests", "-t", ".")),
    Package("sqlparse", "0.5.1", "sqlparse", ".", "sqlparse", ("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests")),
    Package("tabulate", "0.9.0", "tabulate", ".", "tabulate", ("-m", "pytest", "-q", "-p", "no:cacheprovider", "test")),
]


def download(package: Package) -> Path:
    """The sdist, downloaded once with pip (the ordinary client)."""
    target = WORK / "downloads"
    target.mkdir(parents=True, exist_ok=True)
    for found in target.glob("*.tar.gz"):
        if found.name.lower().startswith(f"{package.name.lower()}-{package.version}"):
            return found
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                    f"{package.name}=={package.version}", "-d", str(target)], check=True)
    return download(package)


def fresh_copy(package: Package, sdist: Path, side: str) -> Path:
    root = WORK / side / f"{package.name}-{package.version}"
    if root.exists():
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sdist) as archive:
        archive.extractall(root.parent, filter="data") if sys.version_info >= (3, 12) else archive.extractall(root.parent)
    extracted = next(p for p in root.parent.iterdir() if p.name.lower() == root.name.lower())
    if extracted != root:
        extracted.rename(root)
    if not (root / "pyproject.toml").exists():
        # Mark the project root (this sdist has no pyproject.toml): otherwise
        # the search for it would climb to the advisor repository around it.
        (root / "pyproject.toml").write_text(f'[project]\nname = "{package.name}"\n')
    return root


def env_for(root: Path, package: Package) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root / package.source)}


def run_tests(root: Path, package: Package) -> tuple[bool, str]:
    done = subprocess.run([sys.executable, *package.tests], cwd=root, env=env_for(root, package),
                          capture_output=True, text=True, timeout=1800)
    text = (done.stdout + done.stderr).strip().splitlines()
    summary = next((line for line in reversed(text) if " passed" in line or line.startswith(("OK", "FAILED", "Ran "))), "")
    if package.tests[1] == "unittest":
        ran = next((line for line in text if line.startswith("Ran ")), "")
        summary = f"{ran.removeprefix('Ran ').split(' in ')[0]} ({summary})" if ran else summary
    return done.returncode == 0, summary.strip("= ")


def import_once(root: Path, package: Package) -> tuple[float, float, dict[str, int]]:
    """(cumulative import ms of the package, wall ms, module -> self us) of one run."""
    argv = [sys.executable, "-X", "importtime", "-c", f"import {package.module}"]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=root, env=env_for(root, package), capture_output=True, text=True, check=True)
    wall = (time.perf_counter() - started) * 1000
    records = parse_importtime(done.stderr)
    top = [r for r in records if r.module == package.module]
    return (top[-1].cumulative_us / 1000 if top else 0.0), wall, {r.module: r.self_us for r in records}


def measure_ab(before: Path, after: Path, package: Package, runs: int) -> dict[str, object]:
    """Alternate runs of the original and the fixed copy, so that the load of a
    shared machine hits both sides alike; report medians."""
    import_once(before, package)  # warm up: write .pyc files on both sides
    import_once(after, package)
    sides: dict[str, list[tuple[float, float, dict[str, int]]]] = {"before": [], "after": []}
    for _ in range(runs):
        sides["before"].append(import_once(before, package))
        sides["after"].append(import_once(after, package))
    gone = set(sides["before"][0][2]) - set(sides["after"][0][2])
    gone_ms = statistics.median(sum(run[2].get(m, 0) for m in gone) / 1000 for run in sides["before"])
    ranked = sorted(gone, key=lambda m: -statistics.median(run[2].get(m, 0) for run in sides["before"]))
    return {
        "import ms before": statistics.median(r[0] for r in sides["before"]),
        "import ms after": statistics.median(r[0] for r in sides["after"]),
        "wall ms before": statistics.median(r[1] for r in sides["before"]),
        "wall ms after": statistics.median(r[1] for r in sides["after"]),
        "no longer loaded": ranked, "their self ms": gone_ms,
    }


def run_fix(root: Path, package: Package) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "advisor", "fix", package.fix, "--rule", "lazy-imports"],
                          cwd=root, capture_output=True, text=True, timeout=1800,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    lines = done.stdout.strip().splitlines()
    fixed = [line for line in lines if ": fixed: " in line]
    for line in fixed:
        print("   ", line)
    if done.returncode not in (0, 1):
        print(done.stdout[-2000:], done.stderr[-2000:])
    return len(fixed), (lines[-1] if lines else done.stderr.strip()[-200:])


def all_compile(root: Path, package: Package) -> bool:
    for path in (root / package.fix).rglob("*.py"):
        compile(path.read_bytes(), str(path), "exec")
    return True


def bench(package: Package, runs: int) -> dict[str, object]:
    print(f"== {package.name} {package.version}", flush=True)
    sdist = download(package)
    before = fresh_copy(package, sdist, "before")
    after = fresh_copy(package, sdist, "after")
    ok_before, tests_before = run_tests(before, package)
    fixes, summary = run_fix(after, package)
    compiled = all_compile(after, package)
    ok_after, tests_after = run_tests(after, package)
    print(f"    {summary}", flush=True)
    return {
        "package": f"{package.name} {package.version}", "fixes": fixes, "compiles": compiled,
        "tests before": ("pass " if ok_before else "FAIL ") + tests_before,
        "tests after": ("pass " if ok_after else "FAIL ") + tests_after,
        **measure_ab(before, after, package, runs),
    }


def print_table(rows: list[dict[str, object]]) -> None:
    print()
    print("| package | fixes | tests before | tests after | import before (ms) | import after (ms) | wall before (ms) | wall after (ms) | no longer loaded at import (self ms) |")
    print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        gone = list(row["no longer loaded"])  # type: ignore[call-overload]
        shown = ", ".join(gone[:5]) + (f" +{len(gone) - 5}" if len(gone) > 5 else "")
        print(f"| {row['package']} | {row['fixes']} | {row['tests before']} | {row['tests after']} | "
              f"{row['import ms before']:.1f} | {row['import ms after']:.1f} | {row['wall ms before']:.1f} | "
              f"{row['wall ms after']:.1f} | {shown or '-'} ({row['their self ms']:.1f}) |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9, help="import-time runs per side (median)")
    parser.add_argument("--only", action="append", help="package name(s) to run")
    args = parser.parse_args()
    chosen = [p for p in PACKAGES if not args.only or p.name in args.only]
    rows = [bench(p, args.runs) for p in chosen]
    print_table(rows)
    return 0 if all(str(r["tests after"]).startswith("pass") or r["tests before"] == r["tests after"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
