"""Apply a rule's codemod to the files a scan flags, safely.

For each round: scan (the whole project, so project-wide safety facts such
as re-exports and ``mock.patch`` strings in tests are seen), keep the
findings inside the given paths, apply the codemod per file, ``compile()``
the result, and write it atomically in its own encoding, BOM, newline style
and mode. A file whose bytes changed since they were read for analysis is
skipped; nothing is written outside the given paths or through a symlink
that leads out of them. Rounds repeat (at most three) until a scan finds
nothing new to apply: deferring one import can make another worth deferring.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from advisor.atomic import atomic_write_bytes
from advisor.errors import UsageError
from advisor.fix import FixOptions, Outcome
from advisor.source import SourceError, decode_source, module_name, real_path

from advisor.findings import FileError, Finding, ScanReport

if TYPE_CHECKING:
    from advisor.rule import Rule
    from typing import Sequence

    from advisor.config import Config
    from advisor.rules.lazy_imports.explain import LeftAlone

    #: ``fix_source(text, findings, options) -> (new_text, outcomes)`` (see advisor.fix.CODEMODS).
    Codemod = Callable[[str, Sequence[Finding], FixOptions], tuple[str, list[Outcome]]]

MAX_ROUNDS = 3


@dataclass
class FileFix:
    """One file: its bytes before fixing, after, and what happened to each finding."""

    path: Path  # the real file (symlinks resolved) that is written
    display: str
    original: bytes
    fixed: bytes | None = None
    encoding: str = "utf-8"
    options: FixOptions = field(default_factory=FixOptions)
    #: Every finding applied to this file, over all rounds (for --verify).
    applied: list["Finding"] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    #: Why the file was not changed at all ("changed on disk since analysis").
    skipped: str = ""
    #: How the result was checked ("compile()" or the libcst parser).
    checked: str = ""
    #: Why the whole file went back to its original bytes after it was written
    #: (``fix --verify``'s startup check: the fix removed nothing).
    rolled_back: str = ""

    @property
    def changed(self) -> bool:
        return self.fixed is not None and self.fixed != self.original


@dataclass
class FixReport:
    """What ``advisor fix`` did, for the summary and the exit code."""

    rule: str
    files: dict[Path, FileFix] = field(default_factory=dict)
    errors: list["FileError"] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    rounds: int = 0
    written: bool = False
    #: Costly imports the rule kept where they are, and why (advisor.rules.lazy_imports.explain).
    left_alone: list[LeftAlone] = field(default_factory=list)
    #: The startup saving the written fixes should bring, per entry point, computed
    #: together on the startup model: {"name", "saving_ms", "total_ms"} (lazy-imports).
    expected: list[dict[str, object]] = field(default_factory=list)
    #: The startup model's entry points (name, modules it imports) and the project's
    #: source roots: what ``--verify`` imports to check that the fixes pay.
    entries: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    source_roots: list[Path] = field(default_factory=list)
    #: ``expected`` recomputed for the fixes still applied (after a rollback).
    expected_for: Callable[[list["Finding"]], list[dict[str, object]]] | None = None

    @property
    def changed(self) -> list[FileFix]:
        return [f for f in self.files.values() if f.changed]


@dataclass
class FixRequest:
    """The command line, as data."""

    paths: list[Path]
    rule: str = "lazy-imports"
    strategy: str | None = None
    unsafe: bool = False
    write: bool = True
    jobs: int | None = None
    use_cache: bool = True
    #: file path -> qualnames of hot functions (from a profile).
    hot: dict[str, frozenset[str]] = field(default_factory=dict)


def load_codemod(rule: str, config: "Config | None" = None) -> "Codemod":
    """The codemod the rule names (``Rule.codemod``); a usage error for a rule without one."""
    from advisor.config import Config
    from advisor.registry import all_rules

    rules = all_rules(config or Config(root=Path.cwd()), include_entry_points=config is not None)
    with_fix = sorted(rule_id for rule_id, cls in rules.items() if cls.codemod)
    if rule not in with_fix:
        raise UsageError(f"no fix for rule {rule!r} (rules with a fix: {', '.join(with_fix)})")
    return codemod_of(rules[rule])


def codemod_of(rule_class: "type[Rule]") -> "Codemod":
    """Import the codemod a rule class names ("module:function")."""
    module, _, name = rule_class.codemod.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def run_fix(request: FixRequest, config: "Config", progress: Callable[[str], None] | None = None) -> FixReport:
    """Scan, fix and (unless ``request.write`` is false) write, round after round."""
    from advisor.config import with_overrides

    codemod = load_codemod(request.rule, config)
    for given in request.paths:
        if not given.exists():
            raise UsageError(f"{given}: no such file or directory")
    roots = [_real_root(p) for p in request.paths]
    config = with_overrides(config, select=(request.rule,), ignore=())
    report = FixReport(rule=request.rule, written=request.write)
    snapshot = _snapshot(request.paths, config)
    scanned: ScanReport | None = None
    findings: list[Finding] = []
    if request.write:
        from advisor.fix.stale_temps import remove_stale_temps

        stale = remove_stale_temps(snapshot)
        if stale:
            report.notices.append(f"removed {len(stale)} temp file{'s' if len(stale) != 1 else ''} a killed run left")
    first: ScanReport | None = None
    for round_number in range(1, MAX_ROUNDS + 1):
        report.rounds = round_number
        scanned = _scan(request, config, roots, report, progress)
        first = first or scanned
        findings = [f for f in scanned.findings if f.rule == request.rule]
        applied_now = 0
        for path, group in _group(findings, roots, report).items():
            applied_now += _fix_file(path, group, codemod, request, config, snapshot, report)
        if not request.write or not applied_now:
            break
    if request.rule == "lazy-imports" and scanned is not None:
        failed = {e.path for e in report.errors}
        report.left_alone = _left_alone(request, config, roots, scanned, failed)
        report.expected = _expected(first, report)
    return report


def _expected(first: ScanReport | None, report: FixReport) -> list[dict[str, object]]:
    """What the applied fixes save per entry, on the first round's startup model;
    records the model's entries and how to recompute this after a rollback."""
    project = first.project() if first is not None else None
    applied = [f for entry in report.files.values() for f in entry.applied]
    if project is None or not applied:
        return []
    from advisor.rules.lazy_imports.savings import expected_by_entry
    from advisor.rules.lazy_imports.startup_model import startup_model

    report.entries = [(e.name, tuple(e.roots)) for e in startup_model(project).entries]
    report.source_roots = list(project.source_roots)
    report.expected_for = lambda kept: expected_by_entry(project, kept) if kept else []
    return expected_by_entry(project, applied)


