"""Analyse one file: parse once with libcst, run every enabled rule in one
batched walk, resolve positions only when something was reported.

Runs inside worker processes (see pool.py); everything it returns is plain
data. Never raises for bad input: problems become FileError entries.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.findings import FileError, FileResult, Finding, FixInfo, Impact, Span
from advisor.rule import METADATA_PROVIDERS, PER_FILE_CACHES, FileContext, Rule, WithoutTree, build_options
from advisor.source import SourceError, decode_source, is_test_path, read_source, source_lines

if TYPE_CHECKING:
    import libcst as cst

    from advisor.config import Config
    from advisor.first_pass import FirstPass


def analyse_file(
    path: Path,
    display_path: str,
    module: str,
    rules: list[type[Rule]],
    config: "Config",
    data: bytes | None = None,
    outline: bool = False,
) -> FileResult:
    """Read (unless ``data`` is given), parse and check one file; with
    ``outline``, also index it for static ranking (FileResult.outline)."""
    try:
        source = decode_source(data) if data is not None else read_source(path)
    except SourceError as exc:
        return FileResult(display_path, errors=(FileError(display_path, exc.kind, exc.message),))
    if not source.text.strip():
        return FileResult(display_path)  # an empty __init__.py is fine
    return analyse_text(source.text, display_path, module, rules, config, outline)


def analyse_text(
    text: str, display_path: str, module: str, rules: list[type[Rule]], config: "Config", outline: bool = False
) -> FileResult:
    """Parse and check decoded source text (``outline``: see analyse_file).

    The cyclic garbage collector is paused for the file: a parse allocates
    hundreds of thousands of nodes, each allocation burst triggered full
    collections that walked every live object, and reference counting frees
    the tree anyway. ``run_walk`` breaks the cycles a file's analysis makes
    (see ``BatchedWalk.release``), and what is left is collected once the
    collector is back on, so memory stays bounded by one file.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _analyse_text(text, display_path, module, rules, config, outline)
    finally:
        if was_enabled:
            gc.enable()


def _analyse_text(
    text: str, display_path: str, module: str, rules: list[type[Rule]], config: "Config", outline: bool
) -> FileResult:
    python_tree, rejected = _python_parse(text)
    if rejected and not _targets_newer_python(config):
        # CPython rejects what libcst may accept (``except X, e:``, 300 nested brackets
        # that would crash libcst's native parser): the interpreter decides.
        return FileResult(display_path, errors=(FileError(display_path, "parse", rejected),))
    lines = tuple(source_lines(text))
    context = FileContext(display_path, module, config, lines, is_test_path(Path(display_path)))
    chosen = [(rule, build_options(rule, config.rule_options.get(rule.id, {}))) for rule in rules]
    first_pass = _first_pass_facts(chosen, python_tree, text)
    walked, unwalked = _first_pass(chosen, python_tree, context, text, first_pass)
    if walked:
        result = _parse_and_run(text, context, walked, python_tree, rejected)
    else:
        result = FileResult(display_path)  # no rule needs libcst here: it never parses the file
    if unwalked:
        result = _add_unwalked(result, unwalked, context, text)
    if first_pass is not None:
        result = _add_from_tree(result, chosen, first_pass, context, text)
    if python_tree is not None:
        from advisor.engine.module_imports import module_imports

        result = _replace(result, imports=module_imports(python_tree, module, Path(display_path).name == "__init__.py"))
    if outline and python_tree is not None:
        from advisor.rank.outline import index_text

        index = index_text(text, display_path, module, python_tree)
        if index is not None:
            result = _replace(result, outline=index.outline())
    return result


#: Off only to measure what the first pass saves and to prove it changes no
#: finding (``ADVISOR_FIRST_PASS=0``, benchmarks/first_pass.py).
FIRST_PASS = os.environ.get("ADVISOR_FIRST_PASS", "1") != "0"


def _first_pass_facts(chosen: list[tuple[type[Rule], Any]], python_tree: Any, text: str) -> "FirstPass | None":
    """The first pass's facts, when the first pass is on or a rule reads the
    ``ast`` tree of every file (``Rule.from_tree``); None without an ``ast`` tree."""
    if python_tree is None or not (FIRST_PASS or any(_reads_every_tree(rule) for rule, _ in chosen)):
        return None
    from advisor.first_pass import FirstPass

    return FirstPass.of(python_tree, text)


def _reads_every_tree(rule: type[Rule]) -> bool:
    return getattr(rule.from_tree, "__func__", None) is not Rule.from_tree.__func__  # type: ignore[attr-defined]


