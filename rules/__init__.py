"""advisor's built-in rules, shipped as ``advisor.rules``: one module per rule.

The map below names each rule's class by import path, so listing rules and
resolving ``--select`` never imports a rule module that is not used.
"""

BUILTIN_RULES: dict[str, str] = {
    "lazy-imports": "advisor.rules.lazy_imports:LazyImports",
}
