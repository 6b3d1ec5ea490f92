"""The scan pipeline: discover -> cache -> analyse in workers -> project-wide
refine -> ranked findings. Pure orchestration; the work lives elsewhere."""

from __future__ import annotations

import fnmatch
import os
import time
from stat import S_ISREG
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from advisor.config import Config
from advisor.findings import FileError, FileResult, Finding
from advisor.project import Project, facts_from_result
from advisor.rule import Rule, build_options
from advisor.source import module_name, source_root

if TYPE_CHECKING:
    from advisor.engine.cache import ResultCache
    from advisor.evidence.profile import Evidence
    from advisor.rank.callgraph import EntryPoint
    from advisor.engine.pool import Task


@dataclass
class ScanReport:
    """What a scan found, ready for any renderer."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    files: int = 0
    cached: int = 0
    seconds: float = 0.0
    #: When the whole answer came from the last scan's memo: how long that
    #: scan took (``seconds`` is then only the time to check nothing changed).
    computed_seconds: float | None = None
    rules: list[str] = field(default_factory=list)
    #: Things the user should know about how the results were obtained.
    notices: list[str] = field(default_factory=list)
    #: Profiles and import-time logs the ranking used (None: static ranking).
    evidence: "Evidence | None" = None


def select_rules(config: Config) -> list[type[Rule]]:
    """The enabled rule classes, with their options checked now (not per file)."""
    from advisor.registry import all_rules, enabled_rule_ids

    known = all_rules(config)
    rules = [known[rule_id] for rule_id in enabled_rule_ids(config, known)]
    for rule in rules:
        build_options(rule, config.rule_options.get(rule.id, {}), str(config.source or "[tool.advisor]"))
    for rule_id in config.rule_options:
        if rule_id not in known:
            from advisor.errors import ConfigError

            raise ConfigError(f"{config.source or '[tool.advisor]'}: [tool.advisor.rules.{rule_id}] names an unknown rule")
    return rules


def scan(
    paths: list[Path],
    config: Config,
    *,
    jobs: int | None = None,
    use_cache: bool = True,
    progress: Callable[[str], None] | None = None,
    evidence: "Evidence | None" = None,
    memo: bool = True,
) -> ScanReport:
    """Scan ``paths`` and return ranked findings and per-file errors.

    ``memo=False`` never answers from the whole-scan memo: the caller wants
    refine and ranking to run (``advisor fix`` observes them)."""
    from advisor.source import DirectoryFacts

    with DirectoryFacts():
        return _scan(paths, config, jobs=jobs, use_cache=use_cache, progress=progress, evidence=evidence, memo=memo)


def _scan(paths: list[Path], config: Config, *, jobs: int | None, use_cache: bool,
          progress: Callable[[str], None] | None, evidence: "Evidence | None", memo: bool) -> ScanReport:
    from advisor.engine.cache import ResultCache
    from advisor.engine import memo as scan_memo
    from advisor.engine.discover import discover_for
    from advisor.engine.pool import Task

    started = time.perf_counter()
    rules = select_rules(config)
    report = ScanReport(rules=[r.id for r in rules], evidence=evidence)
    if evidence is not None:
        report.notices.extend(evidence.notices)
    cache_key = repr(([r.id for r in rules], _code_stamp(rules), config.fingerprint()))
    files = list(discover_for(paths, config))
    report.files = len(files)
    answer = _memo_answer(files, cache_key, config, evidence) if use_cache and memo else None
    if answer is not None:  # nothing changed: not even the result cache is loaded
        (report.findings, report.errors, notices, report.computed_seconds), report.cached = answer
        report.notices.extend(notices)
        report.seconds = time.perf_counter() - started
        return report
    cache = ResultCache(config.cache_path() if use_cache else None, cache_key)
    results: list[FileResult] = []
    stamps: dict[str, str] = {}
    tasks: list[Task] = []
    outline: bool | None = None
    entries: "list[EntryPoint] | None" = None  # found once, for the workers' outlines and for ranking
    for path in files:
        display = display_path(path)
        try:
            stat = path.stat()
        except FileNotFoundError:
            reason = "no such file or directory" if not path.is_symlink() else "broken symbolic link"
            results.append(FileResult(display, errors=(FileError(display, "read", reason),)))
            continue
        except OSError as exc:
            results.append(FileResult(display, errors=(FileError(display, "read", f"cannot stat: {exc.strerror or exc}"),)))
            continue
        stamps[display] = _stamp(stat)
        hit = cache.lookup(path, stat.st_size, stat.st_mtime_ns)
        if hit is None and path.is_file():
            data = _read_bytes(path)
            hit = cache.lookup(path, stat.st_size, stat.st_mtime_ns, data) if data is not None else None
            if hit is None:
                if outline is None:
                    entries = _entry_points(files, config)
                    outline = bool(entries)
                tasks.append(Task(path, display, module_name(path), data if data is not None else b"", outline))
                if data is None:
                    tasks.pop()
                    results.append(FileResult(display, errors=(FileError(display, "read", _unreadable_reason(path)),)))
                continue
        if hit is None:
            results.append(FileResult(display, errors=(FileError(display, "read", "not a regular file"),)))
            continue
        report.cached += 1
        results.append(_relocated(hit, display))

    all_cached = not tasks  # (the pool empties ``tasks`` as it goes)
    if tasks:
        _analyse(tasks, rules, config, jobs, cache, results, progress)
    cache.save()
    displays = [display_path(path) for path in files]
    remembered = None
    if use_cache and memo and all_cached:  # (some file could not be stat()ed above)
        remembered = scan_memo.load(config, scan_memo.memo_key(cache_key, displays, stamps, config, evidence))
    if remembered is not None:
        report.findings, report.errors, notices, report.computed_seconds = remembered
        report.notices.extend(notices)
    else:
        first_notice = len(report.notices)
        report.findings, report.errors = _collect(results, rules, config, files, stamps, progress, report, entries)
        if use_cache:
            key = scan_memo.memo_key(cache_key, displays, stamps, config, evidence)
            seconds = time.perf_counter() - started
            scan_memo.store(config, key, (report.findings, report.errors, report.notices[first_notice:], seconds))
    report.seconds = time.perf_counter() - started
    return report


def _memo_answer(files: list[Path], cache_key: str, config: Config,
                 evidence: "Evidence | None") -> tuple[Any, int] | None:
    """(the last scan's findings, errors and notices; the files that count as
    cached) when every file has the size and mtime it had then and nothing
    else the answer depends on changed: a ``stat()`` per file and one small
    file read. None when it cannot tell (a file that cannot be stat()ed)."""
    from advisor.engine import memo as scan_memo

    stamps: dict[str, str] = {}
    displays = []
    regular = 0
    for path in files:
        try:
            status = path.stat()
        except OSError:
            return None
        display = display_path(path)
        displays.append(display)
        stamps[display] = _stamp(status)
        regular += S_ISREG(status.st_mode)
    remembered = scan_memo.load(config, scan_memo.memo_key(cache_key, displays, stamps, config, evidence))
    return None if remembered is None else (remembered, regular)


def _stamp(status: os.stat_result) -> str:
    """A file's size and mtime as the whole-scan memo keys them: one format for
    the memo check before the scan and the memo stored after it."""
    return f"{status.st_size}-{status.st_mtime_ns}"


def _analyse(tasks: list[Task], rules: list[type[Rule]], config: Config, jobs: int | None,
             cache: ResultCache, results: list[FileResult], progress: Callable[[str], None] | None) -> None:
    from advisor.engine.pool import default_jobs, run_tasks
    from advisor.registry import builtin_rule_paths

    builtin = builtin_rule_paths()
    paths = [builtin[r.id] for r in rules if builtin.get(r.id, "").startswith(r.__module__ + ":")]
    extra = [r for r in rules if not builtin.get(r.id, "").startswith(r.__module__ + ":")]
    if os.name == "posix":
        import libcst  # noqa: F401  (loaded once here, inherited by forked workers)
    done = 0
    total = len(tasks)  # _handed_over empties the list as the pool takes tasks

    def on_result(task: Task, result: FileResult) -> None:
        nonlocal done
        done += 1
        results.append(result)
        if not any(e.kind in ("timeout", "crash") for e in result.errors):
            stat = task.path.stat() if task.path.exists() else None
            if stat is not None:
                cache.store(task.path, stat.st_size, stat.st_mtime_ns, task.data, result)
        if progress:
            progress(f"analysed {done}/{total} files")

    run_tasks(_handed_over(tasks), (paths, extra, config), jobs or default_jobs(), config.timeout, on_result)


def _handed_over(tasks: list[Task]) -> Iterator[Task]:
    """The tasks, in order, emptying the list: once the pool holds them, each
    file's bytes are freed as soon as its result is in, not at the end of the scan."""
    tasks.reverse()
    while tasks:
        yield tasks.pop()


