"""``advisor rules``: list the rules, their fix tier and one-line summary."""

from __future__ import annotations

import argparse

from advisor.commands import SUMMARIES


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("rules", help=SUMMARIES["rules"], description="List every rule: id, kind, fix tier, summary.")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--config", metavar="FILE", help="read plugins from FILE's [tool.advisor]")
    parser.set_defaults(run=run_rules)


def run_rules(args: argparse.Namespace) -> int:
    from pathlib import Path

    from advisor.commands.common import load_config_for
    from advisor.registry import all_rules, enabled_rule_ids

    config = load_config_for([Path.cwd()], args)
    rules = all_rules(config)
    enabled = set(enabled_rule_ids(config, rules))
    rows = [
        {"id": r.id, "kind": r.kind, "fix": r.fix, "enabled": r.id in enabled, "summary": r.summary()}
        for r in rules.values()
    ]
    if args.format == "json":
        import json

        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(r.id) for r in rules.values()) if rows else 0
    for row in rows:
        mark = " " if row["enabled"] else "-"
        print(f"{mark} {row['id']:<{width}}  {row['kind']:<8} fix:{row['fix']:<7} {row['summary']}")
    print("\n'-' marks rules disabled by your configuration. `advisor explain ID` shows a rule's docs.")
    return 0
