"""The deterministic half of a before/after measurement: which modules a
command stopped (or started) loading, and their self times, from one
``-X importtime`` log of each variant.

Why beside the wall time: the set of modules loaded does not wobble with
the machine's load. "pandas and 212 other modules are no longer loaded"
stays true on a noisy runner where the wall time says nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advisor.evidence.importtime import parse_importtime


@dataclass(frozen=True)
class ImportDelta:
    """Modules loaded before but not after (and the reverse), ms self time."""

    removed: dict[str, float] = field(default_factory=dict)
    added: dict[str, float] = field(default_factory=dict)
    #: False when a log held no import records (the command started no Python
    #: that kept the environment): then the delta says nothing.
    logged: bool = True

    @property
    def removed_ms(self) -> float:
        return sum(self.removed.values())

    @property
    def added_ms(self) -> float:
        return sum(self.added.values())

    def lines(self, limit: int = 5) -> list[str]:
        if not self.logged:
            return ["  modules: no -X importtime log (the command did not run a Python that kept PYTHONPROFILEIMPORTTIME)"]
        out = [f"  modules no longer loaded: {len(self.removed)} ({self.removed_ms:.1f} ms self time, one -X importtime run each)"]
        if self.removed:
            out.append("    " + ", ".join(_costliest(self.removed, limit)))
        if self.added:
            out.append(f"  modules newly loaded: {len(self.added)} ({self.added_ms:.1f} ms): "
                       + ", ".join(_costliest(self.added, limit)))
        return out


def import_delta(before_log: str, after_log: str) -> ImportDelta:
    """Compare two import-time logs of the same command."""
    before = _self_times(before_log)
    after = _self_times(after_log)
    if not before or not after:
        return ImportDelta(logged=False)
    return ImportDelta(
        removed={m: ms for m, ms in before.items() if m not in after},
        added={m: ms for m, ms in after.items() if m not in before},
    )


def _self_times(log: str) -> dict[str, float]:
    times: dict[str, float] = {}
    for record in parse_importtime(log):
        times.setdefault(record.module, record.self_us / 1000)
    return times


def _costliest(modules: dict[str, float], limit: int) -> list[str]:
    ranked = sorted(modules.items(), key=lambda item: (-item[1], item[0]))
    shown = [f"{name} ({ms:.1f} ms)" for name, ms in ranked[:limit]]
    if len(ranked) > limit:
        shown.append(f"and {len(ranked) - limit} more")
    return shown


__all__ = ["ImportDelta", "import_delta"]
