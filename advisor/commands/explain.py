"""``advisor explain ID``: print a rule's documentation (the same page as docs/rules/ID.md)."""

from __future__ import annotations

import argparse

from advisor.commands import SUMMARIES


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("explain", help=SUMMARIES["explain"],
                                   description="Print a rule's documentation.")
    parser.add_argument("rule", metavar="ID", help="a rule id, as listed by `advisor rules`")
    parser.add_argument("--config", metavar="FILE", help="read plugins from FILE's [tool.advisor]")
    parser.set_defaults(run=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    from pathlib import Path

    from advisor.commands.common import load_config_for
    from advisor.docs import render_rule_page
    from advisor.registry import all_rules, check_ids

    config = load_config_for([Path.cwd()], args)
    rules = all_rules(config)
    check_ids([args.rule], rules, "explain")
    print(render_rule_page(rules[args.rule]), end="")
    return 0
