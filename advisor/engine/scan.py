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
from advisor.findings import FileError, FileResult, Finding, ScanReport
from advisor.rule import Rule, build_options
from advisor.source import module_name, source_root

if TYPE_CHECKING:
    from advisor.engine.cache import ResultCache
    from advisor.project import Project
    from advisor.evidence.profile import Evidence
    from advisor.rank.callgraph import EntryPoint
    from advisor.engine.pool import Task


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
) -> ScanReport:
    """Scan ``paths`` and return ranked findings and per-file errors.

    The report is complete whichever way it was answered (the whole-scan
    memo, the result cache, or fresh analysis): ``report.dropped`` holds the
    findings the rules' project-wide steps left out, and ``report.project()``
    builds the project model on demand when the memo answered."""
    from advisor.source import DirectoryFacts

    with DirectoryFacts():
        return _scan(paths, config, jobs=jobs, use_cache=use_cache, progress=progress, evidence=evidence)


def _scan(paths: list[Path], config: Config, *, jobs: int | None, use_cache: bool,
          progress: Callable[[str], None] | None, evidence: "Evidence | None") -> ScanReport:
    from advisor.engine import memo as scan_memo
    from advisor.engine.cache import ResultCache
    from advisor.engine.discover import discover_for

    started = time.perf_counter()
    # 1. what to run on what
    rules = select_rules(config)
    report = ScanReport(rules=[r.id for r in rules], evidence=evidence)
    if config.measure_imports:
        from advisor.interpreter import source_of

        report.interpreter = {"python": config.python, "source": source_of(config)}
    if evidence is not None:
        report.notices.extend(evidence.notices)
    cache_key = repr(([r.id for r in rules], _code_stamp(rules), config.fingerprint()))
    files = list(discover_for(paths, config))
    report.files = len(files)
    # 2. nothing changed since the last scan: its answer, without loading the result cache
    if use_cache and _answer_from_memo(report, files, cache_key, config, evidence):
        _add_time_table(report, evidence)
        report.seconds = time.perf_counter() - started
        return report
    # 3. per file: the result cache, else analysis in the workers
    cache = ResultCache(config.cache_path() if use_cache else None, cache_key)
    gathered = _gather(files, cache, config)
    report.cached = gathered.cached
    if gathered.tasks:
        _analyse(gathered.tasks, rules, config, jobs, cache, gathered.results, progress)
    cache.save()
    # 4. project-wide: the rules' refine steps, then ranking (or the memo, when every file was cached)
    displays = [display_path(path) for path in files]
    key = scan_memo.memo_key(cache_key, displays, gathered.stamps, config, evidence) if use_cache else ""
    remembered = scan_memo.load(config, key) if use_cache and gathered.all_cached else None
    if remembered is not None:
        _take_remembered(report, remembered)
        results = gathered.results
        report.project_loader = lambda: build_project(results, files, gathered.stamps, config, progress)
    else:
        first_notice = len(report.notices)
        project = build_project(gathered.results, files, gathered.stamps, config, progress)
        report.project_loader = lambda: project
        _refine_and_rank(report, gathered.results, rules, config, files, project, gathered.entries)
        if use_cache:
            seconds = time.perf_counter() - started
            scan_memo.store(config, key, (report.findings, report.errors, report.notices[first_notice:], report.dropped, seconds,
                                          report.summary))
    _add_time_table(report, evidence)
    report.seconds = time.perf_counter() - started
    return report


def _add_time_table(report: ScanReport, evidence: "Evidence | None") -> None:
    """Where the time goes, and the run-time findings' saving together, from
    the evidence, for the renderers (which never rank)."""
    if evidence is not None:
        from advisor.rank.group_totals import runtime_groups
        from advisor.rank.score import runtime_total_ms, time_table

        report.time_table = time_table(evidence)
        report.runtime_total_ms = runtime_total_ms(report.findings, evidence)
        report.summary["runtime_groups"] = runtime_groups(report.findings, evidence)


