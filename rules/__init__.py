"""advisor's built-in rules, shipped as ``advisor.rules``: one module per rule.

The map below names each rule's class by import path, so listing rules and
resolving ``--select`` never imports a rule module that is not used.
"""

BUILTIN_RULES: dict[str, str] = {
    "lazy-imports": "advisor.rules.lazy_imports.rule:LazyImports",
    "n-plus-one": "advisor.rules.n_plus_one:NPlusOne",
    "blocking-in-async": "advisor.rules.blocking_in_async:BlockingInAsync",
    "sequential-await": "advisor.rules.sequential_await:SequentialAwait",
    "loop-invariant": "advisor.rules.loop_invariant:LoopInvariant",
    "concat-in-loop": "advisor.rules.concat_in_loop:ConcatInLoop",
    "quadratic-membership": "advisor.rules.quadratic_membership:QuadraticMembership",
    "missing-cache": "advisor.rules.missing_cache:MissingCache",
}
