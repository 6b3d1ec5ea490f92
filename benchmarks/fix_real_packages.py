"""Try `advisor fix --rule lazy-imports` on real packages, apps and CLIs among
them, and compare what advisor claims with what a real run shows.

For each package (pinned sdist, downloaded with pip into benchmarks/.work/,
never committed): extract two fresh copies, run its test suite on both (the
second after the fix) and the formatter checks (black, ruff format) where the
original passes them, scan one copy (`advisor scan --format json`: the saving
the scan claims for the measured entry, `fixable_saving_ms` of that entry),
fix it (`advisor fix`: the saving the fix claims for that entry, from its
"expected startup saving" lines), then time the entry's import on the two
copies alternately, run by run (`advisor.evidence.interleave`: best, median,
noise, "no measurable change"), and take one `-X importtime` log of each to
list the modules no longer loaded and their self time (the deterministic
figure the claims are compared with: within 30 % or 10 ms; and the claim
against the wall-time saving, the median of the paired differences). A written file
whose module the entry loads but whose deferred modules all still load
"removed nothing" and is counted. The entry measured is the one the scan
claims the largest fixable saving for (the package's default entry when none).

Dependencies come from a virtualenv at benchmarks/.work/venv (create it with
the packages installed: see --help); each copy is put first on PYTHONPATH, so
the copy is what runs.

    python -m venv benchmarks/.work/venv
    benchmarks/.work/venv/bin/pip install litecli==1.17.1 csvkit==2.2.0 datasette==0.65.5 \\
        sqlparse==0.5.1 tabulate==0.9.0 sqlite-utils==3.37 yamllint==1.35.1 cookiecutter==2.6.0 \\
        twine==5.1.1 pgcli==4.1.0 pytest pytest-asyncio pytest-mock freezegun pretend hypothesis \\
        cogapp responses build
    python benchmarks/fix_real_packages.py [--runs 9] [--only litecli] [--fresh]

The entry is timed as `python -c "import <its modules>"` (the table names the
command): only the import, never the program's own work, so a deferral into
a function every real run calls (csvkit's `SQL2CSV.main()`) counts as paid
here. The claims come from closures advisor measured when it scanned;
a claim and this run's figures agree only as far as the machine's load did
between the two (`--fresh` measures both in one run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
REPO = HERE.parent
VENV_PYTHON = WORK / "venv" / "bin" / "python"
sys.path.insert(0, str(REPO))

from advisor.evidence.importtime import parse_importtime  # noqa: E402
from advisor.evidence.interleave import interleave  # noqa: E402


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    #: The module the default entry imports first (a console script's module, or the package);
    #: the entry measured is the one the scan claims the largest fixable saving for.
    entry_module: str
    #: The startup model's name of that default entry.
    entry_name: str
    #: Directory (relative to the sdist root) that goes on sys.path.
    source: str
    #: Directory (relative to the sdist root) that `advisor fix` gets.
    fix: str
    tests: tuple[str, ...]
    #: Extra `advisor` arguments (an --entry the package declares in a way no static reading finds).
    advisor_args: tuple[str, ...] = ()


PYTEST = ("-m", "pytest", "-q", "-p", "no:cacheprovider")
PACKAGES = [
    Package("litecli", "1.17.1", "litecli.main", "console script `litecli`", ".", "litecli", (*PYTEST, "tests")),
    Package("csvkit", "2.2.0", "csvkit.utilities.csvcut", "`csvkit.utilities.csvcut:launch_new_instance`", ".", "csvkit",
            (*PYTEST, "tests"), ("--entry", "csvkit.utilities.csvcut:launch_new_instance")),
    Package("datasette", "0.65.5", "datasette.cli", "console script `datasette`", ".", "datasette",
            # (the sdist's tests/ has no __init__.py: the files with relative imports cannot run)
            (*PYTEST, "tests/test_utils.py", "tests/test_cli_serve_get.py", "tests/test_internals_request.py",
             "tests/test_internals_response.py", "tests/test_internals_urls.py", "tests/test_routes.py",
             "tests/test_package.py")),
    Package("sqlparse", "0.5.1", "sqlparse", "`import sqlparse`", ".", "sqlparse", (*PYTEST, "tests")),
    Package("tabulate", "0.9.0", "tabulate", "`import tabulate`", ".", "tabulate", (*PYTEST, "test")),
    # CLIs whose every run pays their startup (`-o addopts=`: the sdist's pytest config asks for plugins
    # (pytest-cov, pytest-socket) the suite itself does not need).
    Package("sqlite-utils", "3.37", "sqlite_utils.cli", "console script `sqlite-utils`", ".", "sqlite_utils",
            (*PYTEST, "tests")),
    Package("yamllint", "1.35.1", "yamllint.cli", "console script `yamllint`", ".", "yamllint", (*PYTEST, "tests")),
    Package("cookiecutter", "2.6.0", "cookiecutter.__main__", "console script `cookiecutter`", ".", "cookiecutter",
            (*PYTEST, "-o", "addopts=", "tests")),
    Package("twine", "5.1.1", "twine.__main__", "console script `twine`", ".", "twine",
            # (tests/test_integration.py clones a repository from the network)
            (*PYTEST, "-o", "addopts=", "tests", "--ignore=tests/test_integration.py")),
    Package("pgcli", "4.1.0", "pgcli.main", "console script `pgcli`", ".", "pgcli",
            # (tests/test_ssh_tunnel.py needs sshtunnel; the tests that need a PostgreSQL server skip themselves)
            (*PYTEST, "tests", "--ignore=tests/test_ssh_tunnel.py")),
]


def download(package: Package) -> Path:
    """The sdist, downloaded once with pip (the ordinary client)."""
    target = WORK / "downloads"
    target.mkdir(parents=True, exist_ok=True)
    for found in target.glob("*.tar.gz"):
        if _normal(found.name).startswith(_normal(f"{package.name}-{package.version}")):
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
    extracted = next(p for p in root.parent.iterdir() if _normal(p.name) == _normal(root.name))
    if extracted != root:
        extracted.rename(root)
    if not (root / "pyproject.toml").exists():
        # Mark the project root (this sdist has no pyproject.toml): otherwise
        # the search for it would climb to the advisor repository around it.
        (root / "pyproject.toml").write_text(f'[project]\nname = "{package.name}"\n')
    return root


def _normal(name: str) -> str:
    """Names compared as pip spells sdists (``sqlite_utils-3.37`` for sqlite-utils 3.37)."""
    return name.lower().replace("-", "_")


def env_for(root: Path, package: Package) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root / package.source), "PYTHONDONTWRITEBYTECODE": ""}


def run_tests(root: Path, package: Package) -> tuple[bool, str]:
    done = subprocess.run([str(VENV_PYTHON), *package.tests], cwd=root, env=env_for(root, package),
                          capture_output=True, text=True, timeout=3600)
    text = (done.stdout + done.stderr).strip().splitlines()
    summary = next((line for line in reversed(text) if " passed" in line or " failed" in line or " error" in line), "")
    return done.returncode == 0, summary.strip("= ")


def formatters(root: Path, package: Package) -> dict[str, bool]:
    """black --check / ruff format --check on the fixed directory: name -> passes."""
    found = {}
    for name, argv in (("black", ["-m", "black", "--check", "-q", package.fix]),
                       ("ruff format", ["-m", "ruff", "format", "--check", "-q", package.fix])):
        done = subprocess.run([sys.executable, *argv], cwd=root, capture_output=True, text=True)
        if done.returncode in (0, 1):  # 2+: the tool is missing or broke
            found[name] = done.returncode == 0
    return found


def advisor(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ADVISOR_CACHE_DIR": str(WORK / "advisor-cache")}
    return subprocess.run([sys.executable, "-m", "advisor", *args, "--python", str(VENV_PYTHON)], cwd=root,
                          capture_output=True, text=True, timeout=3600, env=env)


def scan_claim(root: Path, package: Package) -> tuple[dict[str, object], int]:
    """The entry to measure (the one whose fixable saving the scan puts highest,
    else the package's default) as the JSON summary lists it, and the finding count."""
    done = advisor(root, "scan", package.fix, "--select", "lazy-imports", "--format", "json", *package.advisor_args)
    report = json.loads(done.stdout)
    entries = report["summary"].get("startup_entries", [])
    best = max(entries, key=lambda e: (e["fixable_saving_ms"], e["name"] == package.entry_name), default=None)
    if best is None or not best["fixable_saving_ms"]:
        best = next((e for e in entries if e["name"] == package.entry_name),
                    {"name": package.entry_name, "roots": [package.entry_module], "saving_ms": None,
                     "fixable_saving_ms": None})
    return best, len(report["findings"])


def run_fix(root: Path, package: Package, entry_name: str) -> tuple[list[str], float | None, str]:
    """(lines of written fixes, the saving fix claims for the entry, fix's summary line)."""
    done = advisor(root, "fix", package.fix, "--rule", "lazy-imports", *package.advisor_args)
    lines = done.stdout.strip().splitlines()
    fixed = [line for line in lines if ": fixed: " in line]
    claim = None
    for line in lines:
        if line.startswith(f"  {entry_name}: ~"):
            claim = float(line.split(": ~", 1)[1].split(" ms")[0])
    if done.returncode not in (0, 1):
        print(done.stdout[-2000:], done.stderr[-2000:])
    summary = next((line for line in lines if line.startswith("advisor fix")), done.stderr.strip()[-200:])
    return fixed, (claim if claim is not None else (0.0 if not fixed else None)), summary


def import_code(roots: list[str]) -> str:
    return "; ".join(f"import {r}" for r in roots)


def import_log(root: Path, package: Package, roots: list[str]) -> dict[str, int]:
    done = subprocess.run([str(VENV_PYTHON), "-X", "importtime", "-c", import_code(roots)], cwd=root,
                          env=env_for(root, package), capture_output=True, text=True, check=True)
    return {r.module: r.self_us for r in parse_importtime(done.stderr)}


def measure(before: Path, after: Path, package: Package, runs: int, roots: list[str]) -> dict[str, object]:
    """Interleaved wall times of `python -c "import <entry>"` (best, median, noise) and the
    modules no longer loaded, with their self time (median over several logs of `before`)."""
    import time

    def side(root: Path):
        def once() -> float:
            started = time.perf_counter()
            subprocess.run([str(VENV_PYTHON), "-c", import_code(roots)], cwd=root,
                           env=env_for(root, package), check=True, capture_output=True)
            return (time.perf_counter() - started) * 1000
        return once

    comparison = interleave(side(before), side(after), runs)
    logs_before = [import_log(before, package, roots) for _ in range(5)]
    log_after = import_log(after, package, roots)
    gone = set(logs_before[0]) - set(log_after)
    # Each module's fastest self time over the logs: the statistic the claims are made
    # of (the closure store keeps each module's fastest of its runs). A figure no single
    # run shows, so the best and the median whole log are shown beside it.
    gone_ms = sum(min(log.get(m, 0) for log in logs_before) for m in gone) / 1000
    sums = [sum(log.get(m, 0) for m in gone) / 1000 for log in logs_before]
    ranked = sorted(gone, key=lambda m: -logs_before[0].get(m, 0))
    total_ms = min(sum(log.values()) for log in logs_before) / 1000  # the entry's import, all self times
    return {"comparison": comparison, "gone": ranked, "gone_ms": gone_ms, "gone_best_log": min(sums),
            "gone_median": statistics.median(sums), "load": os.getloadavg()[0], "loaded_after": set(log_after),
            "total_ms": total_ms, "timed": f'python -c "{import_code(roots)}"'}


def removed_nothing(fixed: list[str], after: Path, package: Package, measured: dict[str, object]) -> list[str]:
    """Written files whose module the entry loads, yet whose deferred modules all still load."""
    files = sorted({line.split(":", 1)[0] for line in fixed})
    found = []
    for path in files:
        module = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        statements = [line.split("`")[1] for line in fixed if line.startswith(path + ":") and "`" in line]
        deferred = set()
        for statement in statements:
            parts = statement.split()
            deferred.add(parts[1])
            if parts[0] == "from":
                deferred.update(f"{parts[1]}.{n.strip(',')}" for n in parts[3:])
        loaded = measured["loaded_after"]
        if module in loaded and not deferred & set(measured["gone"]):  # type: ignore[call-overload]
            found.append(path)
    return found


def bench(package: Package, runs: int) -> dict[str, object]:
    print(f"== {package.name} {package.version}", flush=True)
    sdist = download(package)
    before = fresh_copy(package, sdist, "before")
    after = fresh_copy(package, sdist, "after")
    ok_before, tests_before = run_tests(before, package)
    formatted_before = formatters(before, package)
    entry, findings = scan_claim(after, package)
    fixed, fix_claim, summary = run_fix(after, package, str(entry["name"]))
    for line in fixed:
        print("   ", line)
    print(f"    {summary}", flush=True)
    compiled = all(compile(p.read_bytes(), str(p), "exec") is not None for p in (after / package.fix).rglob("*.py"))
    ok_after, tests_after = run_tests(after, package)
    formatted_after = formatters(after, package)
    measured = measure(before, after, package, runs, list(entry["roots"]))  # type: ignore[call-overload]
    broken = [name for name, ok in formatted_before.items() if ok and not formatted_after.get(name, False)]
    return {
        "package": f"{package.name} {package.version}", "entry": entry["name"], "findings": findings,
        "fixes": len(fixed), "compiles": compiled, "scan claims": entry["fixable_saving_ms"], "scan all": entry["saving_ms"],
        "fix claims": fix_claim, "tests before": ("pass " if ok_before else "FAIL ") + tests_before,
        "tests after": ("pass " if ok_after else "FAIL ") + tests_after,
        "formatters": ", ".join(f"{n} {'kept' if n not in broken else 'BROKEN'}" for n, ok in formatted_before.items() if ok)
                      or "not formatted",
        "removed nothing": removed_nothing(fixed, after, package, measured), **measured,
    }


def agrees(claim: float | None, measured: float) -> str:
    if claim is None:
        return "-"
    return "yes" if abs(claim - measured) <= max(10.0, 0.3 * max(claim, measured)) else "NO"


def print_table(rows: list[dict[str, object]]) -> None:
    print()
    print("| package (entry) | findings | fixes | scan claims (ms) | fix claims (ms) | modules no longer loaded "
          "(self ms of 5 logs: each module's fastest, best log, median log) | claim agrees (with the median log: claims are each module's median of 3 union runs) | "
          "claim / median log | load | wall before best/median (ms) | wall after best/median (ms) | wall saving, noise | "
          "claim agrees with the wall saving | "
          "removed nothing | tests before -> after | formatters |")
    print("| --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- | --- |")
    for row in rows:
        comparison = row["comparison"]
        b, a = comparison.before, comparison.after  # type: ignore[attr-defined]
        gone = list(row["gone"])  # type: ignore[call-overload]
        shown = ", ".join(gone[:4]) + (f" +{len(gone) - 4}" if len(gone) > 4 else "")
        verdict = comparison.lines()[-1].strip() if comparison.lines() else ""  # type: ignore[attr-defined]
        claims = (row["scan claims"], row["fix claims"])
        print(f"| {row['package']} ({row['entry']}; timed: `{row['timed']}`) | {row['findings']} | {row['fixes']} | "
              f"{_ms(claims[0])} | {_ms(claims[1])} | {len(gone)}: {shown or '-'} ({row['gone_ms']:.1f}, "
              f"{row['gone_best_log']:.1f}, {row['gone_median']:.1f}) | {agrees(claims[1], row['gone_median'])} | "
              f"{_ratio(claims[1], row['gone_median'])} | {row['load']:.1f} | "
              f"{b.best_ms:.1f} / {b.median_ms:.1f} | {a.best_ms:.1f} / {a.median_ms:.1f} | "
              f"{verdict} | {wall_agrees(claims[1], comparison)} | "
              f"{', '.join(row['removed nothing']) or 'none'} | {row['tests before']} -> {row['tests after']} | "
              f"{row['formatters']} |")


def wall_agrees(claim: float | None, comparison: object) -> str:
    """The claim against the wall-time saving (median paired difference): where
    the runs show no measurable change, a claim within the noise agrees."""
    if claim is None:
        return "-"
    if not comparison.measurable:  # type: ignore[attr-defined]
        return "yes (within noise)" if claim <= comparison.noise_ms else "NO (no measurable change)"  # type: ignore[attr-defined]
    return agrees(claim, -comparison.change_ms)  # type: ignore[attr-defined]


def _ratio(claim: object, measured: object) -> str:
    return "-" if claim is None or not measured else f"{float(claim) / float(measured):.2f}"  # type: ignore[arg-type]


def print_shares(rows: list[dict[str, object]]) -> None:
    """Each package's saving as a share of its entry's import: measured wall
    (0 when within noise), the modules no longer loaded (of the best log's self
    times), and the fix's claim; then the medians (the figure the hidden set scores)."""
    wall, gone = [], []
    print()
    for row in rows:
        comparison, total = row["comparison"], float(row["total_ms"])  # type: ignore[arg-type]
        share = -comparison.change_ms / comparison.before.median_ms * 100 if comparison.measurable else 0.0  # type: ignore[attr-defined]
        gone_share = float(row["gone_ms"]) / total * 100 if total else 0.0  # type: ignore[arg-type]
        claim = row["fix claims"]
        wall.append(share)
        gone.append(gone_share)
        print(f"{row['package']}: wall {share:.0f} %, modules no longer loaded {gone_share:.0f} % of {total:.0f} ms, "
              f"fix claims {_ms(claim)} ms")
    if rows:
        print(f"median over {len(rows)} packages: wall {statistics.median(wall):.0f} %, "
              f"modules no longer loaded {statistics.median(gone):.0f} %")


def _ms(value: object) -> str:
    return "-" if value is None else f"{float(value):.1f}"  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9, help="interleaved timed runs per side")
    parser.add_argument("--only", action="append", help="package name(s) to run")
    parser.add_argument("--fresh", action="store_true",
                        help="drop advisor's cache first, so the closures behind the claims are measured in this run, "
                             "under the load the timings see (cached ones may come from a busier or quieter hour)")
    args = parser.parse_args()
    if args.fresh:
        shutil.rmtree(WORK / "advisor-cache", ignore_errors=True)
    if not VENV_PYTHON.exists():
        parser.error(f"{VENV_PYTHON} is missing: create it first (see the module docstring)")
    chosen = [p for p in PACKAGES if not args.only or p.name in args.only]
    rows = [bench(p, args.runs) for p in chosen]
    print_table(rows)
    print_shares(rows)
    return 0 if all(str(r["tests after"]).startswith("pass") or r["tests before"] == r["tests after"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
