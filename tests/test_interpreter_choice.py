"""Which interpreter measures import costs when --python is not given
(advisor/interpreter.py, advisor/env_locations.py): the active virtualenv is
used, an environment inside the checkout is found but never run unasked,
and one that uv, poetry, hatch or pdm keeps for the project outside it is
used when the trust rules accept it. The choice is said and is part of the
cache key; imports that could not be measured are counted in one notice.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.config import Config
from advisor.interpreter import choose_interpreter, project_name

PROJECT = {
    "pyproject.toml": '[project]\nname = "Demo-App"\n',
    "app.py": "import slowdep\nimport confdep\n\n\ndef run():\n    return slowdep.VALUE, confdep.VALUE\n",
}


def fake_env(prefix: Path) -> Path:
    """A virtualenv layout whose bin/python links to this interpreter."""
    (prefix / "bin").mkdir(parents=True)
    (prefix / "pyvenv.cfg").write_text(f"home = {Path(sys.executable).parent}\n")
    python = prefix / "bin" / "python"
    python.symlink_to(sys.executable)
    (prefix / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    return python


def project(root: Path) -> Path:
    root.mkdir()
    for name, text in PROJECT.items():
        (root / name).write_text(text)
    (root / ".git").mkdir()  # the repository boundary of the tree
    return root


def choose(root: Path, environ: dict[str, str], home: Path, **flags: bool):  # type: ignore[no-untyped-def]
    config = Config(root=root, python=sys.executable)
    return choose_interpreter(config, [root], python_given=flags.get("python_given", False),
                              isolated=flags.get("isolated", False), environ=environ, home=home)


def b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode()[:8]


# -- the choice ---------------------------------------------------------------------------


def test_python_on_the_command_line_wins(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    python = fake_env(tmp_path / "active")
    choice = choose(root, {"VIRTUAL_ENV": str(python.parent.parent)}, tmp_path, python_given=True)
    assert (choice.python, choice.source, choice.notices) == (sys.executable, "--python", ())


def test_the_active_virtualenv_is_used_and_said(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    python = fake_env(tmp_path / "active")
    choice = choose(root, {"VIRTUAL_ENV": str(tmp_path / "active")}, tmp_path)
    assert (choice.python, choice.source) == (str(python), "VIRTUAL_ENV")
    assert choice.notices == (f"measuring import costs with {python} (the active virtualenv)",)


@pytest.mark.skipif(sys.platform != "linux", reason="the default user directories checked are Linux's")
def test_under_pre_commit_the_hooks_own_env_is_not_the_project_s(tmp_path: Path) -> None:
    root, home = project(tmp_path / "p"), tmp_path / "home"
    python = fake_env(poetry_env(root, home))
    hook = {"VIRTUAL_ENV": sys.prefix, "PRE_COMMIT": "1"}  # as pre-commit runs a python hook
    assert (choose(root, hook, home).python, choose(root, hook, home).source) == (str(python), "poetry")


def test_advisors_own_virtualenv_active_changes_nothing(tmp_path: Path) -> None:
    choice = choose(project(tmp_path / "p"), {"VIRTUAL_ENV": sys.prefix}, tmp_path)
    if sys.prefix == sys.base_prefix:
        pytest.skip("advisor does not run in a virtualenv here")
    assert (choice.python, choice.notices) == (sys.executable, ())


def test_an_environment_inside_the_checkout_is_found_not_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path / "p")
    fake_env(root / ".venv")
    monkeypatch.chdir(root)
    choice = choose(root, {}, tmp_path)
    assert (choice.python, choice.source) == (sys.executable, "advisor")
    assert len(choice.notices) == 1
    assert "found the project's environment .venv/ inside the checkout: it is not run unasked" in choice.notices[0]
    assert choice.notices[0].endswith("pass --python .venv/bin/python")


def poetry_env(root: Path, home: Path, name: str = "demo-app") -> Path:
    digest = hashlib.sha256(os.path.normcase(os.path.realpath(root)).encode()).digest()
    return home / ".cache" / "pypoetry" / "virtualenvs" / f"{name}-{b64(digest)}-py3.11"


@pytest.mark.skipif(sys.platform != "linux", reason="the default user directories checked are Linux's")
def test_poetrys_environment_for_this_project_is_used(tmp_path: Path) -> None:
    root, home = project(tmp_path / "p"), tmp_path / "home"
    fake_env(poetry_env(root, home, "other-project"))  # another project's: never taken
    python = fake_env(poetry_env(root, home))
    choice = choose(root, {}, home)
    assert (choice.python, choice.source) == (str(python), "poetry")
    assert choice.notices == (f"measuring import costs with {python} (the project's poetry environment)",)


@pytest.mark.skipif(sys.platform != "linux", reason="the default user directories checked are Linux's")
def test_an_environment_with_the_project_installed_editable_is_not_run(tmp_path: Path) -> None:
    root, home = project(tmp_path / "p"), tmp_path / "home"
    python = fake_env(poetry_env(root, home))
    (python.parent.parent / "lib" / "python3.11" / "site-packages" / "demo_app.pth").write_text(f"{root}\n")
    choice = choose(root, {}, home)
    assert (choice.python, choice.source) == (sys.executable, "advisor")
    assert "not used: its demo_app.pth puts the scanned tree on sys.path (an editable install of the project)" in choice.notices[0]
    assert choice.notices[0].endswith(f"pass --python {python} to measure import costs in it")


@pytest.mark.skipif(sys.platform != "linux", reason="the default user directories checked are Linux's")
def test_hatch_and_pdm_environments_are_found_by_their_own_naming(tmp_path: Path) -> None:
    root, home = project(tmp_path / "p"), tmp_path / "home"
    hatch_id = b64(hashlib.sha256(str(root).encode()).digest())
    hatch = fake_env(home / ".local" / "share" / "hatch" / "env" / "virtual" / "demo-app" / hatch_id / "demo-app")
    assert choose(root, {}, home).python == str(hatch)
    (hatch.parent.parent / "pyvenv.cfg").unlink()  # no longer an environment
    pdm_id = b64(hashlib.md5(Path(os.path.realpath(root)).as_posix().encode()).digest())
    pdm = fake_env(home / ".local" / "share" / "pdm" / "venvs" / f"p-{pdm_id}-3.11")
    choice = choose(root, {}, home)
    assert (choice.python, choice.source) == (str(pdm), "pdm")


@pytest.mark.skipif(sys.platform != "linux", reason="the default user directories checked are Linux's")
def test_isolated_looks_for_no_project_environment(tmp_path: Path) -> None:
    root, home = project(tmp_path / "p"), tmp_path / "home"
    fake_env(poetry_env(root, home))
    assert choose(root, {}, home, isolated=True).source == "advisor"


def test_project_name_reads_pep621_then_poetry(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.poetry]\nname = "legacy"\n')
    assert project_name(tmp_path) == "legacy"
    (tmp_path / "pyproject.toml").write_text('tool = 3\n')
    assert project_name(tmp_path) == ""


# -- through the CLI, with real interpreters ------------------------------------------------


@pytest.fixture(scope="module")
def real_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real virtualenv holding `slowdep` (40 ms to import) and `confdep`
    (raises ImproperlyConfigured when imported alone, as Django apps do)."""
    prefix = tmp_path_factory.mktemp("envs") / "project-env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True, timeout=120)
    done = subprocess.run([str(prefix / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True)
    site = Path(done.stdout.strip())
    (site / "slowdep.py").write_text("import time\ntime.sleep(0.04)\nVALUE = 1\n")
    (site / "confdep.py").write_text("class ImproperlyConfigured(Exception):\n    pass\n\n"
                                     "raise ImproperlyConfigured('Requested setting X, but settings are not configured')\n")
    return prefix


def scan(root: Path, environ: dict[str, str]) -> tuple[dict, str]:  # type: ignore[type-arg]
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update(environ)
    done = subprocess.run([sys.executable, "-m", "advisor", "scan", ".", "--format", "json", "--select", "lazy-imports"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout), done.stderr


def test_a_scan_measures_in_the_active_env_and_the_cache_keeps_interpreters_apart(real_env: Path, tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    python = real_env / "bin" / "python"
    report, stderr = scan(root, {"VIRTUAL_ENV": str(real_env)})
    assert f"measuring import costs with {python} (the active virtualenv)" in stderr
    assert report["summary"]["interpreter"] == {"python": str(python), "source": "VIRTUAL_ENV"}
    found = {f["message"].split("`")[1]: f["impact"]["source"] for f in report["findings"]}
    assert found == {"slowdep": "importtime"}  # measured there, 40 ms
    notice = next(n for n in report["summary"]["notices"] if "could not be measured" in n)
    assert notice.startswith(f"lazy-imports: 1 import could not be measured in {python} (ImproperlyConfigured: 1)")
    # Same tree, advisor's own interpreter: neither module is installed there. The
    # first scan's findings must not come back from the cache.
    report, stderr = scan(root, {})
    assert report["summary"]["interpreter"] == {"python": sys.executable, "source": "advisor"}
    assert report["findings"] == []
    notice = next(n for n in report["summary"]["notices"] if "could not be measured" in n)
    assert notice.startswith(f"lazy-imports: 2 imports could not be measured in {sys.executable} (not installed: 2)")
    assert "run with --python <the project's interpreter>" in notice
    # And back: the first answer again, the failure counted again (from the cache).
    report, _ = scan(root, {"VIRTUAL_ENV": str(real_env)})
    assert [f["message"].split("`")[1] for f in report["findings"]] == ["slowdep"]
    assert any("(ImproperlyConfigured: 1)" in n for n in report["summary"]["notices"])


def test_no_measure_names_no_interpreter(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    done = subprocess.run([sys.executable, "-m", "advisor", "scan", ".", "--format", "json", "--no-measure"],
                          cwd=root, capture_output=True, text=True, timeout=600)
    assert json.loads(done.stdout)["summary"]["interpreter"] is None
    assert "measuring import costs with" not in done.stderr
