"""advisor stays light to import and installs as a wheel with every rule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import REPO

HEAVY = ("libcst", "networkx", "jinja2", "radon", "pyinstrument")


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_cli_import_and_help_load_no_heavy_dependency():
    help_run = "import contextlib, io\nfrom advisor.cli import main\nwith contextlib.redirect_stdout(io.StringIO()):\n    try:\n        main(['--help'])\n    except SystemExit:\n        pass"
    for code in ("import advisor.cli", help_run):
        loaded = _modules_after(code)
        assert not [m for m in HEAVY if m in loaded], code


def test_rules_and_explain_load_no_heavy_dependency():
    for argv in (["rules"], ["explain", "lazy-imports"]):
        code = f"import contextlib, io\nfrom advisor.cli import main\nwith contextlib.redirect_stdout(io.StringIO()):\n    main({argv!r})"
        loaded = _modules_after(code)
        assert not [m for m in HEAVY if m in loaded], argv


def test_wheel_ships_every_rule_and_no_top_level_rules_package(tmp_path):
    out = tmp_path / "wheel"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = out.glob("advisor-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not any(n.startswith("rules/") for n in names)
    assert "advisor/data/import_costs.json" in names
    # every module of the source tree is in the wheel (a subpackage missing from
    # [tool.setuptools] packages would only show up in a non-editable install)
    sources = {p.relative_to(REPO).as_posix() for p in (REPO / "advisor").rglob("*.py") if "__pycache__" not in p.parts}
    sources |= {"advisor/" + p.relative_to(REPO).as_posix() for p in (REPO / "rules").rglob("*.py") if "__pycache__" not in p.parts}
    assert sources - set(names) == set()
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr
    env = dict(os.environ, PYTHONPATH=str(target))
    code = (
        "import advisor, json; from advisor.registry import builtin_rule_paths, load_class;"
        "print(json.dumps([advisor.__file__, [load_class(p).id for p in builtin_rule_paths().values()]]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    location, ids = json.loads(result.stdout)
    assert location.startswith(str(target))
    from advisor.rules import BUILTIN_RULES

    assert sorted(ids) == sorted(BUILTIN_RULES)


def test_a_fully_cached_rescan_loads_no_heavy_dependency(tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "proj"\n[project.scripts]\nproj = "app:main"\n')
    (project / "app.py").write_text(
        "import json\n\n\ndef main(items):\n    out = ''\n    for item in items:\n        out += json.dumps(item)\n    return out\n")
    scan = (f"import contextlib, io, os\nos.chdir({str(project)!r})\nfrom advisor.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    main(['scan', '.', '--no-measure', '--format', 'json'])")
    first = _modules_after(scan)
    assert "libcst" in first  # the first scan parses; the rescan must not even import the parser
    loaded = _modules_after(scan)
    assert not [m for m in HEAVY if m in loaded]
