"""`advisor --help` builds one cheap stub per command and imports none of them;
a named command builds and imports only itself. Structural checks, no timing."""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys

import pytest
from conftest import REPO

from advisor.cli import COMMANDS, build_parser, command_in
from advisor.commands import SUMMARIES

COMMAND_MODULES = tuple(f"advisor.commands.{name}" for name in COMMANDS) + ("advisor.commands.common",)


def _modules_after_cli(*argv: str) -> tuple[set[str], str]:
    """Run the CLI as the console script does (it imports re first) in a fresh
    interpreter without site (-S): an editable install's import hook would
    otherwise load pathlib before advisor does. Returns the modules loaded
    after the command and its stdout."""
    code = (
        f"import re, sys, io, contextlib\nsys.path.insert(0, {str(REPO)!r})\n"
        "from advisor.cli import main\nout = io.StringIO()\n"
        f"with contextlib.redirect_stdout(out):\n    try:\n        main({list(argv)!r})\n"
        "    except SystemExit:\n        pass\n"
        "loaded = sorted(sys.modules)\nprint(out.getvalue())\nprint(repr(loaded))"
    )
    result = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    *out, last = result.stdout.rstrip("\n").splitlines()
    return set(ast.literal_eval(last)), "\n".join(out)


@pytest.mark.parametrize("argv", [["--help"], [], ["no-such-command"]])
def test_top_level_help_imports_no_command_module_nor_pathlib_json_typing(argv):
    loaded, out = _modules_after_cli(*argv)
    assert "advisor.cli" in loaded
    unwanted = [m for m in (*COMMAND_MODULES, "pathlib", "json", "typing", "shutil", "textwrap") if m in loaded]
    assert not unwanted, argv
    if argv != ["no-such-command"]:  # that one prints its error on stderr
        assert all(f"    {name}" in out for name in COMMANDS)


def test_a_named_command_imports_only_its_own_module():
    loaded, out = _modules_after_cli("budget", "--help")
    assert "advisor.commands.budget" in loaded and "--max-ms" in out
    assert not [m for m in COMMAND_MODULES if m in loaded and m != "advisor.commands.budget"]


@pytest.mark.parametrize("columns", ["20", "50", "80", "200"])
def test_stub_help_is_what_the_full_parser_with_stock_argparse_prints(columns, monkeypatch):
    monkeypatch.setenv("COLUMNS", columns)
    full = build_parser(full=True)
    full.formatter_class = argparse.RawDescriptionHelpFormatter
    assert build_parser().format_help() == full.format_help()
    assert build_parser().format_usage() == full.format_usage()


def test_every_command_is_listed_in_order_with_its_summary():
    (subparsers,) = [a for a in build_parser(full=True)._actions if isinstance(a, argparse._SubParsersAction)]
    listed = [(action.dest, action.help) for action in subparsers._choices_actions]
    assert listed == list(SUMMARIES.items())
    assert list(subparsers.choices) == list(COMMANDS)


def test_unknown_command_error_is_the_same_as_with_every_command_built(capsys):
    errors = []
    for parser in (build_parser(), build_parser(full=True)):
        with pytest.raises(SystemExit):
            parser.parse_args(["no-such-command"])
        errors.append(capsys.readouterr().err)
    assert errors[0] == errors[1] and "invalid choice" in errors[0]


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["scan", "src"], "scan"),
        (["--debug", "fix", "--diff"], "fix"),
        (["-h", "rules"], "rules"),
        (["--help"], None),
        ([], None),
        (["bogus", "scan"], None),
        (["--", "scan"], None),
    ],
)
def test_command_in(argv, command):
    assert command_in(argv) == command


def test_main_runs_the_named_command_with_its_full_parser(capsys):
    from advisor.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--debug", "scan", "--help"])
    assert exit_info.value.code == 0
    assert "--write-baseline" in capsys.readouterr().out
