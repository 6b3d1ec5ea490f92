"""Imports that save only together: two lines (in one file or two) that load
the same costly module each save nothing alone, since the other keeps it
loaded; deferred together they remove it. Each finding's own figure is taken
with everything else unchanged, so such lines would never be reported.

Here the candidates that fell under the threshold are grouped by the modules
they would remove together (connected through shared modules), and a group
whose joint saving, computed on the graph, reaches the threshold is reported:
each member with the group's figure and the other members named, so nobody
reads the figures as separate savings to add up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advisor.evidence.startup import Saving
    from advisor.findings import Finding
    from advisor.rules.lazy_imports.startup_model import StartupModel


@dataclass(frozen=True)
class Group:
    """Candidates that save only together, and what they save together."""

    members: tuple[tuple["Finding", str], ...]  # (finding, statement id)
    saving: "Saving"

    @property
    def best_ms(self) -> float:
        return max([saved for saved, _ in self.saving.per_entry.values()] + [0.0])


def together(model: "StartupModel", pending: list[tuple["Finding", str]], threshold: float) -> list[Group]:
    """The groups of ``pending`` (findings under the threshold alone, with their
    statement ids) whose joint saving reaches ``threshold``."""
    if len(pending) < 2:
        return []
    joint = model.saving([s for _, s in pending])
    if not joint.removed:
        return []
    reach = {s: _reach(model, s) & joint.removed for _, s in pending}
    parent = {s: s for _, s in pending}

    def find(s: str) -> str:
        while parent[s] != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    owner: dict[str, str] = {}
    for _, s in pending:
        for module in reach[s]:
            if module in owner:
                parent[find(s)] = find(owner[module])
            else:
                owner[module] = s
    components: dict[str, list[tuple["Finding", str]]] = {}
    for finding, s in pending:
        if reach[s]:
            components.setdefault(find(s), []).append((finding, s))
    groups = []
    for members in components.values():
        if len(members) < 2:
            continue
        group = Group(tuple(members), model.saving([s for _, s in members]))
        if group.best_ms >= threshold:
            groups.append(group)
    return groups


def _reach(model: "StartupModel", statement: str) -> set[str]:
    """The modules a statement's targets load (their measured closures)."""
    graph = model.graph
    owner = graph.owners.get(statement, "")
    targets = next((s.targets for s in graph.project.get(owner, ()) if s.id == statement), ())
    found = set(targets)
    for target in targets:
        found.update(graph.closures.get(target, {}))
    return found


def others_text(group: Group, finding: "Finding") -> str:
    """" (saved only with `import numpy` in pkg/b.py:1 deferred too)"."""
    others = [(f, s) for f, s in group.members if f is not finding]
    named = ", ".join(f"`{f.data['statement']}` in {f.path}:{f.span.line}" for f, _ in others[:2])
    more = f" and {len(others) - 2} more" if len(others) > 2 else ""
    return f" (saved only with {named}{more} deferred too)"


__all__ = ["Group", "others_text", "together"]
