"""Regenerate the bundled import-cost table (advisor/data/import_costs.json)
from real ``python -X importtime`` runs.

Usage: python benchmarks/cost_table.py [--runs N] [--python PY] [--only MOD,...] [--skip-install] [--output FILE]

The table is what `lazy-imports` uses when a module cannot be measured in
the project's own interpreter (`--no-measure`, a module not installed
there); findings based on it say ``impact.source = "table"``. Its numbers
must be measurements, not guesses, so this script:

1. creates a throwaway virtualenv under ``benchmarks/.work/cost-table``
   (never committed) with ``--python`` (default: this interpreter) and
   installs the pinned distributions of ``PACKAGES`` (the most downloaded
   PyPI packages that are imported by application code, plus a few heavy
   well-known ones);
2. imports each module of ``PACKAGES`` and ``STDLIB`` in a fresh isolated
   interpreter (``python -I -X importtime -c "import MOD"`` in an empty
   directory), ``--runs`` times, round by round so that machine noise hits
   every module alike;
3. writes module -> median cumulative milliseconds (the self times of every
   module the statement newly loads, as advisor's own measuring counts
   them), with a ``_``-prefixed header that says how and where the numbers
   were made. A module that fails to import, or costs nothing because the
   interpreter loads it at startup, is left out and listed on stdout.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work" / "cost-table"
OUTPUT = ROOT / "advisor" / "data" / "import_costs.json"
MARK = "@@cost-table-mark@@"
GROUP = 12  # distributions per pip run

#: Standard-library modules that are costly enough to defer (kept in the table
#: so that a scan without measuring still knows them).
STDLIB: tuple[str, ...] = (
    "argparse", "asyncio", "base64", "bz2", "calendar", "concurrent.futures", "configparser", "cProfile",
    "csv", "ctypes", "dataclasses", "datetime", "decimal", "difflib", "doctest", "email", "email.mime.multipart",
    "email.mime.text", "fractions", "ftplib", "getpass", "gettext", "gzip", "hashlib", "heapq", "http.client",
    "http.cookies", "http.server", "imaplib", "importlib.metadata", "importlib.resources", "inspect", "ipaddress",
    "json", "locale", "logging", "logging.handlers", "lzma", "mimetypes", "multiprocessing", "numbers", "optparse",
    "pathlib", "pdb", "pickle", "platform", "plistlib", "pprint", "pstats", "pydoc", "queue", "random", "secrets",
    "selectors", "shlex", "shutil", "smtplib", "socket", "socketserver", "sqlite3", "ssl", "statistics", "string",
    "subprocess", "sysconfig", "tarfile", "tempfile", "textwrap", "threading", "timeit", "tomllib", "trace",
    "tracemalloc", "typing", "unittest", "unittest.mock", "urllib.parse", "urllib.request", "uuid", "venv",
    "wave", "webbrowser", "xml.dom.minidom", "xml.etree.ElementTree", "xml.sax", "xmlrpc.client", "zipfile",
    "zipimport", "zoneinfo",
)

#: Distribution -> the import names measured for it: the package, and the
#: submodules people import on their own when they cost much more. Its pinned
#: version is in PINS.
PACKAGES: dict[str, tuple[str, ...]] = {
    "boto3": ("boto3",), "botocore": ("botocore", "botocore.session"), "urllib3": ("urllib3",),
    "certifi": ("certifi",), "idna": ("idna",), "requests": ("requests",),
    "typing-extensions": ("typing_extensions",), "charset-normalizer": ("charset_normalizer",),
    "setuptools": ("setuptools", "pkg_resources"), "packaging": ("packaging.version", "packaging.requirements"),
    "cryptography": ("cryptography.fernet", "cryptography.x509"),
    "python-dateutil": ("dateutil.parser", "dateutil.tz"), "six": ("six",), "pyyaml": ("yaml",),
    "pydantic": ("pydantic",), "pygments": ("pygments", "pygments.lexers", "pygments.formatters"),
    "cffi": ("cffi",), "click": ("click",), "numpy": ("numpy",), "pluggy": ("pluggy",),
    "pydantic-core": ("pydantic_core",), "grpcio": ("grpc",), "anyio": ("anyio",), "s3transfer": ("s3transfer",),
    "attrs": ("attrs", "attr"), "protobuf": ("google.protobuf.message", "google.protobuf.json_format"),
    "h11": ("h11",), "pytest": ("pytest",), "fsspec": ("fsspec",), "httpx": ("httpx",), "httpcore": ("httpcore",),
    "pandas": ("pandas",), "markupsafe": ("markupsafe",), "platformdirs": ("platformdirs",),
    "python-dotenv": ("dotenv",), "pathspec": ("pathspec",), "pyjwt": ("jwt",), "jinja2": ("jinja2",),
    "rich": ("rich", "rich.console", "rich.progress", "rich.table"), "jmespath": ("jmespath",),
    "markdown-it-py": ("markdown_it",), "aiohttp": ("aiohttp",), "filelock": ("filelock",),
    "importlib-metadata": ("importlib_metadata",), "yarl": ("yarl",),
    "starlette": ("starlette.applications", "starlette.responses"), "multidict": ("multidict",),
    "jsonschema": ("jsonschema",), "uvicorn": ("uvicorn",), "pyasn1": ("pyasn1",), "pytz": ("pytz",),
    "google-auth": ("google.auth",), "google-api-core": ("google.api_core",), "fastapi": ("fastapi",),
    "tqdm": ("tqdm",), "pillow": ("PIL.Image",), "greenlet": ("greenlet",), "colorama": ("colorama",),
    "typer": ("typer",), "opentelemetry-sdk": ("opentelemetry.sdk.trace",), "opentelemetry-api": ("opentelemetry.trace",),
    "tenacity": ("tenacity",), "wrapt": ("wrapt",), "requests-oauthlib": ("requests_oauthlib",),
    "pyarrow": ("pyarrow", "pyarrow.parquet"), "websockets": ("websockets",),
    "scipy": ("scipy", "scipy.stats", "scipy.optimize", "scipy.sparse", "scipy.signal", "scipy.interpolate"),
    "pydantic-settings": ("pydantic_settings",), "sqlalchemy": ("sqlalchemy", "sqlalchemy.orm"),
    "pyparsing": ("pyparsing",), "lxml": ("lxml.etree", "lxml.html"), "beautifulsoup4": ("bs4",),
    "psutil": ("psutil",), "regex": ("regex",), "cachetools": ("cachetools",), "textual": ("textual.app",),
    "openai": ("openai",), "more-itertools": ("more_itertools",), "tomlkit": ("tomlkit",), "distro": ("distro",),
    "websocket-client": ("websocket",), "langchain-core": ("langchain_core",), "openpyxl": ("openpyxl",),
    "coverage": ("coverage",), "docutils": ("docutils.core",), "huggingface-hub": ("huggingface_hub",),
    "dnspython": ("dns.resolver",), "werkzeug": ("werkzeug",), "networkx": ("networkx",),
    "google-cloud-storage": ("google.cloud.storage",), "redis": ("redis",), "gitpython": ("git",),
    "msgpack": ("msgpack",), "psycopg2-binary": ("psycopg2", "psycopg2.extras"), "pyopenssl": ("OpenSSL",),
    "decorator": ("decorator",), "pexpect": ("pexpect",), "docker": ("docker",), "pynacl": ("nacl.public",),
    "sortedcontainers": ("sortedcontainers",), "keyring": ("keyring",), "uvloop": ("uvloop",),
    "fonttools": ("fontTools.ttLib",), "tabulate": ("tabulate",), "matplotlib": ("matplotlib", "matplotlib.pyplot"),
    "azure-core": ("azure.core",), "azure-identity": ("azure.identity",), "azure-storage-blob": ("azure.storage.blob",),
    "scikit-learn": ("sklearn", "sklearn.linear_model", "sklearn.ensemble", "sklearn.model_selection"),
    "flask": ("flask",), "bcrypt": ("bcrypt",), "dill": ("dill",), "joblib": ("joblib",), "alembic": ("alembic",),
    "orjson": ("orjson",), "email-validator": ("email_validator",), "msal": ("msal",), "chardet": ("chardet",),
    "ruamel-yaml": ("ruamel.yaml",), "tokenizers": ("tokenizers",), "blinker": ("blinker",),
    "kubernetes": ("kubernetes.client", "kubernetes.config"), "tiktoken": ("tiktoken",), "mako": ("mako.template",),
    "tzlocal": ("tzlocal",), "toml": ("toml",), "google-api-python-client": ("googleapiclient.discovery",),
    "sympy": ("sympy",), "zstandard": ("zstandard",), "ipython": ("IPython",), "prometheus-client": ("prometheus_client",),
    "google-cloud-bigquery": ("google.cloud.bigquery",), "paramiko": ("paramiko",), "transformers": ("transformers",),
    "jedi": ("jedi",), "marshmallow": ("marshmallow",), "anthropic": ("anthropic",),
    "django": ("django", "django.db.models", "django.http", "django.test"), "celery": ("celery",),
    "polars": ("polars",), "seaborn": ("seaborn",), "nltk": ("nltk",), "numba": ("numba",), "pymongo": ("pymongo",),
    "jax": ("jax", "jax.numpy"), "opencv-python-headless": ("cv2",), "statsmodels": ("statsmodels.api",),
    "plotly": ("plotly.graph_objects", "plotly.express"), "libcst": ("libcst",), "black": ("black",),
    "sphinx": ("sphinx.application",), "pyzmq": ("zmq",), "arrow": ("arrow",), "pendulum": ("pendulum",),
    "xmltodict": ("xmltodict",), "simplejson": ("simplejson",), "ujson": ("ujson",), "gunicorn": ("gunicorn",),
    "tornado": ("tornado.web",), "sqlparse": ("sqlparse",), "pymysql": ("pymysql",), "psycopg": ("psycopg",),
    "asyncpg": ("asyncpg",), "aiofiles": ("aiofiles",), "markdown": ("markdown",), "httplib2": ("httplib2",),
    "oauthlib": ("oauthlib.oauth2",), "rsa": ("rsa",), "isodate": ("isodate",), "babel": ("babel.dates",),
    "structlog": ("structlog",), "loguru": ("loguru",), "spacy": ("spacy",), "google-genai": ("google.genai",),
    "h5py": ("h5py",), "faker": ("faker",), "cloudpickle": ("cloudpickle",), "itsdangerous": ("itsdangerous",),
    "sentry-sdk": ("sentry_sdk",), "elasticsearch": ("elasticsearch",), "graphql-core": ("graphql",),
    "selenium": ("selenium.webdriver",), "xarray": ("xarray",), "dask": ("dask", "dask.dataframe"),
    "shapely": ("shapely",),
}

#: The versions pip resolved together for CPython 3.11 when the table was
#: made (printed by ``--freeze``), so that a rerun measures the same code.
PINS: dict[str, str] = {}


def requirements() -> list[str]:
    return [f"{dist}=={PINS[dist]}" if dist in PINS else dist for dist in PACKAGES]


def install(python: str, work: Path) -> Path:
    """The throwaway venv with the pinned distributions installed from
    wheels, a few at a time (one resolve of ~200 packages can backtrack for
    hours); a group that fails goes one by one, and what will not install is
    said. (aiobotocore and s3fs are left out: they pin botocore far behind
    boto3's, which sends pip backtracking through every boto3 release.)"""
    venv = work / "venv"
    if not (venv / "bin" / "python").exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q", "--only-binary=:all:"]
    wanted = requirements()
    for start in range(0, len(wanted), GROUP):
        group = wanted[start:start + GROUP]
        print(f"installing {start + len(group)}/{len(wanted)}", flush=True)
        if _pip(pip, group):
            continue
        for requirement in group:
            if not _pip(pip, [requirement]):
                print(f"not installed: {requirement}", flush=True)
    return venv / "bin" / "python"


def _pip(pip: list[str], requirements: list[str]) -> bool:
    try:
        return subprocess.run([*pip, *requirements], timeout=900).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def measure_once(python: str, module: str, empty: str) -> float | None:
    """Milliseconds ``import module`` takes in a fresh isolated interpreter."""
    code = f"import sys; sys.stderr.write('\\n{MARK}\\n'); sys.stderr.flush()\nimport {module}\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    try:
        done = subprocess.run([python, "-I", "-X", "importtime", "-c", code], cwd=empty, env=env,
                              capture_output=True, text=True, timeout=120, errors="replace")
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        return None
    from advisor.evidence.importtime import parse_importtime

    after = done.stderr.partition(MARK)[2]
    return sum(record.self_us for record in parse_importtime(after)) / 1000


def measure(python: str, modules: list[str], runs: int) -> tuple[dict[str, float], dict[str, str]]:
    """Median milliseconds per module, and why the others were left out."""
    import tempfile

    times: dict[str, list[float]] = {m: [] for m in modules}
    left_out: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="cost-table-") as empty:
        for module in modules:  # warm-up (page cache, .pyc files) and import check
            if measure_once(python, module, empty) is None:
                left_out[module] = "does not import"
        todo = [m for m in modules if m not in left_out]
        for round_ in range(runs):
            started = time.perf_counter()
            for module in todo:
                took = measure_once(python, module, empty)
                if took is not None:
                    times[module].append(took)
            print(f"round {round_ + 1}/{runs}: {len(todo)} modules, {time.perf_counter() - started:.0f} s", flush=True)
    table: dict[str, float] = {}
    for module in todo:
        if len(times[module]) < runs:
            left_out[module] = f"imported in only {len(times[module])} of {runs} runs"
            continue
        ms = round(statistics.median(times[module]), 1)
        if ms <= 0:
            left_out[module] = "loaded at interpreter startup (costs nothing)"
            continue
        table[module] = ms
    return table, left_out


