"""n-plus-one through the project's own functions: a loop that calls, once per
item, a project function that makes a round trip a level or two down.

The ``ast`` call facts of every file (``calls.file_calls``) say which of its
functions make a round trip on every call ("trips") and which calls are made
once per item of a loop, with arguments that change with the item, to a
function that may be the project's ("items": plain lists, not findings, so a
big project pays little for the many that lead nowhere). The project-wide
step makes a finding of an item when its callee, or a function it calls
(outside loops, not behind a cache), makes a round trip, and says through
which calls. A loop over hosts, plugins, tables, chunks or pages
(``calls.ONE_EACH_WORDS``) has no per-item calls: each item is its own round
trip, or already a batch.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterable

from advisor.findings import Span
from advisor.rules.support.call_index import CallIndex, Site
from advisor.rules.support.calls import PerItemCall, byte_column
from advisor.rules.support.round_trips import FACTORIES, ROUND_TRIPS, roots

if TYPE_CHECKING:
    from advisor.findings import Finding
    from advisor.project import Project

#: Libraries whose calls the walk judges itself (requests, boto3, redis, ...): never the project's.
_LIBRARIES = roots((*ROUND_TRIPS, *FACTORIES)) - {"dbapi"}


def candidate_items(calls: list[PerItemCall], lines: tuple[str, ...], known: frozenset[str] | set[str] = frozenset(),
                    rule_id: str = "") -> list[list[Any]]:
    """Plain facts for the calls made once per loop item to a function that may
    be the project's (not a library's, not one of the ``known`` round trips,
    which the walk reports itself; not on a line that silences ``rule_id``):
    ``[target, label, caller, line, column, end line, end column, line text]``.
    The project-wide step makes a finding of the few whose callee makes a round trip."""
    items: list[list[Any]] = []
    if calls and _silenced_file(lines, rule_id):
        return items
    for call in calls:
        if call.target.split(".", 1)[0] in _LIBRARIES or call.target in known:
            continue
        if _silenced(lines, rule_id, call.line, call.end_line):
            continue
        text = lines[call.line - 1].strip() if 0 < call.line <= len(lines) else ""
        items.append([call.target, call.label, call.caller, call.line, _column(lines, call.line, call.column),
                      call.end_line, _column(lines, call.end_line, call.end_column), text])
    return items


#: ``# advisor: ignore`` / ``# advisor: ignore[ids]`` on a line (the engine's suppression comment).
_IGNORE = re.compile(r"#\s*advisor:\s*ignore\b(?:\[([^\]]*)\])?")


#: ``# advisor: ignore-file`` / ``# advisor: ignore-file[ids]`` on a line of its own.
_IGNORE_FILE = re.compile(r"^\s*#\s*advisor:\s*ignore-file\b(?:\[([^\]]*)\])?")


def _silenced_file(lines: tuple[str, ...], rule_id: str) -> bool:
    for line in lines:
        match = _IGNORE_FILE.match(line) if "ignore-file" in line else None
        if match and (match.group(1) is None or rule_id in {i.strip() for i in match.group(1).split(",")}):
            return True
    return False


def _silenced(lines: tuple[str, ...], rule_id: str, *numbers: int) -> bool:
    """The line silences the rule. The engine applies file-wide comments and the
    comments of findings made in the worker; a finding made project-wide from
    these facts is checked here, on its first and last line."""
    for number in set(numbers):
        line = lines[number - 1] if 0 < number <= len(lines) else ""
        if "advisor" not in line:
            continue
        match = _IGNORE.search(line)
        if match and (match.group(1) is None or rule_id in {i.strip() for i in match.group(1).split(",")}):
            return True
    return False


def _column(lines: tuple[str, ...], line: int, offset: int) -> int:
    return byte_column(lines[line - 1], offset) if 0 < line <= len(lines) and not lines[line - 1].isascii() else offset


def through_calls_findings(findings: list["Finding"], project: "Project", rule: Any) -> Iterable["Finding"]:
    """The rule's findings, then one for each per-item call (``items`` facts) whose
    callee makes a round trip a level or two down, naming the chain of calls.
    A call that is itself a round trip is reported by the walk, not again here."""
    yield from findings
    direct = {(f.path, f.span.line) for f in findings}
    index: CallIndex | None = None
    for file, facts in project.facts_of(rule.id):
        items = facts.get("items") if isinstance(facts, dict) else None
        if not items:
            continue
        if index is None:
            index = CallIndex.of(project, rule.id)
        for target, label, caller, line, column, end_line, end_column, text in items:
            if (file.path, line) in direct:
                continue
            found = _trip_below(index, target)
            if found is not None:
                span = Span(line, column, end_line, end_column)
                yield _finding_for(rule, file.path, span, text, f"{label}()", *found)


def _trip_below(index: CallIndex, target: str) -> tuple[str, list[Site], list[Any]] | None:
    """(the callee, the calls down to the function that makes the trip, the trip)."""
    callee = index.resolve(target)
    if callee is None or index.functions[callee].cached:
        return None
    if callee in index.trips:
        return callee, [], index.trips[callee]
    for chain in index.calls_below(callee, depth=2):
        trip = index.trips.get(chain[-1].target)
        if trip is not None:
            return callee, chain, trip
    return None


def _finding_for(rule: Any, path: str, span: Span, text: str, call_text: str, callee: str, chain: list[Site],
                 trip: list[Any]) -> "Finding":
    from advisor.findings import FixInfo, Finding, Impact

    trip_path, line, call, what, batch = trip
    via = [f"{s.where}" for s in reversed(chain)]
    where = f"{trip_path}:{line}" + (f" via {', '.join(via)}" if via else "")
    message = f"`{call_text}` in a loop runs one {what} per item (`{call}` at {where}): {batch}, once before the loop"
    data = {"call": call_text, "what": what, "round_trip": "through-calls",
            "trip": f"{trip_path}:{line}", "via": via, "callee": callee}
    return Finding(rule=rule.id, path=path, span=span, message=message, impact=Impact(kind=rule.kind),
                   fix=FixInfo(available=rule.fix != "none", safety=rule.fix), data=data, line_text=text)
