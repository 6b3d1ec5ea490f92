"""advisor never uses the network: scan (every report format), fix and
profile run with network use made impossible and detected in every process
they start — worker processes, the import-time probes that run the project's
interpreter, the pyinstrument run of ``advisor profile``.

How: a ``sitecustomize.py`` on PYTHONPATH installs ``sys.addaudithook`` in
every Python process of the run (forked workers inherit it). The import-time
measurements run ``python -I`` (no PYTHONPATH, by design: issue 16), so the
tests that watch them name, with ``--python``, a virtual environment (outside
the scanned tree) whose own site-packages holds the same guard. The hook logs
and refuses name lookups, socket creation, connect, bind and send on any
non-Unix socket and the stdlib clients' connect events. The tests assert the
commands succeed AND the log is empty; positive controls prove the hook
fires, in a grandchild process and in advisor's own import-time probes, so
these tests can fail. Where ``unshare -n`` works (root on Linux), the scan
also runs in a network namespace with no interface but a downed loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, run_advisor

GUARD = '''
"""Installed by tests/test_no_network.py: log and refuse any network use."""
import os
import socket
import sys

_LOG = os.environ["ADVISOR_NETWORK_LOG"]
_ALWAYS = {
    "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr",
    "socket.getnameinfo", "urllib.Request", "http.client.connect", "http.client.send", "ftplib.connect",
    "smtplib.connect", "poplib.connect", "imaplib.open", "nntplib.connect", "telnetlib.Telnet.open",
    "webbrowser.open",
}
_ON_A_SOCKET = {"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"}


def _network(event, args):
    if event in _ALWAYS:
        return True
    if event in _ON_A_SOCKET:
        return getattr(args[0], "family", None) != socket.AF_UNIX
    if event == "socket.__new__":  # (socket, family, type, proto)
        return args[1] != socket.AF_UNIX
    return False


def _guard(event, args):
    if _network(event, args):
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()} {event} {args[1:]!r} in {getattr(sys, 'orig_argv', sys.argv)!r}\\n")
        raise PermissionError(f"network use blocked by advisor's no-network test: {event}")


sys.addaudithook(_guard)
with open(os.environ["ADVISOR_NETWORK_SEEN"], "a", encoding="utf-8") as _seen:
    _seen.write(f"{os.getpid()} {getattr(sys, 'orig_argv', sys.argv)!r}\\n")
'''


@pytest.fixture
def guarded(tmp_path: Path) -> dict[str, str]:
    """Environment for subprocesses: the guard on PYTHONPATH, its two logs."""
    site = tmp_path / "guard"
    site.mkdir()
    (site / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    log, seen = tmp_path / "network.log", tmp_path / "processes.log"
    log.touch()
    seen.touch()
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "ADVISOR_NETWORK_LOG": str(log), "ADVISOR_NETWORK_SEEN": str(seen)}


def network_log(env: dict[str, str]) -> str:
    return Path(env["ADVISOR_NETWORK_LOG"]).read_text(encoding="utf-8")


def processes(env: dict[str, str]) -> str:
    return Path(env["ADVISOR_NETWORK_SEEN"]).read_text(encoding="utf-8")


def python(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


def copy_demo(target: Path) -> Path:
    """A copy of the demo project, plus a script to profile."""
    shutil.copytree(FIXTURES / "slowcli", target, ignore=shutil.ignore_patterns(".advisor", "__pycache__"))
    (target / "work.py").write_text(
        "from slowcli.hotloop import *  # noqa\n\n\ndef spin(n):\n    return sum(i * i for i in range(n))\n\n\n"
        "print(spin(200_000))\n", encoding="utf-8")
    return target


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh copy (cold caches: import costs are measured again)."""
    return copy_demo(tmp_path / "slowcli")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy shared by the read-only tests (its caches warm up along the way)."""
    return copy_demo(tmp_path_factory.mktemp("demo") / "slowcli")


# -- positive controls: the guard fires, so the tests below can fail --------------------------------


def test_guard_catches_a_connection_in_a_grandchild_process(guarded: dict[str, str], tmp_path: Path) -> None:
    code = ("import subprocess, sys\n"
            "done = subprocess.run([sys.executable, '-c', 'import socket; socket.create_connection((\"127.0.0.1\", 9), 1)'])\n"
            "sys.exit(done.returncode)")
    done = python(code, guarded, tmp_path)
    assert done.returncode != 0
    assert "PermissionError: network use blocked" in done.stderr
    log = network_log(guarded)
    assert "socket.__new__" in log or "socket.connect" in log or "socket.getaddrinfo" in log, log
    assert len(processes(guarded).splitlines()) == 2  # the child and the grandchild both loaded the guard


def test_guard_catches_urllib_and_name_lookups(guarded: dict[str, str], tmp_path: Path) -> None:
    code = ("import socket, urllib.request\n"
            "for attempt in (lambda: urllib.request.urlopen('http://example.invalid/', timeout=1),\n"
            "                lambda: socket.getaddrinfo('localhost', 80)):\n"
            "    try:\n        attempt()\n    except Exception as exc:\n        print(type(exc).__name__)\n")
    done = python(code, guarded, tmp_path)
    assert done.returncode == 0, done.stderr
    log = network_log(guarded)
    assert "urllib.Request" in log and "socket.getaddrinfo" in log, log


@pytest.fixture(scope="module")
def guard_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv outside every scanned tree whose site-packages holds the
    guard (so ``python -I`` loads it too) and an "installed" module that
    looks a host up when imported."""
    import venv

    where = tmp_path_factory.mktemp("guardenv") / "env"
    venv.EnvBuilder(system_site_packages=True, with_pip=False, symlinks=True).create(where)
    python = where / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    (Path(site) / "lookup_at_import.py").write_text(
        "import socket\ntry:\n    socket.getaddrinfo('localhost', 80)\nexcept OSError:\n    pass\n", encoding="utf-8")
    return python


