"""n-plus-one through the project's own functions: a loop that calls, once per
item, a project function that makes a round trip a level or two down.

The ``ast`` call facts of every file (``calls.file_calls``) say which of its
functions make a round trip on every call ("trips") and give the candidates:
calls made once per item of a loop, with arguments that change with the
item, to a function that may be the project's. The project-wide step keeps a
candidate when its callee, or a function it calls (outside loops, not behind
a cache), makes a round trip, and says through which calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from advisor.findings import Span
from advisor.rule import TreeFreeReport
from advisor.rules.support.call_index import CallIndex, Site
from advisor.rules.support.calls import PerItemCall, byte_column
from advisor.rules.support.round_trips import FACTORIES, ROUND_TRIPS, roots

if TYPE_CHECKING:
    from advisor.findings import Finding
    from advisor.project import Project

#: Data key of a candidate call (its target), shown only when a round trip is found below it.
CANDIDATE = "through"


#: Libraries whose calls the walk judges itself (requests, boto3, redis, ...): never the project's.
_LIBRARIES = roots((*ROUND_TRIPS, *FACTORIES)) - {"dbapi"}


def candidate_reports(calls: list[PerItemCall], lines: tuple[str, ...],
                      known: frozenset[str] | set[str] = frozenset()) -> list[TreeFreeReport]:
    """A report per call made once per loop item to a function that may be the
    project's (not a library's, not one of the ``known`` round trips, which the
    walk reports itself): kept project-wide only if that function makes a round trip."""
    reports: list[TreeFreeReport] = []
    for call in calls:
        if call.target.split(".", 1)[0] in _LIBRARIES or call.target in known:
            continue
        span = Span(call.line, _column(lines, call.line, call.column), call.end_line,
                    _column(lines, call.end_line, call.end_column))
        reports.append(TreeFreeReport(span, f"`{call.label}()` in a loop may make a round trip per item",
                                      {CANDIDATE: call.target, "call": f"{call.label}()", "caller": call.caller}))
    return reports


def _column(lines: tuple[str, ...], line: int, offset: int) -> int:
    return byte_column(lines[line - 1], offset) if 0 < line <= len(lines) else offset


def refine_candidates(findings: list["Finding"], project: "Project", rule_id: str) -> Iterable["Finding"]:
    """The rule's findings, candidates replaced by a finding that names the chain
    of calls, or dropped when no round trip is below."""
    direct = {(f.path, f.span.line) for f in findings if CANDIDATE not in f.data}
    index: CallIndex | None = None
    for finding in findings:
        if CANDIDATE not in finding.data:
            yield finding
            continue
        if (finding.path, finding.span.line) in direct:
            continue  # the call is itself a round trip, reported as such
        if index is None:
            index = CallIndex.of(project, rule_id)
        found = _trip_below(index, finding.data[CANDIDATE])
        if found is not None:
            yield _finding_for(finding, *found)


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


def _finding_for(finding: "Finding", callee: str, chain: list[Site], trip: list[Any]) -> "Finding":
    path, line, call, what, batch = trip
    via = [f"{s.where}" for s in reversed(chain)]
    where = f"{path}:{line}" + (f" via {', '.join(via)}" if via else "")
    message = f"`{finding.data['call']}` in a loop runs one {what} per item (`{call}` at {where}): {batch}, once before the loop"
    data = {"call": finding.data["call"], "what": what, "round_trip": "through-calls",
            "trip": f"{path}:{line}", "via": via, "callee": callee}
    return finding.with_(message=message, data=data)