def header(python: str, runs: int, argv: list[str], packages: int) -> dict[str, object]:
    probe = "import platform, sys; print(platform.python_implementation(), platform.python_version())"
    version = subprocess.run([python, "-I", "-c", probe], capture_output=True, text=True).stdout.strip()
    return {
        "_about": "Import cost in ms of common modules: the median over several runs of the cumulative "
                  "`python -X importtime` time of `import MODULE` in a fresh isolated interpreter. Used only when "
                  "a module cannot be measured in the project's interpreter; findings based on it say "
                  "impact.source = 'table'. Generated by benchmarks/cost_table.py; do not edit by hand.",
        "_python": version,
        "_platform": f"{platform.system()} {platform.machine()} ({os.cpu_count()} cores)",
        "_date": datetime.date.today().isoformat(),
        "_runs": runs,
        "_packages": packages,
        "_command": "python benchmarks/cost_table.py " + " ".join(shlex.quote(a) for a in argv),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, metavar="N", help="timed imports per module (default 5)")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the throwaway venv")
    parser.add_argument("--work", type=Path, default=WORK, help=f"work folder (default {WORK.relative_to(ROOT)})")
    parser.add_argument("--only", default="", help="comma-separated modules: measure just these, write nothing")
    parser.add_argument("--skip-install", action="store_true", help="reuse the venv as it is")
    parser.add_argument("--freeze", action="store_true", help="print the installed versions as PINS and stop")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    options = parser.parse_args()
    options.work.mkdir(parents=True, exist_ok=True)
    python = str(options.work / "venv" / "bin" / "python") if options.skip_install else str(install(options.python, options.work))
    if options.freeze:
        return freeze(python)
    modules = options.only.split(",") if options.only else [*STDLIB, *(m for ms in PACKAGES.values() for m in ms)]
    table, left_out = measure(python, modules, options.runs)
    for module, why in sorted(left_out.items()):
        print(f"left out {module}: {why}")
    if options.only:
        print(json.dumps(table, indent=1))
        return 0
    document = {**header(python, options.runs, sys.argv[1:], len(PACKAGES)), **dict(sorted(table.items()))}
    options.output.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"{len(table)} modules written to {options.output}; {len(left_out)} left out")
    return 0


def freeze(python: str) -> int:
    """The versions installed in the venv for every pinned distribution."""
    code = ("import json, sys\nfrom importlib.metadata import version, PackageNotFoundError\nout = {}\n"
            "for d in sys.argv[1:]:\n    try: out[d] = version(d)\n    except PackageNotFoundError: pass\n"
            "print(json.dumps(out))")
    found = json.loads(subprocess.run([python, "-I", "-c", code, *PACKAGES], capture_output=True, text=True, check=True).stdout)
    print("PINS = {")
    for dist, ver in found.items():
        print(f"    {dist!r}: {ver!r},")
    print("}")
    missing = sorted(set(PACKAGES) - set(found))
    print(f"# not installed: {missing}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