def _collect(results: list[FileResult], rules: list[type[Rule]], config: Config, files: list[Path],
             stamps: dict[str, str], progress: Callable[[str], None] | None,
             report: ScanReport, entries: "list[EntryPoint] | None" = None) -> tuple[list[Finding], list[FileError]]:
    by_rule: dict[str, list[Finding]] = {r.id: [] for r in rules}
    errors: list[FileError] = []
    facts = []
    for result in results:
        errors.extend(result.errors)
        for finding in result.findings:
            if finding.rule in by_rule and not _ignored_for_file(finding, config):
                by_rule[finding.rule].append(finding)
        module_facts = facts_from_result(result.path, result.facts, stamps.get(result.path, ""))
        if module_facts is not None:
            facts.append(module_facts)
    roots = sorted({source_root(p) for p in files if p.suffix == ".py"}, key=str)
    project = Project(config, facts, roots, progress)
    setattr(project, "evidence", report.evidence)  # read by lazy-imports via advisor.rank.import_temperature
    findings: list[Finding] = []
    for rule in rules:
        if by_rule[rule.id]:
            findings.extend(rule.refine(by_rule[rule.id], project))
    if "import_costs" in project.__dict__ and project.import_costs.notice:
        report.notices.append(project.import_costs.notice)
    from advisor.rank.score import rank_findings

    outlines = {os.path.realpath(r.path): r.outline for r in results if r.outline is not None}
    findings, rank_notices = rank_findings(findings, report.evidence, files, config.root, outlines, entries)
    report.notices.extend(rank_notices)
    findings.sort(key=lambda f: (-f.score, f.path, f.span.line, f.span.column, f.rule))
    errors.sort(key=lambda e: (e.path, e.kind))
    return findings, errors


