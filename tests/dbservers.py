"""Real database servers on 127.0.0.1 for the driver tests, from packages pip
installs (the `test` extras), so they run on a fresh CI machine too:

- PostgreSQL: the server binaries that the ``pgserver`` wheel ships, run
  here as a plain ``postgres`` process listening on a free TCP port (as the
  ``nobody`` user when the tests run as root: PostgreSQL refuses root);
- MySQL: ``mysql-mimic``, an implementation of the MySQL wire protocol,
  answering each statement from an in-memory SQLite database (sqlglot
  translates the SQL). The driver under test speaks the real protocol to it.
  Where a MariaDB (or MySQL) server is installed on the machine (``mariadbd``
  on the PATH; not a pip package), the same tests also run against it.

Each starter yields connection parameters and stops its server afterwards;
it raises ``Unavailable`` with the reason when the server cannot run here.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


class Unavailable(RuntimeError):
    """The server cannot run on this machine (the message says why)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- PostgreSQL ----------------------------------------------------------------------------


def _pg_install() -> Path:
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise Unavailable("pgserver (a PostgreSQL server in a wheel) is not installed: pip install -e '.[test]'")
    install = Path(list(spec.submodule_search_locations)[0]) / "pginstall"
    if not (install / "bin" / "postgres").exists():
        raise Unavailable(f"pgserver has no server binary at {install / 'bin' / 'postgres'}")
    return install


@contextmanager
def postgres() -> Iterator[dict[str, Any]]:
    """A PostgreSQL server on 127.0.0.1 (trust auth, user ``postgres``)."""
    install = _pg_install()
    top = Path(tempfile.mkdtemp(prefix="advisor-pg-"))
    user: dict[str, int] = {}
    try:
        if os.name == "posix" and os.geteuid() == 0:  # postgres will not run as root: run it as nobody
            user = {"user": 65534, "group": 65534}
            os.chmod(top, 0o755)
            site = top / "site"  # (copied where nobody can read them, whatever the venv's path; the
            for part in ("bin", "lib", "share"):  # binaries find their libraries at $ORIGIN/../../../pgserver.libs)
                shutil.copytree(install / part, site / "pgserver" / "pginstall" / part, symlinks=True)
            if (install.parent.parent / "pgserver.libs").is_dir():
                shutil.copytree(install.parent.parent / "pgserver.libs", site / "pgserver.libs", symlinks=True)
            install = site / "pgserver" / "pginstall"
            for folder in (site, site / "pgserver"):
                os.chmod(folder, 0o755)
        data, sockets = top / "data", top / "sock"
        for folder in (data, sockets):
            folder.mkdir()
            if user:
                os.chown(folder, 65534, 65534)
        initdb = [str(install / "bin" / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]
        done = subprocess.run(initdb, capture_output=True, text=True, timeout=120, cwd=top, **user)  # type: ignore[call-overload]
        if done.returncode != 0:
            raise Unavailable(f"initdb failed: {done.stderr[-500:]}")
        port = free_port()
        server = subprocess.Popen(
            [str(install / "bin" / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(sockets),
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=top, **user,  # type: ignore[call-overload]
        )
        try:
            _wait_for(port, server, "postgres")
            yield {"host": "127.0.0.1", "port": port, "user": "postgres", "dbname": "postgres"}
        finally:
            server.send_signal(signal.SIGINT)  # (PostgreSQL's "fast" shutdown: ends open sessions)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _wait_for(port: int, server: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            err = server.stderr.read().decode(errors="replace") if server.stderr else ""
            raise Unavailable(f"{name} exited with {server.returncode}: {err[-500:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                time.sleep(0.2)  # (listening; let startup finish accepting connections)
                return
        except OSError:
            time.sleep(0.1)
    raise Unavailable(f"{name} did not listen on 127.0.0.1:{port} within 60 s")


# -- MySQL (wire protocol) -------------------------------------------------------------------


def _mimic() -> Any:
    if importlib.util.find_spec("mysql_mimic") is None:
        raise Unavailable("mysql-mimic (a MySQL protocol server) is not installed: pip install -e '.[test]'")
    import mysql_mimic

    return mysql_mimic


@contextmanager
def mysql() -> Iterator[dict[str, Any]]:
    """A MySQL-protocol server on 127.0.0.1 whose tables live in SQLite."""
    mimic = _mimic()
    database = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    lock = threading.Lock()

    class SqliteSession(mimic.Session):  # type: ignore[misc, name-defined]
        async def query(self, expression: Any, sql: str, attrs: dict[str, str]) -> Any:
            with lock:
                cursor = database.execute(expression.sql(dialect="sqlite"))
                rows = cursor.fetchall()
            return rows, [d[0] for d in cursor.description or ()]

    port = free_port()
    loop = asyncio.new_event_loop()
    server = mimic.MysqlServer(session_factory=SqliteSession)
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start_server(host="127.0.0.1", port=port))
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True, name="mysql-mimic")
    thread.start()
    if not started.wait(30):
        raise Unavailable("mysql-mimic did not start within 30 s")
    try:
        yield {"host": "127.0.0.1", "port": port, "user": "advisor", "database": "shop"}
    finally:
        asyncio.run_coroutine_threadsafe(_stop(server), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
        database.close()


async def _stop(server: Any) -> None:
    """Stop listening and end the connections clients left open."""
    server.close()
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# -- MariaDB / MySQL, when the machine has it ----------------------------------------------


@contextmanager
def mariadb() -> Iterator[dict[str, Any]]:
    """A MariaDB/MySQL server on 127.0.0.1 from the machine's own install."""
    server = shutil.which("mariadbd") or shutil.which("mysqld")
    install_db = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    if server is None or install_db is None:
        raise Unavailable("no MariaDB/MySQL server on this machine (mariadbd; e.g. apt-get install mariadb-server)")
    top = Path(tempfile.mkdtemp(prefix="advisor-mariadb-"))
    root = ["--user=root"] if os.name == "posix" and os.geteuid() == 0 else []
    try:
        done = subprocess.run([install_db, "--no-defaults", f"--datadir={top / 'data'}", "--skip-test-db", *root],
                              capture_output=True, text=True, timeout=180, cwd=top)
        if done.returncode != 0:
            raise Unavailable(f"{install_db} failed: {(done.stderr or done.stdout)[-500:]}")
        port = free_port()
        process = subprocess.Popen(
            [server, "--no-defaults", f"--datadir={top / 'data'}", "--bind-address=127.0.0.1", f"--port={port}",
             f"--socket={top / 'sock'}", f"--pid-file={top / 'pid'}", "--skip-grant-tables", "--skip-log-bin", *root],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=top,
        )
        try:
            _wait_for(port, process, "mariadbd")
            params = {"host": "127.0.0.1", "port": port, "user": "root", "database": "shop"}
            _create_database(params)
            yield params
        finally:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _create_database(params: dict[str, Any]) -> None:
    import pymysql

    deadline = time.monotonic() + 30
    while True:
        try:
            conn = pymysql.connect(host=params["host"], port=params["port"], user=params["user"])
            break
        except pymysql.err.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {params['database']}")
    finally:
        conn.close()