def _left_alone(request: FixRequest, config: "Config", roots: list[Path], scanned: ScanReport,
                failed: set[str]) -> list[LeftAlone]:
    from advisor.engine.discover import discover_for
    from advisor.registry import all_rules
    from advisor.rule import build_options
    from advisor.rules.lazy_imports.explain import explain_left_alone
    from advisor.rules.lazy_imports.graph import startup_graph
    from advisor.source import is_test_path

    project = scanned.project()
    graph = startup_graph(project) if project is not None else None
    dropped = [(f, graph.module_of(f.path)) for f in scanned.dropped
               if f.rule == request.rule and _inside(_absolute(f.path), roots)] if graph is not None else []
    # Files the scan could not analyse are not parsed again here, in this process: a
    # nesting bomb that crashed a worker would crash the whole command (SIGSEGV).
    files = [(p, _display(p), module_name(p)) for p in discover_for(request.paths, config, force_exclude=False)
             if p.suffix == ".py" and not is_test_path(p) and _inside(_absolute(p), roots) and _display(p) not in failed]
    rule_class = all_rules(config, include_entry_points=False)[request.rule]
    threshold = build_options(rule_class, config.rule_options.get(request.rule, {})).threshold_ms
    return explain_left_alone(files, dropped, graph, config, threshold)


def _display(path: Path) -> str:
    from advisor.engine.scan import display_path

    return display_path(path)


def _real_root(path: Path) -> Path:
    """The real location of a given path; a given symlink counts as where it
    sits (its target is not inside what was given, so nothing is written there)."""
    if path.is_symlink():
        return path.absolute().parent.resolve() / path.name
    return path.resolve()


