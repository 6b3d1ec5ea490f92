"""Scanning a checkout must be as safe as reading it (issue 16).

A checkout is built at test time in which every way we know for a scanned
tree to get its code run writes a marker file (outside the tree) if it ever
runs: pickles planted where caches were or are, an interpreter named in its
config, modules shadowing the stdlib (``json.py``, ``typing.py``,
``sitecustomize.py``, ...) at the root and in the source root, ``.pth``
files, a committed virtualenv whose ``.pth`` runs code, package code that
runs on import, ``conftest.py``, ``setup.py``, a plugin in its config. Every
command a user runs on untrusted code runs on it; no marker may appear, and
the report must still hold the findings the checkout really has.

Positive controls prove each kind of vector is live (it does write its
marker when run the way it would be run), so these tests can fail.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import run_advisor

#: Code every vector runs: write the named marker into the markers directory.
MARK = "import os as _o; open(_o.path.join({where!r}, {name!r}), 'w').close()\n"

#: Modules advisor, the interpreter's startup or a measured statement would
#: import by name. (Not the names the checkout's own code imports: in the
#: checkout those *are* its modules, and it is scanned as such.)
SHADOWS = ("json", "typing", "sitecustomize", "usercustomize", "argparse", "re", "enum", "functools", "tempfile",
           "subprocess", "shutil", "__future__", "importlib_metadata", "pickle", "tomllib")

CLI = '''\
"""The checkout's real code: imports that only functions use."""

import asyncio
from email.mime.multipart import MIMEMultipart

from hostile import helpers


def run(coro):
    return asyncio.run(coro)


def mail():
    return MIMEMultipart()


def help_text():
    return helpers.TEXT
'''

HELPERS = '''\
"""A project module: runs code on import, and imports an installed module."""
{mark}
from http import client

