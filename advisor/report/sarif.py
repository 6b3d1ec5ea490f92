"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

Valid against the official schema (tests/data/sarif-schema-2.1.0.json).
Each result carries ``partialFingerprints`` from ``Finding.fingerprint``
(rule + path + line text, not the line number), so code scanning keeps
tracking an alert when lines are inserted above it. The estimated saving and
the score go in the result's ``properties``; files that could not be
analysed are ``toolExecutionNotifications`` of the invocation.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Iterable
from urllib.parse import quote

from advisor import __version__

if TYPE_CHECKING:
    from advisor.engine.scan import ScanReport
    from advisor.findings import FileError, Finding
    from advisor.report import RenderOptions
    from advisor.rule import Rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
#: Name of the fingerprint in ``partialFingerprints``; bump the suffix if the recipe changes.
FINGERPRINT_NAME = "advisorFingerprint/v1"
_SECTION = re.compile(r"^## (.+)$", re.MULTILINE)


def render(report: "ScanReport", options: "RenderOptions") -> str:
    rule_ids = list(dict.fromkeys([*report.rules, *(f.rule for f in report.findings)]))
    classes = load_rule_classes(rule_ids)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "advisor",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_descriptor(rule_id, classes.get(rule_id)) for rule_id in rule_ids],
            }
        },
        "invocations": [_invocation(report)],
        # libcst counts columns in code points, not UTF-16 units.
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.rule]) for f in report.findings],
    }
    document = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def load_rule_classes(rule_ids: Iterable[str]) -> dict[str, type["Rule"]]:
    """Built-in rule classes by id (plugin rules the registry cannot see are skipped)."""
    from advisor.registry import builtin_rule_paths, load_class

    paths = builtin_rule_paths()
    classes: dict[str, type[Rule]] = {}
    for rule_id in rule_ids:
        if rule_id in paths:
            try:
                classes[rule_id] = load_class(paths[rule_id])
            except Exception:  # a report must render even if a rule module broke since
                continue
    return classes


def doc_section(docs: str, title: str) -> str:
    """The body of one ``## title`` section of a rule's docs ("" if absent)."""
    parts = _SECTION.split(docs)
    for heading, body in zip(parts[1::2], parts[2::2]):
        if heading.strip() == title:
            return body.strip()
    return ""


def _descriptor(rule_id: str, cls: type["Rule"] | None) -> dict[str, Any]:
    descriptor: dict[str, Any] = {"id": rule_id, "name": _camel(rule_id)}
    if cls is None:
        descriptor["shortDescription"] = {"text": rule_id}
        return descriptor
    docs = cls.docs()
    full = doc_section(docs, "What it does") or cls.summary()
    descriptor.update({
        "shortDescription": {"text": cls.summary()},
        "fullDescription": {"text": " ".join(full.split())},
        "help": {"text": docs, "markdown": f"**{cls.summary()}**\n\n{docs}"},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"kind": cls.kind, "fix": cls.fix, "tags": ["performance", cls.kind]},
    })
    return descriptor


def _result(finding: "Finding", rule_index: int) -> dict[str, Any]:
    span = finding.span
    region: dict[str, Any] = {"startLine": max(span.line, 1), "startColumn": span.column + 1}
    if span.end_line >= span.line:
        region["endLine"] = span.end_line
        # SARIF's endColumn is the column after the region, 1-based: libcst's
        # exclusive 0-based end plus one.
        if span.end_line > span.line or span.end_column > span.column:
            region["endColumn"] = span.end_column + 1
    impact = finding.impact
    properties: dict[str, Any] = {
        "score": finding.score,
        "impactKind": impact.kind,
        "estimateSource": impact.source,
        "fix": finding.fix.safety,
    }
    if impact.estimate_ms is not None:
        properties["estimatedSavingMs"] = impact.estimate_ms
    if finding.reason:
        properties["reason"] = finding.reason
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": "warning",
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {"artifactLocation": artifact(finding.path), "region": region}}],
        "partialFingerprints": {FINGERPRINT_NAME: finding.fingerprint},
        "properties": properties,
    }


def _invocation(report: "ScanReport") -> dict[str, Any]:
    notifications = [_error_notification(e) for e in report.errors]
    notifications += [{"level": "note", "message": {"text": notice}} for notice in report.notices]
    # The scan ran to its end; files it could not analyse are notifications,
    # not a failed run (the CLI still exits 2 for them).
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def _error_notification(error: "FileError") -> dict[str, Any]:
    prefix = f"rule {error.rule} crashed: " if error.rule else ""
    notification: dict[str, Any] = {
        "level": "error",
        "message": {"text": f"{prefix}{error.message}"},
        "descriptor": {"id": f"file-{error.kind}"},
        "locations": [{"physicalLocation": {"artifactLocation": artifact(error.path)}}],
        "properties": {"kind": error.kind},
    }
    if error.rule:
        notification["associatedRule"] = {"id": error.rule}
    return notification


def artifact(path: str) -> dict[str, Any]:
    """An artifactLocation: a percent-encoded relative URI against %SRCROOT%, or a file: URI."""
    pure = PurePath(path)
    if pure.is_absolute():
        from pathlib import Path

        return {"uri": Path(path).as_uri()}
    return {"uri": quote(pure.as_posix(), safe="/"), "uriBaseId": "%SRCROOT%"}


def _camel(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))
