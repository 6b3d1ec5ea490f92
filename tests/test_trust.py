"""What a project's configuration may make advisor run (advisor.trust), and
how import measurement is isolated from the scanned tree."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from advisor.config import Config
from advisor.trust import checked_config, interpreter_problem, tree_roots

BASE = str(Path(getattr(sys, "_base_executable", sys.executable)).resolve())


def _roots(tmp_path: Path) -> list[str]:
    return [os.path.realpath(tmp_path / "tree")]


def test_an_interpreter_outside_the_tree_may_run(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    assert interpreter_problem(BASE, tmp_path / "tree", _roots(tmp_path)) == ""
    assert interpreter_problem(sys.executable, tmp_path / "tree", _roots(tmp_path)) == ""  # a venv outside
    assert interpreter_problem(Path(BASE).name, tmp_path / "tree", _roots(tmp_path)) in ("", "it is not on PATH")


@pytest.mark.parametrize("layout", ["file-in-tree", "link-in-tree-to-outside-venv-in-tree", "link-out-of-tree-to-in",
                                    "missing", "relative-parent"])
def test_an_interpreter_the_tree_controls_is_refused(tmp_path: Path, layout: str) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    if layout == "file-in-tree":
        (tree / "evil").write_text("#!/bin/sh\n")
        python, expected = "./evil", "inside the scanned tree"
    elif layout == "link-in-tree-to-outside-venv-in-tree":
        (tree / ".venv" / "bin").mkdir(parents=True)
        (tree / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
        (tree / ".venv" / "bin" / "python").symlink_to(BASE)
        python, expected = ".venv/bin/python", "its environment"
    elif layout == "link-out-of-tree-to-in":
        (tree / "evil").write_text("#!/bin/sh\n")
        (tmp_path / "outside-link").symlink_to(tree / "evil")
        python, expected = str(tmp_path / "outside-link"), "inside the scanned tree"
    elif layout == "missing":
        python, expected = "./nothing-here", "not a file"
    else:  # a pyproject.toml in a sub-folder naming a file elsewhere in the same repository
        (tree / ".git").mkdir()
        (tree / "evil").write_text("#!/bin/sh\n")
        config = Config(root=tree / "sub", python="../evil")
        assert "inside the scanned tree" in interpreter_problem("../evil", tree / "sub", tree_roots(config, [tree / "sub"]))
        return
    assert expected in interpreter_problem(python, tree, [os.path.realpath(tree)])


def test_checked_config_falls_back_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "evil").write_text("#!/bin/sh\n")
    config = Config(root=tmp_path, source=tmp_path / "pyproject.toml", python="./evil")
    checked = checked_config(config, [tmp_path], python_given=False)
    assert checked.python == sys.executable
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "pass --python PATH" in err
    assert checked_config(config, [tmp_path], python_given=True).python == "./evil"  # the user's own choice
    assert capsys.readouterr().err == ""


def test_measuring_runs_isolated_from_the_tree_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No PYTHONPATH, no current directory, no script directory on the measuring interpreter's path."""
    from advisor.evidence.importtime import run_isolated

    (tmp_path / "json.py").write_text("raise SystemExit('shadowed')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("PYTHONSTARTUP", str(tmp_path / "json.py"))
    monkeypatch.chdir(tmp_path)
    done = run_isolated([sys.executable, "-c", "import json, os, sys; print(json.__file__); print(os.getcwd()); "
                         "print(sys.flags.isolated); print([p for p in sys.path if p in ('', os.getcwd())])"], 60)
    assert done.returncode == 0, done.stderr
    module, cwd, isolated, cwd_on_path = done.stdout.splitlines()
    assert not module.startswith(str(tmp_path)) and not cwd.startswith(str(tmp_path))
    assert isolated == "1" and cwd_on_path == "[]"
    assert not Path(cwd).exists()  # a fresh directory, removed afterwards
    site = run_isolated([sys.executable, "-c", "import libcst; print(libcst.__file__)"], 60)
    assert site.returncode == 0, site.stderr  # the interpreter's own site-packages stay visible


def test_python_m_advisor_drops_the_current_directory_from_its_path(tmp_path: Path) -> None:
    import subprocess

    marker = tmp_path / "ran"
    (tmp_path / "argparse.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    done = subprocess.run([sys.executable, "-m", "advisor", "--version"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