def _snapshot(paths: list[Path], config: "Config") -> dict[Path, str]:
    """Content hashes of the files to fix, taken before analysis."""
    from advisor.engine.discover import discover_for

    hashes = {}
    for path in discover_for(paths, config, force_exclude=False):
        try:
            hashes[path.resolve()] = _digest(path.read_bytes())
        except OSError:
            continue
    return hashes


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _scan(request: FixRequest, config: "Config", roots: list[Path], report: FixReport,
          progress: Callable[[str], None] | None) -> ScanReport:
    """One round's scan of the whole project (so project-wide facts are seen);
    its errors and notices inside the given paths go into ``report``."""
    from advisor.engine.scan import scan

    project = config.root.resolve()
    scan_paths = [project] + [p for p, r in zip(request.paths, roots) if not _reached(r, project, config)]
    result = scan(scan_paths, config, jobs=request.jobs, use_cache=request.use_cache, progress=progress)
    inside = [e for e in result.errors if _inside(real_path(Path(e.path)), roots)]  # a symlink loop has no real path
    report.errors.extend(e for e in inside if e not in report.errors)
    report.notices.extend(n for n in result.notices if n not in report.notices)
    return result


def _reached(path: Path, project: Path, config: "Config") -> bool:
    """Whether scanning the project root reaches ``path`` (inside it, not excluded)."""
    from advisor.engine.discover import Excluder, scan_excludes

    if not _inside(path, [project]):
        return False
    excluder = Excluder(project, scan_excludes(config), skip_migrations=not config.include_migrations)
    current = path
    while current != project:
        if excluder.excluded(current, current.is_dir()):
            return False
        current = current.parent
    return True


def _absolute(path: str | Path) -> Path:
    """Absolute and without ``..``: a display path is relative to the current
    directory (``../proj/pkg/mod.py`` when run from a sibling directory), and
    ``Path.absolute()`` keeps the ``..``, which no resolved root is a parent of."""
    return Path(os.path.abspath(path))


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _group(findings: list["Finding"], roots: list[Path], report: FixReport) -> dict[Path, list["Finding"]]:
    """Findings per real file, only for files inside the given paths."""
    groups: dict[Path, list[Finding]] = {}
    seen: set[tuple[Path, str, tuple[str, ...]]] = set()
    for finding in findings:
        given = _absolute(finding.path)
        if not _inside(given, roots):
            continue  # scanned only for project-wide facts
        real = given.resolve()
        if real.suffix == ".pyi":  # a stub never runs: nothing to gain, and its imports are its content
            entry = report.files.setdefault(real, FileFix(real, finding.path, b""))
            if all(o.finding != finding for o in entry.outcomes):  # (once over the rounds)
                entry.outcomes.append(Outcome(finding, False, "", "a stub file (.pyi): never rewritten"))
            continue
        if not _inside(real, roots):
            entry = report.files.setdefault(real, FileFix(real, finding.path, b""))
            entry.skipped = f"a symbolic link to {real}, outside the paths given: not written"
            continue
        key = (real, finding.data.get("statement", ""), tuple(finding.data.get("names", ())))
        if key not in seen:  # the same file reached through a link inside the tree
            seen.add(key)
            groups.setdefault(real, []).append(finding)
    return groups