TEXT = client.responses[200]
'''


class Payload:
    """A pickle that runs code when loaded (``__reduce__``)."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return exec, (self.code,)


def mark(markers: Path, name: str) -> str:
    return MARK.format(where=str(markers), name=name)


def build_checkout(root: Path, markers: Path, *, python: str = "./evil", extra_config: str = "") -> Path:
    """The hostile checkout, every vector armed."""
    root.mkdir(parents=True)
    markers.mkdir(exist_ok=True)
    (root / "pyproject.toml").write_text(textwrap.dedent(f'''\
        [project]
        name = "hostile"
        requires-python = ">=3.10"

        [project.scripts]
        hostile = "hostile.cli:main"

        [tool.advisor]
        python = "{python}"
        cache-dir = ".advisor/cache"
        {extra_config}
        '''), "utf-8")
    evil = root / "evil"
    evil.write_text(f"#!/bin/sh\ntouch '{markers}/config-python'\nexec '{sys.executable}' \"$@\"\n", "utf-8")
    evil.chmod(0o755)
    source = root / "src"
    package = source / "hostile"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(mark(markers, "package-init"), "utf-8")
    (package / "cli.py").write_text(CLI, "utf-8")
    (package / "helpers.py").write_text(HELPERS.format(mark=mark(markers, "project-module")), "utf-8")
    (package / "__main__.py").write_text(mark(markers, "package-main"), "utf-8")
    for where, folder in (("root", root), ("src", source)):
        for name in SHADOWS:
            (folder / f"{name}.py").write_text(mark(markers, f"shadow-{name}-{where}"), "utf-8")
        (folder / "evil.pth").write_text(mark(markers, f"pth-{where}"), "utf-8")
        (folder / "conftest.py").write_text(mark(markers, f"conftest-{where}"), "utf-8")
    (root / "setup.py").write_text(mark(markers, "setup-py"), "utf-8")
    (root / "tests").mkdir()
    (root / "tests" / "test_it.py").write_text(mark(markers, "test-module") + "def test_x():\n    pass\n", "utf-8")
    _plant_caches(root, markers)
    return root


def _plant_caches(root: Path, markers: Path) -> None:
    """Pickles where advisor kept caches before (in the tree) and where it
    keeps them now (the user's cache folder for this project), under every
    name advisor reads or read."""
    from advisor.cache_files import project_cache_dir

    payload = pickle.dumps(Payload(mark(markers, "pickle")))
    for folder in (root / ".advisor" / "cache", project_cache_dir(root)):
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("last-scan.pickle", "results-0123456789abcdef0123.pickle", "last-scan.json",
                     "importtime.json", "results-0123456789abcdef0123.json"):
            (folder / name).write_bytes(payload)
    (root / ".advisor" / "profile.pyisession").write_bytes(payload)
    (root / ".advisor" / "importtime.log").write_bytes(payload)


def build_committed_venv(root: Path, markers: Path) -> Path:
    """A virtualenv inside the checkout whose bin/python links to the real
    interpreter (outside the tree) but whose site-packages holds a .pth that
    runs code at every start."""
    venv = root / ".venv"
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site = venv / "lib" / version / "site-packages"
    site.mkdir(parents=True)
    (venv / "bin").mkdir()
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    (venv / "bin" / "python").symlink_to(base)
    (venv / "pyvenv.cfg").write_text(f"home = {base.parent}\ninclude-system-site-packages = true\n", "utf-8")
    (site / "evil.pth").write_text(mark(markers, "committed-venv-pth"), "utf-8")
    return venv / "bin" / "python"


def markers_of(markers: Path) -> list[str]:
    return sorted(p.name for p in markers.iterdir())


def tree_state(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def advisor_command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user types it."""
    script = Path(sys.executable).with_name("advisor")
    return subprocess.run([str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if k != "NO_COLOR"})


def statements(report: dict[str, object]) -> dict[str, str]:
    """statement -> impact source, of the lazy-imports findings of a JSON report."""
    return {f["data"]["statement"]: f["impact"]["source"] for f in report["findings"]}  # type: ignore[index, union-attr]


# -- positive controls: every kind of vector is live -------------------------------------------------


def test_the_vectors_are_live(tmp_path: Path) -> None:
    """Run the way each vector would be run, each writes its marker."""
    markers = tmp_path / "markers"
    root = build_checkout(tmp_path / "checkout", markers)
    subprocess.run([str(root / "evil"), "-c", "pass"], check=True)
    pickle.loads((root / ".advisor" / "cache" / "last-scan.pickle").read_bytes())
    # (the shadowing modules break Python's own startup too: no exit status check)
    subprocess.run([sys.executable, "-c", "import json"], cwd=root / "src", capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(root / "src")})
    subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(root / 'src')!r}); import hostile.helpers"],
                   capture_output=True)
    venv_python = build_committed_venv(root, markers)
    subprocess.run([str(venv_python), "-c", "pass"], check=True)
    found = set(markers_of(markers))
    assert {"config-python", "pickle", "package-init", "project-module", "committed-venv-pth"} <= found, found
    assert any(m.startswith("shadow-") and m.endswith("-src") for m in found), found


def test_a_plugin_named_in_the_config_runs_by_design(tmp_path: Path) -> None:
    """What --isolated is for: without it, the config's plugin is loaded."""
    markers = tmp_path / "markers"
    root = build_checkout(tmp_path / "checkout", markers, extra_config='plugins = ["./evil_plugin.py"]')
    (root / "evil_plugin.py").write_text(mark(markers, "plugin"), "utf-8")
    done = run_advisor("scan", ".", "--format", "json", cwd=root)
    assert done.returncode == 2, done.stdout + done.stderr  # it defines no rule: a config error
    assert markers_of(markers) == ["plugin"]


# -- the commands -----------------------------------------------------------------------------------


def test_scan_reports_and_fix_run_none_of_the_checkouts_code(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    root = build_checkout(tmp_path / "checkout", markers)
    before = tree_state(root)
    out = tmp_path / "out"
    out.mkdir()

    text = advisor_command("scan", ".", cwd=root)
    assert text.returncode == 1, text.stdout + text.stderr
    assert "`asyncio` costs" in text.stdout  # (MIMEMultipart is near the threshold on the graph: checked below if found)
    assert "not running the interpreter './evil'" in text.stderr and "pass --python" in text.stderr
    assert "not using cache-dir '.advisor/cache'" in text.stderr
    assert "Traceback" not in text.stderr

    for fmt in ("json", "sarif"):
        done = run_advisor("scan", ".", "--format", fmt, "-o", str(out / f"r.{fmt}"), cwd=root)  # python -m advisor
        assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads((out / "r.json").read_text("utf-8"))
    found = statements(report)
    assert found["import asyncio"] == "importtime"
    assert found.get("from email.mime.multipart import MIMEMultipart", "importtime") == "importtime"
    # a project module: never imported, its cost derived from what it imports (http.client; on the
    # startup graph only ~2 ms once email.mime.multipart loads most of email, so it may fall under
    # the threshold: tests/test_scan_cli.py checks a derived figure where nothing overlaps)
    assert found.get("from hostile import helpers", "derived") == "derived"
    assert report["errors"] == []
    sarif = json.loads((out / "r.sarif").read_text("utf-8"))
    assert len(sarif["runs"][0]["results"]) == len(report["findings"])
    assert tree_state(root) == before  # a scan writes nothing into the tree

    diff = advisor_command("fix", "--rule", "lazy-imports", "--diff", cwd=root)
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert "+    import asyncio" in diff.stdout
    assert tree_state(root) == before

    for helper in (["budget", "--help"], ["profile", "--help"]):
        assert advisor_command(*helper, cwd=root).returncode == 0

    fixed = advisor_command("fix", "--rule", "lazy-imports", cwd=root)
    assert fixed.returncode in (0, 1), fixed.stdout + fixed.stderr
    assert "fixed:" in fixed.stdout
    assert "    import asyncio" in (root / "src" / "hostile" / "cli.py").read_text("utf-8")

    assert markers_of(markers) == []


def test_isolated_ignores_a_plugin_named_in_the_config(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    root = build_checkout(tmp_path / "checkout", markers, extra_config='plugins = ["./evil_plugin.py"]')
    (root / "evil_plugin.py").write_text(mark(markers, "plugin"), "utf-8")
    out = tmp_path / "r.json"
    done = advisor_command("scan", ".", "--isolated", "--format", "json", "-o", str(out), cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "import asyncio" in statements(json.loads(out.read_text("utf-8")))
    diff = advisor_command("fix", "--isolated", "--diff", cwd=root)
    assert diff.returncode == 1, diff.stdout + diff.stderr
    fixed = advisor_command("fix", "--isolated", cwd=root)
    assert fixed.returncode in (0, 1), fixed.stdout + fixed.stderr
    assert markers_of(markers) == []


def test_a_committed_virtualenv_is_not_run(tmp_path: Path) -> None:
    """Its bin/python links outside the tree, but its site-packages (and .pth) are inside."""
    markers = tmp_path / "markers"
    root = build_checkout(tmp_path / "checkout", markers, python=".venv/bin/python")
    build_committed_venv(root, markers)
    out = tmp_path / "r.json"
    done = advisor_command("scan", ".", "--format", "json", "-o", str(out), cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "its environment" in done.stderr and "inside the scanned tree" in done.stderr
    assert statements(json.loads(out.read_text("utf-8")))["import asyncio"] == "importtime"
    assert markers_of(markers) == []


def test_scanning_from_outside_the_checkout_runs_none_of_it(tmp_path: Path) -> None:
    """The checkout named as a path, advisor started elsewhere."""
    markers = tmp_path / "markers"
    root = build_checkout(tmp_path / "checkout", markers)
    done = run_advisor("scan", str(root), "--format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "import asyncio" in statements(json.loads(done.stdout))
    assert markers_of(markers) == []


@pytest.mark.skipif(shutil.which("sh") is None, reason="the evil interpreter is a shell script")
def test_python_given_on_the_command_line_is_the_users_choice(tmp_path: Path) -> None:
    """--python is not second-guessed: the same script runs when the user names it."""
    markers = tmp_path / "markers"
    root = build_checkout(tmp_path / "checkout", markers)
    done = advisor_command("scan", ".", "--python", str(root / "evil"), "--format", "json", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "config-python" in markers_of(markers)