def _add_from_tree(result: FileResult, chosen: list[tuple[type[Rule], Any]], first_pass: "FirstPass",
                   context: FileContext, text: str) -> FileResult:
    """What the rules make from the ``ast`` tree of every file, walked or not.
    A rule that raises here gets a ``rule`` error, like a failure in the walk."""
    found, errors = [], []
    for rule, options in chosen:
        if not _reads_every_tree(rule) or any(e.rule == rule.id for e in result.errors):
            continue
        try:
            found.append((rule, rule.from_tree(first_pass, context, options)))
        except Exception as exc:  # a rule's bug: the file's other results stand
            errors.append(FileError(context.path, "rule", f"rule {rule.id} crashed: {type(exc).__name__}: {exc}", rule.id))
    kept = [(rule, made) for rule, made in found if made.facts or made.reports]
    if kept:
        result = _add_unwalked(result, kept, context, text)
    return _replace(result, errors=(*result.errors, *errors)) if errors else result


def _first_pass(chosen: list[tuple[type[Rule], Any]], python_tree: Any, context: FileContext,
                text: str = "", first_pass: "FirstPass | None" = None,
                ) -> tuple[list[tuple[type[Rule], Any]], list[tuple[type[Rule], WithoutTree]]]:
    """(the rules to walk this file with, what each of the others gives without a walk).

    Without an ``ast`` tree (code for a newer Python) every rule walks."""
    if python_tree is None or not FIRST_PASS:
        return chosen, []
    if first_pass is None:
        from advisor.first_pass import FirstPass

        first_pass = FirstPass.of(python_tree, text)
    walked, unwalked = [], []
    for rule, options in chosen:
        try:
            walks = rule.may_report(first_pass, context, options)
            found = None if walks else rule.without_tree(first_pass, context, options)
        except Exception:  # a faulty first-pass check: walk the file, where failures are reported
            found = None
        if found is None:
            walked.append((rule, options))
        elif found.facts or found.reports:
            unwalked.append((rule, found))
    return walked, unwalked


def _add_unwalked(result: FileResult, unwalked: list[tuple[type[Rule], WithoutTree]], context: FileContext,
                  text: str) -> FileResult:
    """Merge the facts and the ``ast``-made reports of the rules that were not walked."""
    facts = dict(result.facts)
    for rule, found in unwalked:
        if found.facts:
            facts[rule.id] = {**facts.get(rule.id, {}), **found.facts}
    reports = [(rule, report) for rule, found in unwalked for report in found.reports]
    findings = list(result.findings)
    if reports:
        from advisor.engine.suppress import parse_suppressions

        suppressions = parse_suppressions(text)
        findings += [_finding(rule, report, report.span, context) for rule, report in reports
                     if not suppressions.silences(rule.id, report.span.line, report.span.end_line)]
    return _replace(result, facts=facts, findings=tuple(findings))


def _parse_and_run(text: str, context: FileContext, walked: list[tuple[type[Rule], Any]], python_tree: Any,
                   rejected: str) -> FileResult:
    import libcst as cst

    path = context.path
    try:
        tree = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        return FileResult(path, errors=(FileError(path, "parse", _syntax_message(rejected, exc)),))
    except RecursionError:
        return FileResult(path, errors=(FileError(path, "parse", "too deeply nested to parse"),))
    except Exception as exc:  # libcst's own failures on odd input
        return FileResult(path, errors=(FileError(path, "parse", f"cannot parse: {exc}"),))
    return _run_rules(tree, context, walked, text, python_tree)


def _replace(result: FileResult, **changes: Any) -> FileResult:
    from dataclasses import replace

    return replace(result, **changes)


