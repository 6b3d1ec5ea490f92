"""One module per subcommand: ``add_parser(subparsers)`` and ``run(args) -> int``.

These modules import only the standard library at the top. This package
itself imports nothing: ``advisor --help`` reads :data:`SUMMARIES` from here
without loading any command module.
"""

#: Command name -> one-line summary, in ``--help`` order. The single source of
#: the text: both the cheap stub parser (``advisor --help``) and each command's
#: own ``add_parser`` use it, so the two can never drift apart.
SUMMARIES = {
    "scan": "find and rank optimization opportunities",
    "fix": "apply safe fixes (codemods), optionally verified and measured",
    "rules": "list the available rules",
    "explain": "show what a rule finds, why it matters and how to fix it",
    "budget": "fail when a command's startup time exceeds a budget",
    "profile": "profile a Python command to rank findings by measured time",
}
