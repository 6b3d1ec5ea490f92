"""Is a cacheable function called repeatedly across the project? missing-cache's
project-wide decision, from the call index (``call_index.CallIndex``).

The function's own module was judged in the walk (libcst); here only calls
from other modules are added, each checked as strictly as a local one: its
arguments must be able to key a cache (none, constants, or parameters the
function annotates as hashable) and, unless the function returns an
immutable value, its result must only be read where it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from advisor.rules.support.calls import CONSTANT_ARGS, NO_ARGS, NOT_IN_LOOP, READ

if TYPE_CHECKING:
    from advisor.findings import Finding
    from advisor.rules.support.call_index import CallIndex, Site


def called_repeatedly(finding: "Finding", index: CallIndex, module: str,
                      min_call_sites: int) -> tuple[str, list[str]] | None:
    """(how it is called, the call sites that show it) or None when the project
    does not call it repeatedly, or one of its calls could not share a cached answer."""
    from advisor.rules.support.call_index import MODULE_CODE

    data: dict[str, Any] = finding.data
    name = f"{module}.{data['function']}" if module else str(data["function"])
    sites = index.callers.get(name, [])
    # its own module's calls were checked in the walk (a method's ``self.name()`` calls were not)
    others = sites if data.get("method") else [s for s in sites if s.path != finding.path]
    if not all(_shareable(s, data) for s in others):
        return None
    chain = index.loop_chain(name)
    if chain is not None:
        return _loop_words(chain), [s.where for s in chain]
    counted = [s for s in others if not s.caller.endswith(f":{MODULE_CODE}")]  # module code runs once
    total = int(data.get("local_sites", 0)) + len(counted)
    if total >= min_call_sites:
        return f"from {total} call sites", [s.where for s in counted]
    return None


def _shareable(site: Site, data: dict[str, Any]) -> bool:
    args_ok = site.args in (NO_ARGS, CONSTANT_ARGS) or bool(data.get("hashable"))
    return args_ok and (bool(data.get("immutable")) or site.use == READ)


def _loop_words(chain: list[Site]) -> str:
    """"in a loop at app/orders.py:12" or "... through `price()`" for a chain of calls."""
    top = chain[0]
    words = f"in a loop at {top.where}" if top.loop != NOT_IN_LOOP else f"from {top.where}"
    through = [s.target.rsplit(".", 1)[-1] for s in chain[:-1]]
    if through:
        words += ", through " + ", ".join(f"`{name}()`" for name in through)
    return words
