"""Helpers shared by the built-in rules, each named for what it does:
``frames`` (loops, frames and bindings for the loop rules), ``scopes`` (scope
and loop bookkeeping), ``syntax`` (what a body binds, mutates and calls),
``purity`` (is a function deterministic, what costly work it does),
``round_trips`` (the catalog of I/O calls and their batch APIs), ``imports``
(import statements as data) and ``cstwalk`` (a fast read-only subtree walk)."""