def test_guard_reaches_advisors_import_time_probes(guarded: dict[str, str], guard_python: Path, tmp_path: Path) -> None:
    """An installed module that looks a host up when imported: advisor's
    import-time measurement imports it in the project's interpreter, and the
    guard sees it there. (That lookup is the module's code, not advisor's.)"""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'probe'\n", encoding="utf-8")
    (tmp_path / "app.py").write_text("import lookup_at_import\n\n\ndef f():\n    return lookup_at_import.socket\n",
                                     encoding="utf-8")
    done = run_advisor("scan", ".", "--format", "json", "--no-cache", "--python", str(guard_python),
                       cwd=tmp_path, env=guarded)
    assert done.returncode in (0, 1), done.stderr
    log = network_log(guarded)
    assert "socket.getaddrinfo" in log and "importtime" in log, log


def test_a_project_module_that_looks_a_host_up_is_never_imported(guarded: dict[str, str], guard_python: Path,
                                                                 tmp_path: Path) -> None:
    """The same module, now the project's own: its cost is derived, it never runs."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'probe'\n", encoding="utf-8")
    (tmp_path / "lookup_here.py").write_text(
        "import socket\ntry:\n    socket.getaddrinfo('localhost', 80)\nexcept OSError:\n    pass\n", encoding="utf-8")
    (tmp_path / "app.py").write_text("import lookup_here\n\n\ndef f():\n    return lookup_here.socket\n",
                                     encoding="utf-8")
    done = run_advisor("scan", ".", "--format", "json", "--no-cache", "--python", str(guard_python),
                       cwd=tmp_path, env=guarded)
    assert done.returncode in (0, 1), done.stderr
    assert "importtime" in processes(guarded)  # the measuring ran, under the guard
    assert network_log(guarded) == ""


PHONING_RULE = '''
import socket

from advisor.rule import Invalid, Rule, Valid


class PhonesHome(Rule):
    """Looks a host up while it walks a file: a positive control.

    ## What it does
    Calls socket.getaddrinfo in the worker that analyses the file.
    ## Why it matters
    It proves the guard reaches advisor's worker processes.
    ## Example
    `x = 1`
    ## Use instead
    Nothing.
    ## Fix safety
    None.
    ## Known limits
    None.
    ## Options
    None.
    """

    id = "phones-home"
    VALID = [Valid("x = 1\\n", why=f"valid-{i}") for i in range(3)]
    INVALID = [Invalid("# REPORT\\n", why=f"invalid-{i}") for i in range(3)]

    def visit_Module(self, node):
        if "# PHONE" in node.code:
            socket.getaddrinfo("localhost", 80)
'''


def test_guard_reaches_advisors_worker_processes(guarded: dict[str, str], tmp_path: Path) -> None:
    """A plugin rule that looks a host up inside a worker: caught there, and
    reported as that rule's crash on that file."""
    (tmp_path / "phones_home.py").write_text(PHONING_RULE, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.advisor]\nplugins = ["./phones_home.py"]\nexclude = ["phones_home.py"]\nmeasure-imports = false\n',
        encoding="utf-8")
    for index in range(3):
        (tmp_path / f"m{index}.py").write_text("# PHONE\nx = 1\n", encoding="utf-8")
    done = run_advisor("scan", ".", "--format", "json", "--no-cache", "--jobs", "2", cwd=tmp_path, env=guarded)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout.count("network use blocked") == 3, done.stdout
    log = network_log(guarded).splitlines()
    assert len(log) == 3 and all("socket.getaddrinfo" in line for line in log), log
    advisor_pids = {line.split()[0] for line in processes(guarded).splitlines() if "'advisor'" in line}
    assert {line.split()[0] for line in log}.isdisjoint(advisor_pids)  # caught in the workers, not the main process


