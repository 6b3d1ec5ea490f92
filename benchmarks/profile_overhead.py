"""What observing costs: a CPU-bound and an I/O-bound program run bare, under
`advisor profile` and under `advisor profile --memory` (issue 18: the default
mode should stay under 1.5x).

Usage: python benchmarks/profile_overhead.py [--runs N] [--advisor PATH]

Both programs are small projects written to a temporary directory, so their
functions are the project's own (and get call counting, as a user's would):

- cpu: word statistics and a Collatz table, ~10^6 calls of small project
  functions with distinct arguments;
- iobench: sqlite3 queries (one per item, as in an N+1), HTTP requests to a
  server on 127.0.0.1 in a thread, and a settings file read per call.

Each program prints the seconds its own main() took (time.perf_counter
around it), so two ratios are shown: "program", the program's own time under
the recorder over its bare time (what observing adds to the run), and
"command", the whole `advisor profile` command (adds the interpreter and
advisor start-up, the pyinstrument check and saving the files) over the bare
`python -m` command. Rounds are interleaved (bare, default, --memory) after
one untimed warm-up round; medians of N runs (default 5).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

CPU = textwrap.dedent('''\
    import time

    WORDS = [f"w{i % 997}x{i % 13}" for i in range(60_000)]


    def vowels(word):
        return sum(1 for c in word if c in "aeiouxw")


    def collatz(n):
        steps = 0
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            steps += 1
        return steps


    def main():
        started = time.perf_counter()
        counts = {}
        for word in WORDS:
            counts[word] = counts.get(word, 0) + vowels(word)
        longest = max(range(1, 120_000), key=collatz)
        print(f"elapsed={time.perf_counter() - started:.6f} {len(counts)} {longest}")
''')

IO = textwrap.dedent('''\
    import json
    import os
    import sqlite3
    import tempfile
    import threading
    import time
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(0.002)
            body = b'{"ok": 1}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass


    def price(conn, sku):
        return conn.execute("SELECT price FROM items WHERE sku = ?", (sku,)).fetchone()[0]


    def rate(path, region):
        with open(path) as handle:
            return json.load(handle)[region]


    def fetch(base, item):
        with urllib.request.urlopen(f"{base}/stock/{item}") as response:
            return json.load(response)["ok"]


    def main():
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as directory:
            conn = sqlite3.connect(os.path.join(directory, "db.sqlite"))
            conn.execute("CREATE TABLE items (sku TEXT, price REAL)")
            conn.executemany("INSERT INTO items VALUES (?, ?)", [(f"S{i}", i * 0.5) for i in range(4000)])
            path = os.path.join(directory, "rates.json")
            with open(path, "w") as handle:
                json.dump({r: {"vat": 0.2, "pad": list(range(300))} for r in ("a", "b", "c")}, handle)
            server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            base = f"http://127.0.0.1:{server.server_address[1]}"
            total = sum(price(conn, f"S{i * 7 % 4000}") * (1 + rate(path, "abc"[i % 3])["vat"]) for i in range(800))
            ok = sum(fetch(base, i) for i in range(120))
            server.shutdown()
            conn.close()
        print(f"elapsed={time.perf_counter() - started:.6f} {total:.1f} {ok}")
''')


def project(root: Path, name: str, source: str) -> None:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "work.py").write_text(source)
    (package / "__main__.py").write_text(f"from {name}.work import main\n\nmain()\n")


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(command wall seconds, the program's own elapsed seconds)."""
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stdout}{done.stderr}")
    found = re.search(r"elapsed=([0-9.]+)", done.stdout)
    if not found:
        raise SystemExit(f"no elapsed= line from {' '.join(cmd)}:\n{done.stdout}")
    return wall, float(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--advisor", default=str(Path(sys.executable).with_name("advisor")))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        (root / "pyproject.toml").write_text('[project]\nname = "bench"\n')
        project(root, "cpubench", CPU)
        project(root, "iobench", IO)
        out = root / "out" / "profile.pyisession"
        modes = {
            "bare": lambda prog: [sys.executable, "-m", prog],
            "profile": lambda prog: [args.advisor, "profile", "-o", str(out), "--", sys.executable, "-m", prog],
            "profile --memory": lambda prog: [args.advisor, "profile", "--memory", "-o", str(out), "--", sys.executable, "-m", prog],
        }
        print(f"python {sys.version.split()[0]}, {args.runs} runs each, medians; cpus: {os.cpu_count()}")
        for prog in ("cpubench", "iobench"):
            times: dict[str, list[tuple[float, float]]] = {mode: [] for mode in modes}
            for round_ in range(args.runs + 1):
                for mode, command in modes.items():
                    sample = timed(command(prog), root)
                    if round_:  # the first round warms caches and is not counted
                        times[mode].append(sample)
            bare_wall = statistics.median(t[0] for t in times["bare"])
            bare_own = statistics.median(t[1] for t in times["bare"])
            for mode, samples in times.items():
                wall = statistics.median(t[0] for t in samples)
                own = statistics.median(t[1] for t in samples)
                print(f"{prog:>8} {mode:<17} program {own:7.3f} s ({own / bare_own:4.2f}x)   command {wall:7.3f} s ({wall / bare_wall:4.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
