"""The bundled table of typical import costs: what the startup model uses
for an external module when measuring is off or impossible (``impact.source
= "table"``). Measured closures come from ``advisor.evidence.closures``; the
savings are computed on the graph (``startup_model.py``, ``savings.py``).
"""

from __future__ import annotations

import json
from typing import Iterable


def load_table() -> dict[str, float]:
    """The bundled fallback table: module -> typical import ms."""
    from importlib import resources

    text = resources.files("advisor").joinpath("data/import_costs.json").read_text("utf-8")
    return {k: float(v) for k, v in json.loads(text).items() if not k.startswith("_")}


def table_cost(module: str, names: Iterable[str], table: dict[str, float]) -> float | None:
    """The table entry for the module, a submodule named in the import, or a parent."""
    for name in names:
        if f"{module}.{name}" in table:
            return table[f"{module}.{name}"]
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        key = ".".join(parts[:end])
        if key in table:
            return table[key]
    return None
