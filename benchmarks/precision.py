"""Precision review: run rules on a pinned corpus of real open-source code.

A rule is only worth running if its findings are right, and the examples a
rule carries are written by the same person who wrote the rule. This script
checks rules against code nobody wrote for them: it downloads pinned
releases of well-known packages from PyPI (sync and async HTTP clients,
web frameworks, ORMs, a terminal renderer, a template engine, and
applications: pip, pylint, sphinx, tox; see PINNED, ~400k lines),
unpacks their Python sources under ``benchmarks/.work/corpus/`` (git-ignored,
never committed), scans them with ``advisor scan --format json --no-cache``
and writes each finding with three lines of context either side to
``benchmarks/.work/precision-<rule>.md``, one file per rule, ready to be
read and judged (tick ``[x] true positive`` or ``[x] false positive``).

Usage::

    python benchmarks/precision.py --rules missing-cache,concat-in-loop
    python benchmarks/precision.py --rules ALL --jobs 2
    python benchmarks/precision.py --rules quadratic-membership --offline

``--offline`` reuses the downloads already in ``benchmarks/.work/downloads``.
Downloads go through ``pip download`` (wheels by default, ``--sdist`` for
source distributions); the packages are never installed or imported. The
corpus gets its own empty ``pyproject.toml`` so that the scan uses default
settings, not this repository's ``[tool.advisor]``.

Exit code: 0 when the scan ran (findings or not), 1 when it could not.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
DOWNLOADS = WORK / "downloads"
CORPUS = WORK / "corpus"

#: (distribution, pinned version, top-level directories kept, or () for all).
#: Subsets keep the scan to a few minutes on two cores.
PINNED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("requests", "2.34.2", ()),  # sync HTTP
    ("httpx", "0.28.1", ()),  # sync + async HTTP
    ("flask", "3.1.3", ()),  # web framework
    ("werkzeug", "3.1.9", ()),  # WSGI toolkit, routing, parsing
    ("rich", "13.9.4", ()),  # string building, rendering tables
    ("jinja2", "3.1.6", ()),  # lexer, compiler: regexes and code generation
    ("click", "8.5.0", ()),  # CLI parsing
    ("django", "5.2.17", ("django/db/models", "django/core", "django/utils", "django/template")),  # ORM
    ("sqlalchemy", "2.0.54", ("sqlalchemy/engine",)),  # DB-API layer, async engine
    ("aiohttp", "3.14.3", ()),  # async HTTP client and server
    ("sphinx", "9.0.4", ("sphinx/util", "sphinx/builders", "sphinx/ext")),  # an application: files, config
    ("markdown", "3.11", ()),  # regex-driven text processing
    ("pip", "26.2.1", ("pip/_internal",)),  # an application: files, network, caching
    ("pylint", "4.1.1", ("pylint/checkers", "pylint/lint", "pylint/config")),  # AST walking, tables
    ("tox", "4.64.4", ()),  # an application: config, subprocesses
    ("babel", "2.18.0", ("babel/messages",)),  # message catalogs: parsing, string building
    # Applications (issue 17): what users run the rules on.
    ("datasette", "0.65.5", ("datasette",)),  # async web app over SQLite: SQL literals, awaits
    ("sqlite-utils", "4.2.1", ("sqlite_utils",)),  # data CLI: SQL text built per table, executemany
    ("litecli", "1.17.1", ("litecli",)),  # database CLI: cursors passed around
    ("csvkit", "2.2.0", ("csvkit",)),  # data scripts: per-row loops, membership tests
    ("httpie", "3.2.4", ("httpie",)),  # HTTP CLI
    ("django-cms", "5.1.3", ("cms",)),  # Django CMS: views, models, admin, template tags
    ("django-oscar", "4.2.1", ("oscar/apps",)),  # Django e-commerce app: ORM loops
    ("aiogram", "3.31.0", ("aiogram",)),  # async service framework (Telegram bots)
    ("mkdocs", "1.6.1", ("mkdocs",)),  # CLI application: config, files, plugins
)
CONTEXT = 3


def download(name: str, version: str, sdist: bool) -> Path:
    """``pip download`` one pinned release (no dependencies); return the archive."""
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    existing = _archive_for(name, version)
    if existing is not None:
        return existing
    binary = ["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:"]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", *binary,
               f"{name}=={version}", "-d", str(DOWNLOADS), "--quiet"]
    subprocess.run(command, check=True)
    found = _archive_for(name, version)
    if found is None:
        raise SystemExit(f"pip download {name}=={version} produced no archive in {DOWNLOADS}")
    return found


def _archive_for(name: str, version: str) -> Path | None:
    stem = name.lower().replace("-", "_")
    for path in sorted(DOWNLOADS.iterdir()) if DOWNLOADS.is_dir() else ():
        lowered = path.name.lower().replace("-", "_")
        if lowered.startswith(f"{stem}_{version}") and path.suffix in (".whl", ".gz", ".zip"):
            return path
    return None


def unpack(archive: Path, name: str, version: str, keep: tuple[str, ...], corpus: Path = CORPUS) -> Path:
    """Extract the .py files of ``archive`` (only under ``keep``) into ``corpus``."""
    target = corpus / f"{name}-{version}"
    if target.is_dir():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for member, data in _members(archive):
        parts = Path(member).parts
        if archive.suffix != ".whl":
            parts = _sdist_relative(parts)
        relative = "/".join(parts)
        if not relative.endswith(".py") or ".." in parts or not parts:
            continue
        if keep and not any(relative.startswith(k + "/") for k in keep):
            continue
        if keep == () and parts[0] in ("tests", "test", "docs", "examples"):
            continue
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    return target


def _members(archive: Path):  # type: ignore[no-untyped-def]
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    yield info.filename, zf.read(info)
    else:
        with tarfile.open(archive) as tf:
            for info in tf.getmembers():
                handle = tf.extractfile(info) if info.isfile() else None
                if handle is not None:
                    yield info.name, handle.read()


def _sdist_relative(parts: tuple[str, ...]) -> tuple[str, ...]:
    """Drop the ``name-version/`` prefix, and ``src/`` in src layouts."""
    parts = parts[1:]
    return parts[1:] if parts[:1] == ("src",) else parts


def build_corpus(offline: bool, sdist: bool) -> list[Path]:
    """Download (unless offline) and unpack every pinned package."""
    CORPUS.mkdir(parents=True, exist_ok=True)
    (CORPUS / "pyproject.toml").write_text("[tool.advisor]\n", "utf-8")
    roots = []
    for name, version, keep in PINNED:
        archive = _archive_for(name, version) if offline else download(name, version, sdist)
        if archive is None:
            print(f"skipping {name}=={version}: not downloaded (run without --offline)", file=sys.stderr)
            continue
        roots.append(unpack(archive, name, version, keep))
    return roots


def run_scan(roots: list[Path], rules: str, jobs: int | None) -> dict:  # type: ignore[type-arg]
    """Run ``advisor scan`` in a subprocess, as a user would; return the JSON report."""
    command = [sys.executable, "-m", "advisor", "scan", "--format", "json", "--no-cache",
               "--no-measure", "--select", rules, *map(str, roots)]
    if jobs:
        command += ["--jobs", str(jobs)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=CORPUS)
    if done.returncode not in (0, 1, 2) or not done.stdout.strip():
        sys.stderr.write(done.stderr)
        raise SystemExit(f"advisor scan failed with exit code {done.returncode}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def context(path: Path, line: int, end_line: int) -> str:
    """The finding's lines with CONTEXT lines either side, numbered, marked with >>."""
    try:
        lines = path.read_text("utf-8", errors="replace").splitlines()
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    first, last = max(1, line - CONTEXT), min(len(lines), max(line, end_line) + CONTEXT)
    out = []
    for number in range(first, last + 1):
        mark = ">>" if line <= number <= max(line, end_line) else "  "
        out.append(f"{mark}{number:5d}  {lines[number - 1]}")
    return "\n".join(out)