@dataclass
class _Gathered:
    """Step 3's state: results found so far, what the workers still have to do."""

    results: list[FileResult] = field(default_factory=list)
    tasks: "list[Task]" = field(default_factory=list)
    stamps: dict[str, str] = field(default_factory=dict)
    cached: int = 0
    entries: "list[EntryPoint] | None" = None
    all_cached: bool = True


def _gather(files: list[Path], cache: "ResultCache", config: Config) -> _Gathered:
    """Each file's cached result, an error for a file that cannot be read,
    or a task for the workers."""
    from advisor.engine.pool import Task

    gathered = _Gathered()
    outline: bool | None = None
    for path in files:
        display = display_path(path)
        try:
            stat = path.stat()
        except FileNotFoundError:
            reason = "no such file or directory" if not path.is_symlink() else "broken symbolic link"
            gathered.results.append(FileResult(display, errors=(FileError(display, "read", reason),)))
            gathered.all_cached = False
            continue
        except OSError as exc:
            gathered.results.append(FileResult(display, errors=(FileError(display, "read", f"cannot stat: {exc.strerror or exc}"),)))
            gathered.all_cached = False
            continue
        gathered.stamps[display] = _stamp(stat)
        hit = cache.lookup(path, stat.st_size, stat.st_mtime_ns)
        if hit is None and path.is_file():
            data = _read_bytes(path)
            hit = cache.lookup(path, stat.st_size, stat.st_mtime_ns, data) if data is not None else None
            if hit is None:
                gathered.all_cached = False
                if data is None:
                    gathered.results.append(FileResult(display, errors=(FileError(display, "read", _unreadable_reason(path)),)))
                    continue
                if outline is None:  # entry points are found once, for the workers' outlines and for ranking
                    gathered.entries = _entry_points(files, config)
                    outline = bool(gathered.entries)
                gathered.tasks.append(Task(path, display, module_name(path), data, outline))
                continue
        if hit is None:
            gathered.results.append(FileResult(display, errors=(FileError(display, "read", "not a regular file"),)))
            continue
        gathered.cached += 1
        gathered.results.append(_relocated(hit, display))
    return gathered


def _answer_from_memo(report: ScanReport, files: list[Path], cache_key: str, config: Config,
                      evidence: "Evidence | None") -> bool:
    """Fill ``report`` from the whole-scan memo when every file has the size
    and mtime it had then and nothing else the answer depends on changed: a
    ``stat()`` per file and one small file read. False otherwise, or when it
    cannot tell (a file that cannot be stat()ed)."""
    from advisor.engine import memo as scan_memo

    stamps: dict[str, str] = {}
    displays = []
    regular = 0
    for path in files:
        try:
            status = path.stat()
        except OSError:
            return False
        display = display_path(path)
        displays.append(display)
        stamps[display] = _stamp(status)
        regular += S_ISREG(status.st_mode)
    remembered = scan_memo.load(config, scan_memo.memo_key(cache_key, displays, stamps, config, evidence))
    if remembered is None:
        return False
    _take_remembered(report, remembered)
    report.cached = regular
    report.project_loader = lambda: _project_from_cache(files, cache_key, config)
    return True


def _take_remembered(report: ScanReport, remembered: Any) -> None:
    report.findings, report.errors, notices, report.dropped, report.computed_seconds, summary = remembered
    report.notices.extend(notices)
    report.summary.update(summary)


def _project_from_cache(files: list[Path], cache_key: str, config: Config) -> "Project":
    """The project model of a scan the memo answered: every file's result is
    in the result cache (the memo is stored only then)."""
    from advisor.engine.cache import ResultCache

    gathered = _gather(files, ResultCache(config.cache_path(), cache_key), config)
    return build_project(gathered.results, files, gathered.stamps, config, None)


