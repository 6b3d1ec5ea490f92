"""Options and helpers several commands share."""

from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~5 ms at startup
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Callable, TextIO

    from advisor.config import Config


def csv_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def add_config_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("configuration")
    group.add_argument("--config", metavar="FILE", help="read [tool.advisor] from FILE instead of the project's pyproject.toml")
    group.add_argument("--isolated", action="store_true",
                       help="ignore every configuration file (and the default profile): for code you do not trust, "
                       "since plugins named in a project's config run (see docs/security.md)")
    group.add_argument("--select", type=csv_list, metavar="IDS", help="only these rules (comma-separated ids; ALL for every rule)")
    group.add_argument("--ignore", type=csv_list, metavar="IDS", help="skip these rules (comma-separated ids)")
    group.add_argument("--exclude", action="append", metavar="PATTERN", default=None,
                       help="skip files and directories matching PATTERN (gitignore-style; repeatable)")
    group.add_argument("--force-exclude", action="store_true", default=None,
                       help="apply excludes to files named on the command line too (for pre-commit)")
    group.add_argument("--python", metavar="PATH",
                       help="the interpreter that measures import costs (default: this one; one named in the project's "
                       "config is used only if it and its environment lie outside the scanned tree)")
    group.add_argument("--measure-project", action="store_true",
                       help="import the project's own modules to measure them (runs their top-level code; "
                       "default: derive their cost from what they import). Never read from a config file")
    group.add_argument("--target-version", metavar="X.Y", help="the oldest Python the project supports (default: from requires-python)")


def load_config_for(paths: list[Path], args: argparse.Namespace) -> "Config":
    """Find the project root from the first path, read its config, apply CLI overrides."""
    from pathlib import Path

    from advisor.config import find_project_root, with_overrides
    from advisor.trust import checked_config

    start = paths[0] if paths else Path.cwd()
    root = find_project_root(start if start.exists() else Path.cwd())
    config = _read_config(root, args)
    for deprecation in config.deprecations:
        print(f"advisor: warning: {deprecation}", file=sys.stderr)
    exclude = tuple(config.exclude) + tuple(args.exclude or ()) if getattr(args, "exclude", None) else None
    config = with_overrides(
        config,
        select=tuple(args.select) if getattr(args, "select", None) else None,
        ignore=tuple(config.ignore) + tuple(args.ignore) if getattr(args, "ignore", None) else None,
        exclude=exclude,
        python=getattr(args, "python", None),
        force_exclude=getattr(args, "force_exclude", None),
        target_version=getattr(args, "target_version", None),
        measure_project=getattr(args, "measure_project", None) or None,
    )
    return checked_config(config, paths or [Path.cwd()], python_given=getattr(args, "python", None) is not None)


def with_measuring_interpreter(config: "Config", paths: "list[Path]", args: argparse.Namespace) -> "Config":
    """``config`` measuring in the project's own interpreter when --python was
    not given (advisor.interpreter: the active virtualenv, or an environment
    outside the tree the trust rules accept); the choice is said on stderr."""
    if not config.measure_imports:
        return config
    from dataclasses import replace
    from pathlib import Path

    from advisor.interpreter import choose_interpreter

    choice = choose_interpreter(config, paths or [Path.cwd()], python_given=getattr(args, "python", None) is not None,
                                isolated=bool(getattr(args, "isolated", False)))
    if not getattr(args, "quiet", False):
        for notice in choice.notices:
            print(f"advisor: {notice}", file=sys.stderr)
    return replace(config, python=choice.python, python_source=choice.source)


def _read_config(root: "Path", args: argparse.Namespace) -> "Config":
    """The project's configuration, or none at all with --isolated (as Ruff's)."""
    from pathlib import Path

    from advisor.config import Config, load_config
    from advisor.errors import UsageError

    if getattr(args, "isolated", False):
        if getattr(args, "config", None):
            raise UsageError("--isolated ignores every configuration file: it cannot be combined with --config")
        return Config(root=root)
    return load_config(root, Path(args.config) if getattr(args, "config", None) else None)


def use_color(choice: str, stream: object) -> bool:
    """--color auto: only on a terminal, and never when NO_COLOR is set."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """Progress on stderr once the work has taken more than a moment.

    On a terminal: one line, rewritten in place. Elsewhere (a CI log, stderr
    redirected to a file): a plain line after a few seconds and then every
    ``every`` seconds at most, so a long scan is visibly alive without
    filling the log. stdout is never written, so it works whatever the
    output format and destination.
    """

    def __init__(self, enabled: bool, delay: float = 0.7, plain_delay: float = 3.0, every: float = 10.0,
                 stream: "TextIO | None" = None, clock: "Callable[[], float] | None" = None) -> None:
        import time

        self.stream: TextIO = stream if stream is not None else sys.stderr
        self.clock: Callable[[], float] = clock if clock is not None else time.monotonic
        self.enabled = enabled
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = self.clock()
        self.delay = delay if self.terminal else plain_delay
        self.every = every
        self.last = float("-inf")
        self.shown = False

    def __call__(self, message: str) -> None:
        now = self.clock()
        if not self.enabled or now - self.started < self.delay:
            return
        if self.terminal:
            self.stream.write(f"\r\033[K{message}")
        elif now - self.last >= self.every:
            self.stream.write(f"advisor: {message}\n")
            self.last = now
        else:
            return
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown and self.terminal:
            self.stream.write("\r\033[K")
            self.stream.flush()