# -- the tool itself: no network use anywhere ---------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "sarif", "html", "markdown", "github", "text"])
def test_scan_and_every_report_format_use_no_network(guarded: dict[str, str], demo: Path, fmt: str) -> None:
    out = demo / f"report.{fmt}"
    done = run_advisor("scan", ".", "--format", fmt, "--output", str(out), "--jobs", "2", cwd=demo, env=guarded)
    assert done.returncode == 1, done.stdout + done.stderr  # the demo project has findings
    assert out.stat().st_size > 0
    assert network_log(guarded) == ""
    assert "-m', 'advisor'" in processes(guarded)


def test_import_time_measurement_ran_under_the_guard(guarded: dict[str, str], guard_python: Path, project: Path) -> None:
    """The cold scan measures import costs in subprocesses: they ran, guarded."""
    done = run_advisor("scan", ".", "--format", "json", "--no-cache", "--python", str(guard_python),
                       cwd=project, env=guarded)
    assert done.returncode == 1, done.stderr
    assert "importtime" in processes(guarded)
    assert network_log(guarded) == ""


def test_fix_uses_no_network(guarded: dict[str, str], project: Path) -> None:
    before = {p: p.read_bytes() for p in (project / "slowcli").glob("*.py")}
    done = run_advisor("fix", "slowcli", "--rule", "lazy-imports", "--no-cache", cwd=project, env=guarded)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "fixed:" in done.stdout
    assert any(p.read_bytes() != data for p, data in before.items())
    assert network_log(guarded) == ""


def test_profile_uses_no_network(guarded: dict[str, str], demo: Path) -> None:
    session = demo / "work.pyisession"
    done = run_advisor("profile", "--out", str(session), "--", sys.executable, "work.py", cwd=demo, env=guarded)
    assert done.returncode == 0, done.stdout + done.stderr
    assert session.exists()
    assert "pyinstrument" in processes(guarded)
    ranked = run_advisor("scan", ".", "--profile", str(session), "--format", "json", cwd=demo, env=guarded)
    assert ranked.returncode == 1, ranked.stderr
    assert network_log(guarded) == ""


def _unshare_works() -> bool:
    if not shutil.which("unshare") or sys.platform != "linux":
        return False
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.mark.skipif(not _unshare_works(), reason="unshare -n is not permitted here (needs root on Linux)")
def test_scan_and_fix_in_a_network_namespace_without_interfaces(guarded: dict[str, str], project: Path) -> None:
    env = {**os.environ, **guarded}
    probe = subprocess.run(["unshare", "-n", sys.executable, "-c",
                            "import socket; s = socket.socket(); print(s.connect_ex(('192.0.2.1', 80)))"],
                           capture_output=True, text=True, timeout=60, env=os.environ.copy())
    assert probe.stdout.strip() not in ("", "0"), probe  # the namespace really has no route out
    for argv in (["scan", ".", "--format", "sarif", "--no-cache"],
                 ["fix", "slowcli", "--rule", "lazy-imports", "--no-cache"]):
        done = subprocess.run(["unshare", "-n", sys.executable, "-m", "advisor", *argv], cwd=project, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode in (0, 1), done.stdout + done.stderr
    assert network_log(guarded) == ""