def build_project(results: list[FileResult], files: list[Path], stamps: dict[str, str], config: Config,
                  progress: Callable[[str], None] | None) -> "Project":
    """The generic project model from every file's result."""
    from advisor.project import Project, ProjectFile

    modules = {display_path(path): module_name(path) for path in files}
    project_files = [ProjectFile(r.path, modules.get(r.path, ""), stamps.get(r.path, ""), r.facts, r.imports, r.outline)
                     for r in results if not r.errors or r.facts]
    roots = sorted({source_root(p) for p in files if p.suffix == ".py"}, key=str)
    return Project(config, project_files, roots, progress)


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


def _refine_and_rank(report: ScanReport, results: list[FileResult], rules: list[type[Rule]], config: Config,
                     files: list[Path], project: "Project", entries: "list[EntryPoint] | None") -> None:
    """Each rule's project-wide step on its findings, then ranking; fills
    ``report.findings``, ``report.errors`` and ``report.dropped``."""
    by_rule: dict[str, list[Finding]] = {r.id: [] for r in rules}
    errors: list[FileError] = []
    for result in results:
        errors.extend(result.errors)
        for finding in result.findings:
            if finding.rule in by_rule and not _ignored_for_file(finding, config):
                by_rule[finding.rule].append(finding)
    findings: list[Finding] = []
    for rule in rules:
        if by_rule[rule.id] or rule.REFINE_MAKES_FINDINGS:
            options = build_options(rule, config.rule_options.get(rule.id, {}))
            kept = [f for f in rule.refine(by_rule[rule.id], project, options, report.evidence)
                    if not _ignored_for_file(f, config)]  # (refine may make findings from facts)
            fingerprints = {f.fingerprint for f in kept}
            report.dropped.extend(f for f in by_rule[rule.id] if f.fingerprint not in fingerprints)
            findings.extend(kept)
    report.notices.extend(n for n in project.notices if n not in report.notices)
    report.summary.update(project.summary)
    from advisor.rank.score import rank_findings

    outlines = {os.path.realpath(r.path): r.outline for r in results if r.outline is not None}
    findings, rank_notices = rank_findings(findings, report.evidence, files, config.root, outlines, entries)
    report.notices.extend(rank_notices)
    if report.evidence is not None and report.evidence.runtime is not None:
        findings = _with_runtime(findings, rules, config, files, report)
    findings.sort(key=lambda f: (-f.score, f.path, f.span.line, f.span.column, f.rule))
    errors.sort(key=lambda e: (e.path, e.kind))
    report.findings, report.errors = findings, errors


def _with_runtime(findings: list[Finding], rules: list[type[Rule]], config: Config, files: list[Path],
                  report: ScanReport) -> list[Finding]:
    """What ``advisor profile`` recorded: evidence on findings, and the findings only the run showed."""
    from advisor.evidence.discover import apply_runtime

    assert report.evidence is not None
    source = str(config.source or "[tool.advisor]")
    options = {r.id: build_options(r, config.rule_options.get(r.id, {}), source) for r in rules}
    found, notices = apply_runtime(findings, report.evidence, files, config.root, options,
                                   lambda f: not _ignored_for_file(f, config))
    report.notices.extend(notices)
    return found


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
    """Size and mtime of every module of advisor and of its built-in rules,
    recursively, and of each plugin rule's module (its whole package when it
    is one), so an edited or moved module (a plugin, or advisor in
    development) never answers from a stale cache. About a hundred stat() calls."""
    import sys

    import advisor
    import advisor.rules

    files = set(Path(advisor.__file__).parent.rglob("*.py"))
    files.update(Path(advisor.rules.__file__).parent.rglob("*.py"))
    for rule in rules:
        module_file = getattr(sys.modules.get(rule.__module__), "__file__", None)
        if module_file:
            module_path = Path(module_file)
            files.add(module_path)
            if module_path.name == "__init__.py" or "." in rule.__module__:
                files.update(module_path.parent.glob("*.py"))
    stamps = []
    for path in sorted(files):
        try:
            stat = path.stat()
        except OSError:
            continue
        stamps.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
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