def _corpus_path(finding: dict) -> Path:  # type: ignore[type-arg]
    """Report paths are relative to the corpus root (the scan's cwd)."""
    return (CORPUS / finding["path"]).resolve()


def write_review(rule: str, findings: list[dict], report: dict) -> Path:  # type: ignore[type-arg]
    """One markdown file per rule: a summary, then every finding with context."""
    out = WORK / f"precision-{rule}.md"
    per_package = Counter(_corpus_path(f).relative_to(CORPUS).parts[0] for f in findings)
    head = [
        f"# Precision review: `{rule}`",
        "",
        f"{len(findings)} findings in {report['summary']['files']} files "
        f"({report['summary']['errors']} files not analysed).",
        "",
        *(f"- {pkg}: {n}" for pkg, n in sorted(per_package.items())),
        "",
    ]
    body = []
    for index, finding in enumerate(findings, 1):
        path = _corpus_path(finding)
        shown = path.relative_to(CORPUS).as_posix()
        body += [
            f"## {index}. {shown}:{finding['line']}",
            "",
            f"> {finding['message']}",
            "",
            "```python",
            context(path, finding["line"], finding.get("end_line") or finding["line"]),
            "```",
            "",
            "- [ ] true positive  - [ ] false positive  — note:",
            "",
        ]
    out.write_text("\n".join(head + body), "utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", required=True, help="comma-separated rule ids (or ALL)")
    parser.add_argument("--offline", action="store_true", help="reuse downloads, fetch nothing")
    parser.add_argument("--sdist", action="store_true", help="download source distributions instead of wheels")
    parser.add_argument("--jobs", "-j", type=int, help="worker processes for the scan")
    args = parser.parse_args(argv)
    roots = build_corpus(args.offline, args.sdist)
    if not roots:
        print("no corpus: nothing downloaded", file=sys.stderr)
        return 1
    report = run_scan(roots, args.rules, args.jobs)
    for error in report["errors"]:
        print(f"not analysed: {error['path']}: {error['kind']}: {error['message']}", file=sys.stderr)
    wanted = [r.strip() for r in args.rules.split(",") if r.strip()]
    if wanted == ["ALL"]:
        wanted = sorted(report["summary"]["rules"]) if isinstance(report["summary"]["rules"], list) else []
        wanted = wanted or sorted({f["rule"] for f in report["findings"]})
    for rule in wanted:
        findings = sorted((f for f in report["findings"] if f["rule"] == rule),
                          key=lambda f: (f["path"], f["line"]))
        out = write_review(rule, findings, report)
        print(f"{rule}: {len(findings)} findings -> {out.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