def _entry_points(files: list[Path], config: Config) -> "list[EntryPoint]":
    """Static ranking asks which entry points reach each finding, and that
    needs every file's outline: made by the workers, in parallel, only when
    there is one. Found once (each file is read), then handed to ranking."""
    from advisor.rank.callgraph import entry_points

    return entry_points(config.root, [p for p in files if p.suffix == ".py"])


def _ignored_for_file(finding: Finding, config: Config) -> bool:
    """per-file-ignores globs are relative to the project root, wherever the scan runs."""
    if not config.per_file_ignores:
        return False  # (no relpath per finding for nothing)
    try:
        relative = Path(os.path.relpath(os.path.abspath(finding.path), config.root)).as_posix()
    except ValueError:
        relative = Path(finding.path).as_posix()
    for pattern, ids in config.per_file_ignores:
        if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(relative, f"*/{pattern}"):
            if "*" in ids or finding.rule in ids:
                return True
    return False


def _code_stamp(rules: list[type[Rule]]) -> list[str]:
    """Size and mtime of advisor's own modules and every rule's module, so an
    edited rule (a plugin, or advisor in development) never answers from a
    stale cache. A few dozen stat() calls."""
    import sys

    files = set(Path(__file__).parent.glob("*.py"))
    for rule in rules:
        module_file = getattr(sys.modules.get(rule.__module__), "__file__", None)
        if module_file:
            files.add(Path(module_file))
            files.update(Path(module_file).parent.glob("_*.py"))
    stamps = []
    for path in sorted(files):
        try:
            stat = path.stat()
        except OSError:
            continue
        stamps.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return stamps


def _relocated(result: FileResult, display: str) -> FileResult:
    """A cached result re-labelled if the scan runs from another directory."""
    if result.path == display:
        return result
    from dataclasses import replace

    return replace(
        result,
        path=display,
        findings=tuple(f.with_(path=display) for f in result.findings),
        errors=tuple(replace(e, path=display) for e in result.errors),
    )


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _unreadable_reason(path: Path) -> str:
    try:
        path.read_bytes()
    except PermissionError:
        return "permission denied"
    except FileNotFoundError:
        return "file disappeared before it could be read"
    except OSError as exc:
        return f"cannot read file: {exc.strerror or exc}"
    return "cannot read file"


def display_path(path: Path) -> str:
    """The path relative to the current directory when below it, else as given."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


__all__ = ["ScanReport", "scan", "select_rules"]
