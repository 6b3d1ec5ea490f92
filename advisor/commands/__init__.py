"""One module per subcommand: ``add_parser(subparsers)`` and ``run(args) -> int``.

These modules import only the standard library at the top.
"""
