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
3. writes module -> the fastest run's cumulative milliseconds (noise on a
   shared machine only ever adds time, so the minimum is the figure closest
   to the import's own cost; advisor's startup model takes the smallest
   self time seen for the same reason) (the self times of every
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

#: Standard-library modules that cost several milliseconds to import on a
#: quiet machine (a cheap module such as json or pathlib is left out: on a busy
#: machine its figure would pass lazy-imports' 5 ms threshold and turn into
#: reports a scan that measures would not make).
STDLIB: tuple[str, ...] = (
    "asyncio", "concurrent.futures", "csv", "ctypes", "dataclasses", "decimal", "difflib", "doctest",
    "email.mime.multipart", "email.mime.text", "http.client", "http.server", "imaplib", "importlib.metadata",
    "inspect", "logging", "logging.handlers", "multiprocessing", "pdb", "pydoc", "smtplib", "sqlite3", "ssl",
    "statistics", "subprocess", "tarfile", "tomllib", "typing", "unittest", "unittest.mock", "urllib.request",
    "uuid", "xml.dom.minidom", "xml.etree.ElementTree", "xmlrpc.client", "zipfile", "zoneinfo",
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
    "paramiko": ("paramiko",), "transformers": ("transformers",),
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
PINS: dict[str, str] = {
    'boto3': '1.44.8', 'botocore': '1.44.8', 'urllib3': '2.8.0', 'certifi': '2026.10.19.post1', 'idna': '3.20',
    'requests': '2.34.2', 'typing-extensions': '4.16.0', 'charset-normalizer': '3.5.3', 'setuptools': '65.5.0',
    'packaging': '26.4', 'cryptography': '50.0.2', 'python-dateutil': '2.9.0.post0', 'six': '1.17.0',
    'pyyaml': '6.0.4', 'pydantic': '2.14.4', 'pygments': '2.21.0', 'cffi': '2.1.1', 'click': '8.5.1',
    'numpy': '2.4.6', 'pluggy': '1.7.0', 'pydantic-core': '2.50.5', 'grpcio': '1.85.3', 'anyio': '4.16.0',
    's3transfer': '0.19.3', 'attrs': '26.1.0', 'protobuf': '7.36.2', 'h11': '0.16.0', 'pytest': '9.2.0',
    'fsspec': '2026.9.0', 'httpx': '0.29.0', 'httpcore': '1.0.9', 'pandas': '3.1.1', 'markupsafe': '3.0.4',
    'platformdirs': '4.14.9', 'python-dotenv': '1.2.4', 'pathspec': '1.1.1', 'pyjwt': '2.15.1', 'jinja2': '3.1.6',
    'rich': '15.0.0', 'jmespath': '1.1.0', 'markdown-it-py': '4.3.0', 'aiohttp': '3.14.5', 'filelock': '4.3.2',
    'importlib-metadata': '10.2.0', 'yarl': '1.25.1', 'starlette': '1.10.0', 'multidict': '7.2.1',
    'jsonschema': '4.26.0', 'uvicorn': '0.55.0', 'pyasn1': '0.6.5', 'pytz': '2026.6', 'google-auth': '2.63.0',
    'google-api-core': '2.44.0', 'fastapi': '0.165.0', 'tqdm': '4.70.1', 'pillow': '13.0.0', 'greenlet': '3.5.6',
    'colorama': '0.4.6', 'typer': '0.29.2', 'opentelemetry-sdk': '1.45.2', 'opentelemetry-api': '1.45.2',
    'tenacity': '9.1.4', 'wrapt': '2.5.2', 'requests-oauthlib': '2.0.0', 'pyarrow': '26.0.1', 'websockets': '17.4',
    'scipy': '1.17.1', 'pydantic-settings': '2.16.3', 'sqlalchemy': '2.1.9', 'pyparsing': '3.3.3', 'lxml': '6.2.0',
    'beautifulsoup4': '4.15.0', 'psutil': '7.2.2', 'regex': '2026.11.19', 'cachetools': '8.0.2', 'textual': '8.2.8',
    'openai': '3.60.0', 'more-itertools': '11.2.1', 'tomlkit': '0.15.3', 'distro': '1.9.0',
    'websocket-client': '1.9.2', 'langchain-core': '1.8.3', 'openpyxl': '3.1.5', 'coverage': '7.17.5',
    'docutils': '0.22.4', 'huggingface-hub': '2.4.0', 'dnspython': '2.9.2', 'werkzeug': '3.1.9',
    'networkx': '3.6.1', 'google-cloud-storage': '3.17.1', 'redis': '8.1.0', 'gitpython': '3.2.1',
    'msgpack': '1.2.4', 'psycopg2-binary': '2.9.13', 'pyopenssl': '26.4.0', 'decorator': '5.3.1',
    'pexpect': '4.9.0', 'docker': '7.2.0', 'pynacl': '1.6.2', 'sortedcontainers': '2.4.0', 'keyring': '25.7.0',
    'uvloop': '0.23.0', 'fonttools': '4.68.0', 'tabulate': '0.10.0', 'matplotlib': '3.11.2', 'azure-core': '1.41.0',
    'azure-identity': '1.27.0', 'azure-storage-blob': '12.31.1', 'scikit-learn': '1.9.1', 'flask': '3.1.3',
    'bcrypt': '5.0.0', 'dill': '0.4.1', 'joblib': '1.6.0', 'alembic': '1.20.1', 'orjson': '3.13.0',
    'email-validator': '2.4.0', 'msal': '1.39.0', 'chardet': '7.7.0', 'ruamel-yaml': '0.19.1',
    'tokenizers': '0.23.3', 'blinker': '1.9.0', 'kubernetes': '37.0.2', 'tiktoken': '0.14.0', 'mako': '1.4.3',
    'tzlocal': '5.4.5', 'toml': '0.10.2', 'google-api-python-client': '2.202.0', 'sympy': '1.14.0',
    'zstandard': '0.25.0', 'ipython': '9.18.1', 'prometheus-client': '0.26.0',
    'paramiko': '5.1.0', 'transformers': '5.24.0', 'jedi': '0.20.1', 'marshmallow': '4.4.0', 'anthropic': '2.16.0',
    'django': '5.2.19', 'celery': '5.7.0', 'polars': '2.1.0', 'seaborn': '0.13.2', 'nltk': '3.10.4',
    'numba': '0.68.1', 'pymongo': '4.20.1', 'jax': '0.10.2', 'opencv-python-headless': '5.1.0.95',
    'statsmodels': '0.15.0', 'plotly': '7.1.0', 'libcst': '1.9.0', 'black': '26.10.1', 'sphinx': '9.0.4',
    'pyzmq': '27.3.0', 'arrow': '1.4.0', 'pendulum': '3.3.0', 'xmltodict': '1.0.4', 'simplejson': '4.3.0',
    'ujson': '6.1.0', 'gunicorn': '27.0.1', 'tornado': '6.6.1', 'sqlparse': '0.6.1', 'pymysql': '1.2.4',
    'psycopg': '3.3.9', 'asyncpg': '0.32.0', 'aiofiles': '25.1.0', 'markdown': '3.11.3', 'httplib2': '0.32.1',
    'oauthlib': '4.0.1', 'rsa': '4.9.1', 'isodate': '0.7.2', 'babel': '2.19.0', 'structlog': '26.1.0',
    'loguru': '0.7.3', 'spacy': '3.8.18', 'google-genai': '3.6.1', 'h5py': '3.16.0', 'faker': '40.63.0',
    'cloudpickle': '3.1.3', 'itsdangerous': '2.2.0', 'sentry-sdk': '2.75.0', 'elasticsearch': '9.5.1',
    'graphql-core': '3.3.2', 'selenium': '4.51.0', 'xarray': '2026.9.0', 'dask': '2026.8.0', 'shapely': '2.2.0',
}


def requirements() -> list[str]:
    return [f"{dist}=={PINS[dist]}" if dist in PINS else dist for dist in PACKAGES]


def install(python: str, work: Path) -> Path:
    """The throwaway venv with the pinned distributions installed from
    wheels, a few at a time (one resolve of ~200 packages can backtrack for
    hours); a group that fails goes one by one, and what will not install is
    said. (aiobotocore and s3fs are left out: they pin botocore far behind
    boto3's, which sends pip backtracking through every boto3 release; so is
    google-cloud-bigquery: next to the others pip could only find a 2017
    release for it, which does not import.)"""
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
        ms = round(min(times[module]), 1)
        if ms <= 0:
            left_out[module] = "loaded at interpreter startup (costs nothing)"
            continue
        table[module] = ms
    return table, left_out


def header(python: str, runs: int, argv: list[str], packages: int, load: tuple[float, float]) -> dict[str, object]:
    probe = "import platform, sys; print(platform.python_implementation(), platform.python_version())"
    version = subprocess.run([python, "-I", "-c", probe], capture_output=True, text=True).stdout.strip()
    return {
        "_about": "Import cost in ms of common modules: the fastest of several runs of the cumulative "
                  "`python -X importtime` time of `import MODULE` in a fresh isolated interpreter. Used only when "
                  "a module cannot be measured in the project's interpreter; findings based on it say "
                  "impact.source = 'table'. Generated by benchmarks/cost_table.py; do not edit by hand.",
        "_python": version,
        "_platform": f"{platform.system()} {platform.machine()} ({os.cpu_count()} cores)",
        "_date": datetime.date.today().isoformat(),
        "_runs": runs,
        "_load_average": f"{load[0]:.1f} before, {load[1]:.1f} after (other work on the machine inflates every figure)",
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
    before = os.getloadavg()[0]
    table, left_out = measure(python, modules, options.runs)
    load = (before, os.getloadavg()[0])
    for module, why in sorted(left_out.items()):
        print(f"left out {module}: {why}")
    if options.only:
        print(json.dumps(table, indent=1))
        return 0
    document = {**header(python, options.runs, sys.argv[1:], len(PACKAGES), load), **dict(sorted(table.items()))}
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