def _fix_file(path: Path, findings: list["Finding"], codemod: Codemod, request: FixRequest,
              config: "Config", snapshot: dict[Path, str], report: FixReport) -> int:
    """Apply the findings to one file; return how many were applied."""
    display = findings[0].path
    try:
        data = path.read_bytes()
    except OSError as exc:
        report.files.setdefault(path, FileFix(path, display, b"", skipped=f"cannot read: {exc.strerror or exc}"))
        return 0
    entry = report.files.setdefault(path, FileFix(path, display, data))
    current = entry.fixed if entry.fixed is not None else entry.original
    if data != current or (entry.fixed is None and snapshot.get(path) not in (None, _digest(data))):
        entry.skipped = "changed on disk since it was analysed: not touched"
        return 0
    allowed, refused = _by_tier(findings, request.unsafe)
    entry.outcomes.extend(refused)
    if not allowed:
        return 0
    try:
        source = decode_source(data)
    except SourceError as exc:
        entry.skipped = exc.message
        return 0
    options = FixOptions(
        strategy=request.strategy, target_version=config.target_version, module=module_name(path),
        is_package=path.name == "__init__.py", hot_functions=request.hot.get(str(path), frozenset()),
        extra={"line_length": _line_length(config.root)},
    )
    entry.encoding, entry.options = source.encoding, options
    try:
        new_text, outcomes = codemod(source.text, allowed, options)
    except Exception as exc:  # a codemod bug must not lose the user's file
        entry.outcomes.extend(Outcome(f, False, "", f"the codemod failed: {type(exc).__name__}: {exc}") for f in allowed)
        return 0
    entry.outcomes.extend(outcomes)
    applied = [o.finding for o in outcomes if o.applied]
    if not applied or new_text == source.text:
        return 0
    problem, entry.checked = check_source(new_text, display, config.target_version)
    if problem:
        entry.outcomes = [o if not o.applied else replace(o, applied=False, detail=f"not written: {problem}") for o in entry.outcomes]
        return 0
    new_data = encode_like(new_text, source.encoding)
    if request.write:
        if path.read_bytes() != data:
            entry.skipped = "changed on disk while it was being fixed: not touched"
            return 0
        atomic_write_bytes(path, new_data)
    entry.fixed = new_data
    entry.applied.extend(applied)
    return len(applied)


def _line_length(root: Path) -> int:
    """The project's formatter line length: moved imports are wrapped past it."""
    from advisor.fix.line_length import project_line_length

    return project_line_length(root)


def _by_tier(findings: list["Finding"], unsafe: bool) -> tuple[list["Finding"], list[Outcome]]:
    allowed, refused = [], []
    for finding in findings:
        safety = finding.fix.safety
        if safety == "safe" or (safety == "unsafe" and unsafe):
            allowed.append(finding)
        elif safety == "unsafe":
            why = finding.data.get("unsafe")  # a rule may say why in words
            refused.append(Outcome(finding, False, "", f"an unsafe fix{f' ({why})' if why else ''}: applied only with --unsafe"))
        elif finding.data.get("no_fix"):  # the rule says why this one is not fixed
            refused.append(Outcome(finding, False, "", str(finding.data["no_fix"])))
        else:
            refused.append(Outcome(finding, False, "", "the rule has no automatic fix for this"))
    return allowed, refused


def check_source(text: str, display: str, target_version: str) -> tuple[str, str]:
    """("" or the problem, how it was checked): ``compile()`` it; code for a
    newer Python than this one (PEP 810 ``lazy import``) is checked with
    libcst's parser for the target version instead."""
    try:
        compile(text, display, "exec", dont_inherit=True)
        return "", "compile()"
    except SyntaxError as exc:
        from advisor.config import version_tuple

        if version_tuple(target_version) <= sys.version_info[:2]:
            return f"the result does not compile: {exc.msg} (line {exc.lineno})", "compile()"
    import libcst as cst

    try:
        cst.parse_module(text, config=cst.PartialParserConfig(python_version=_parser_version(target_version)))
    except Exception as exc:
        return f"the result does not parse: {exc}", "libcst"
    return "", f"libcst parser (Python {target_version} syntax; this interpreter is {sys.version_info[0]}.{sys.version_info[1]})"


def _parser_version(target_version: str) -> str:
    from libcst._parser.types.config import KNOWN_PYTHON_VERSION_STRINGS

    return target_version if target_version in KNOWN_PYTHON_VERSION_STRINGS else KNOWN_PYTHON_VERSION_STRINGS[-1]


def encode_like(text: str, encoding: str) -> bytes:
    """Encode in the file's own encoding ("utf-8-sig" keeps the BOM)."""
    return text.encode(encoding)


def restore(entry: FileFix, data: bytes) -> None:
    """Write ``data`` (original or fixed bytes) back to the file, atomically."""
    atomic_write_bytes(entry.path, data)


def refix(entry: FileFix, findings: list["Finding"]) -> bytes:
    """The file's bytes with only ``findings`` applied to its original text."""
    codemod = load_codemod(findings[0].rule) if findings else None
    if codemod is None:
        return entry.original
    source = decode_source(entry.original)
    new_text, _ = codemod(source.text, findings, entry.options)
    return encode_like(new_text, source.encoding)


__all__ = ["FileFix", "FixReport", "FixRequest", "check_source", "refix", "restore", "run_fix"]
