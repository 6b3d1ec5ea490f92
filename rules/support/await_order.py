"""Is a series of awaits in a loop deliberate, or not worth overlapping?
(sequential-await, issue 17.)

Shapes seen on real async code where one await per item is right:

- the loop walks *batches* or *chunks* (``for batch in batches: await
  self.abatch(batch)``): the series is what bounds the concurrency;
- a comment in or just above the loop says the order matters ("need
  explicit ordering", "one at a time", "sequentially"): the author has
  already answered the question the rule would ask;
- the loop walks *handlers*, hooks, callbacks, middlewares, listeners,
  plugins or migrations (``for handler in plan: await execute(handler=...)``):
  running them in their order is the point of the loop;
- the awaited coroutine only *formats* (``aformat``, ``aformat_messages``,
  ``aformat_document``): async for interface reasons, no I/O to overlap.

Each answer errs towards silence; they are read only for a loop that
already has a candidate await, so they cost nothing on other loops.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from advisor._lazy import lazy_module

from advisor.rules.support.syntax import names_read

if TYPE_CHECKING:
    import libcst as cst
else:
    cst = lazy_module("libcst")

#: Names of a loop's target or iterable that say it walks groups of items.
_BATCHED = re.compile(r"batch|chunk", re.I)
#: Names of a loop's target that say each item is a step to run in order.
_STEPS = re.compile(r"handler|hook|callback|middleware|listener|plugin|migration|interceptor", re.I)
#: Comments that say the series is on purpose.
_ORDERED = re.compile(
    r"\b(in order|ordering|ordered|order matters|sequential(ly)?|one (at a time|by one|after (the )?other)|"
    r"serial(ly|i[sz]ed?)?|do not (use )?(gather|parallel|concurren))", re.I)
#: Callee names of coroutines that only format text or messages.
_FORMATS = re.compile(r"^a?format(_|$)")


def walks_batches(loop_node: Any) -> bool:
    """The loop's target or iterable names batches or chunks."""
    parts = [getattr(loop_node, "target", None), getattr(loop_node, "iter", None)]
    return any(_BATCHED.search(name) for part in parts if part is not None for name in names_read(part))


def runs_steps(loop_node: Any) -> bool:
    """The loop's target names handlers, hooks, callbacks, plugins, ...: each runs in turn."""
    target = getattr(loop_node, "target", None)
    return target is not None and any(_STEPS.search(name) for name in names_read(target))


def formats_only(name: str) -> bool:
    """``aformat``/``aformat_messages``/``format_prompt``: formatting, no I/O."""
    return bool(_FORMATS.match(name))


def says_ordered(loop_node: Any, statement: Any) -> bool:
    """A comment inside the loop, above it, or above the statement holding a
    comprehension says the order matters."""
    texts = [line.comment.value for holder in (loop_node, statement) if holder is not None
             for line in getattr(holder, "leading_lines", ()) if line.comment is not None]
    texts.extend(_comments_in(loop_node))
    return any(_ORDERED.search(text) for text in texts)


def _comments_in(node: Any) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Comment):
            found.append(current.value)
        stack.extend(current.children)
    return found