def _python_parse(text: str) -> tuple[Any, str]:
    """(the ``ast`` tree, "") or (None, why CPython rejects the text)."""
    import ast

    try:
        return compile(text, "<file>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True), ""
    except SyntaxError as error:
        return None, f"syntax error at line {error.lineno}, column {(error.offset or 1) - 1}: {error.msg}"
    except RecursionError as error:
        return None, f"too deeply nested to parse ({error})"
    except (ValueError, MemoryError) as error:
        return None, f"Python cannot parse this file: {error}"


def _targets_newer_python(config: "Config") -> bool:
    """Code for a newer Python than this one (``type X = ...`` read by 3.11) is
    judged by libcst alone: this interpreter's parser cannot know its syntax."""
    import sys

    try:
        return tuple(int(part) for part in config.target_version.split(".")[:2]) > sys.version_info[:2]
    except ValueError:
        return False


def _syntax_message(rejected: str, exc: Exception) -> str:
    """CPython's own wording and position when it also rejects the file (it is
    more precise than libcst's); otherwise libcst's."""
    if rejected:
        return rejected
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"libcst cannot parse this file (Python accepts it): {first_line}"


def _run_rules(tree: "cst.Module", context: FileContext, walked: list[tuple[type[Rule], Any]], text: str,
               python_tree: Any = None) -> FileResult:
    errors: list[FileError] = []
    rules = [rule_class(context, options) for rule_class, options in walked]
    try:
        run_walk(tree, rules, errors, context.path)
    except RecursionError:  # the tree is too deep for the walk: rules that hit the same depth first are not to blame
        errors = [e for e in errors if not (e.kind == "rule" and "RecursionError" in e.message)]
        errors.append(FileError(context.path, "parse", "too deeply nested to analyse"))
        return FileResult(context.path, errors=tuple(errors))
    finally:
        for cache in PER_FILE_CACHES:
            cache.clear()
    facts = {rule.id: rule.facts for rule in rules if rule.facts}
    pending = [(rule, report) for rule in rules for report in rule.reports]  # a failed rule has none left
    if not pending:
        return FileResult(context.path, errors=tuple(errors), facts=facts)
    from advisor.engine.suppress import parse_suppressions

    from advisor.engine.positions import node_spans

    positions = node_spans(tree, [report.node for _, report in pending], text, python_tree)
    suppressions = parse_suppressions(text)
    findings = []
    for rule, report in pending:
        span = positions[id(report.node)]
        if suppressions.silences(rule.id, span.line, span.end_line):
            continue
        findings.append(_finding(rule, report, span, context))
    return FileResult(context.path, tuple(findings), tuple(errors), facts)


def run_walk(tree: "cst.Module", rules: list[Rule], errors: list[FileError], path: str) -> None:
    """Resolve the metadata the rules declare, walk the tree once for all of
    them (shared recorders first), then call each surviving rule's ``finish``.
    A rule that raises is recorded in ``errors``, loses its reports, and the
    others go on; a shared recorder that raises fails the rules that read it."""
    from advisor.engine.walk import BatchedWalk, short_traceback

    _attach_metadata(tree, rules)
    recorders = _make_recorders(rules)
    failed: list[Rule] = []

    def fail(rule: Rule, message: str, detail: str) -> None:
        if rule in failed:
            return
        failed.append(rule)
        rule.reports.clear()
        rule.facts.clear()
        walk.drop(rule)
        errors.append(FileError(path, "rule", message, rule.id, detail))

    def on_failure(visitor: Any, exc: BaseException, detail: str) -> None:
        readers = [r for r in rules if visitor in r._shared.values()] if visitor in recorders else [visitor]
        for rule in readers:
            via = f" (in its shared {type(visitor).__name__})" if visitor is not rule else ""
            fail(rule, f"rule {rule.id} crashed{via}: {type(exc).__name__}: {exc}", detail)

    walk = BatchedWalk([*recorders, *rules], on_failure)
    try:
        walk.walk(tree)
        for rule in rules:
            finish = getattr(rule, "finish", None)
            if finish is None or rule in failed:
                continue
            try:
                finish()
            except Exception as exc:  # RecursionError included: the walk is over, the rule recursed
                on_failure(rule, exc, short_traceback(exc))
    finally:
        # Break the reference cycles a file's analysis makes, so that reference
        # counting frees its tree at once: left to the cyclic collector, every
        # node of every file was traversed again (a tenth of a worker's time).
        walk.release()
        for recorder in recorders:
            release = getattr(recorder, "release", None)
            if release is not None:
                release()


def _make_recorders(rules: list[Rule]) -> list[Any]:
    """One instance of each recorder class the rules share, handed to each rule."""
    made: dict[type, Any] = {}
    for rule in rules:
        for recorder in rule.shared:
            if recorder not in made:
                made[recorder] = recorder()
            rule._shared[recorder] = made[recorder]
    return list(made.values())


def _attach_metadata(tree: "cst.Module", rules: list[Rule]) -> None:
    """Resolve each declared metadata provider once (only if some rule needs it)."""
    names = sorted({name for rule in rules for name in rule.needs})
    if not names:
        return
    from libcst.metadata import MetadataWrapper

    providers = {name: _provider(name) for name in names}
    resolved = MetadataWrapper(tree, unsafe_skip_copy=True).resolve_many(list(providers.values()))
    tables = {name: resolved[provider] for name, provider in providers.items()}

    def lookup(name: str, node: Any, default: Any) -> Any:
        return tables[name].get(node, default)

    for rule in rules:
        rule._metadata = lookup


def _finding(rule: "Rule | type[Rule]", report: Any, span: Span, context: FileContext) -> Finding:
    safety = report.fix or rule.fix
    line_text = context.lines[span.line - 1] if 0 < span.line <= len(context.lines) else ""
    return Finding(
        rule=rule.id,
        path=context.path,
        span=span,
        message=report.message,
        impact=report.impact or Impact(kind=rule.kind),
        fix=FixInfo(available=safety != "none", safety=safety),
        data=report.data,
        line_text=line_text.strip(),
    )


_PROVIDER_CACHE: dict[str, Any] = {}


def _provider(name: str) -> Any:
    if name not in _PROVIDER_CACHE:
        import importlib

        module_name, _, attr = METADATA_PROVIDERS[name].partition(":")
        _PROVIDER_CACHE[name] = getattr(importlib.import_module(module_name), attr)
    return _PROVIDER_CACHE[name]
