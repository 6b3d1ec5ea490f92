"""The catalog of I/O round trips and their batch alternatives, as data.

Symbols are dotted paths as the resolver in ``_loops.py`` computes them:
``requests.get`` (a function), ``requests.Session()`` (an instance of
``requests.Session``), ``requests.Session().get`` (its method). Django
querysets are ``django.qs:<Model>`` (with ``+related`` / ``+values`` when
``select_related``/``prefetch_related`` or ``values()`` is in the chain),
rows of a queryset ``django.row:<Model>``, new model instances
``django.obj:<Model>``. n-plus-one, blocking-in-async and sequential-await
all read this one table, so they agree on what is a round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class RoundTrip:
    """One kind of call that crosses the network (or a process boundary)."""

    #: What one call costs, for the message: "HTTP request", "query".
    what: str
    #: The batch alternative, named in the message.
    batch: str
    #: "http", "sql", "orm", "redis", "aws" or "custom".
    family: str
    #: DB-API style: only a round trip per item when the SQL text is the same
    #: on every iteration and the parameters change (else it is a script).
    sql_params: bool = False


#: Constructors (and factory functions) -> the instance symbol they return.
FACTORIES: dict[str, str] = {}
#: Attributes of instances that are themselves known instances.
ATTRIBUTES: dict[str, str] = {
    "flask_sqlalchemy.SQLAlchemy().session": "sqlalchemy.Session()",
}
ROUND_TRIPS: dict[str, RoundTrip] = {}


def _factories(names: str, instance: str) -> None:
    for name in names.split():
        FACTORIES[name] = instance


def _trips(prefixes: str, methods: str, trip: RoundTrip) -> None:
    for prefix in prefixes.split():
        for method in methods.split():
            ROUND_TRIPS[f"{prefix}.{method}"] = trip


# -- HTTP ----------------------------------------------------------------------
_HTTP_VERBS = "get post put patch delete head options request"
_factories("requests.Session requests.session requests.sessions.Session", "requests.Session()")
_factories("httpx.Client", "httpx.Client()")
_factories("httpx.AsyncClient", "httpx.AsyncClient()")
_factories("aiohttp.ClientSession", "aiohttp.ClientSession()")
_factories("urllib3.PoolManager urllib3.poolmanager.PoolManager", "urllib3.PoolManager()")
_trips("requests", _HTTP_VERBS, RoundTrip(
    "HTTP request", "reuse one `requests.Session()` and fetch concurrently "
    "(`ThreadPoolExecutor.map`), or call an endpoint that takes many ids", "http"))
_trips("requests.Session()", _HTTP_VERBS, RoundTrip(
    "HTTP request", "fetch concurrently (`ThreadPoolExecutor.map` over the session), "
    "or call an endpoint that takes many ids", "http"))
_trips("httpx", _HTTP_VERBS + " stream", RoundTrip(
    "HTTP request", "use one `httpx.AsyncClient` with `asyncio.gather` (or a thread pool "
    "over one `httpx.Client`), or an endpoint that takes many ids", "http"))
_trips("httpx.Client()", _HTTP_VERBS + " send stream", RoundTrip(
    "HTTP request", "use `httpx.AsyncClient` with `asyncio.gather` (or a thread pool), "
    "or an endpoint that takes many ids", "http"))
_trips("httpx.AsyncClient() aiohttp.ClientSession()", _HTTP_VERBS + " send stream", RoundTrip(
    "HTTP request", "start them together with `asyncio.gather` / `TaskGroup`", "http"))
_trips("urllib.request", "urlopen", RoundTrip(
    "HTTP request", "use a pooled client (`requests.Session`, `httpx.Client`) and "
    "fetch concurrently", "http"))
_trips("urllib3.PoolManager()", "request urlopen", RoundTrip(
    "HTTP request", "fetch concurrently over the pool (`ThreadPoolExecutor.map`)", "http"))

# -- DB-API and async drivers -----------------------------------------------------
_factories(
    "sqlite3.connect psycopg2.connect psycopg.connect pymysql.connect MySQLdb.connect "
    "mysql.connector.connect cx_Oracle.connect oracledb.connect pyodbc.connect "
    "sqlite3.Connection psycopg.Connection psycopg.Connection.connect",
    "dbapi.Connection()")
_factories("dbapi.Connection().cursor sqlite3.Cursor psycopg.Cursor", "dbapi.Cursor()")
_factories("asyncpg.connect asyncpg.Connection asyncpg.create_pool asyncpg.Pool", "asyncpg.Connection()")
_factories("asyncpg.Connection().acquire", "asyncpg.Connection()")
_SQL = RoundTrip("query", "use `executemany()` for writes, or one query with "
                 "`WHERE id IN (...)` for reads", "sql", sql_params=True)
_trips("dbapi.Cursor() dbapi.Connection()", "execute", _SQL)
_trips("asyncpg.Connection()", "execute fetch fetchrow fetchval", RoundTrip(
    "query", "use `executemany()` for writes, or one query with `= ANY($1)` for reads",
    "sql", sql_params=True))

# -- SQLAlchemy -------------------------------------------------------------------------
_factories(
    "sqlalchemy.orm.Session sqlalchemy.orm.session.Session sqlalchemy.orm.scoped_session "
    "sqlalchemy.orm.sessionmaker() sqlalchemy.orm.scoped_session() sqlmodel.Session",
    "sqlalchemy.Session()")
_factories("sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.sessionmaker()")
_factories(
    "sqlalchemy.ext.asyncio.AsyncSession sqlalchemy.ext.asyncio.async_sessionmaker() "
    "sqlmodel.ext.asyncio.session.AsyncSession", "sqlalchemy.AsyncSession()")
_factories("sqlalchemy.ext.asyncio.async_sessionmaker", "sqlalchemy.ext.asyncio.async_sessionmaker()")
_factories("flask_sqlalchemy.SQLAlchemy", "flask_sqlalchemy.SQLAlchemy()")
_factories("sqlalchemy.create_engine sqlalchemy.engine.Engine sqlalchemy.Engine", "sqlalchemy.Engine()")
_factories("sqlalchemy.Engine().connect sqlalchemy.Engine().begin sqlalchemy.engine.Connection "
           "sqlalchemy.Connection", "sqlalchemy.Connection()")
_ORM = RoundTrip("query", "load them in one query with `.where(Model.id.in_(ids))`, "
                 "or `selectinload()` for relationships", "sql")
_trips("sqlalchemy.Session() sqlalchemy.AsyncSession()", "get query execute scalar scalars refresh", _ORM)
_trips("sqlalchemy.Connection()", "execute", RoundTrip(
    "query", "pass a list of parameter sets to one `execute()` (executemany), or use `in_()`", "sql"))

# -- Redis ------------------------------------------------------------------------------
_factories(
    "redis.Redis redis.StrictRedis redis.from_url redis.Redis.from_url redis.StrictRedis.from_url "
    "redis.client.Redis redis.asyncio.Redis redis.asyncio.from_url redis.asyncio.Redis.from_url "
    "redis.asyncio.StrictRedis", "redis.Redis()")
_factories("redis.Redis().pipeline", "redis.Pipeline()")
_trips("redis.Redis()", "get", RoundTrip("Redis command", "use `mget()` (one command for all keys)", "redis"))
_trips("redis.Redis()", "set", RoundTrip("Redis command", "use `mset()` or a `pipeline()`", "redis"))
_trips("redis.Redis()", "hget hgetall hset hmget hdel hincrby incr incrby decr delete exists expire "
       "setex sadd srem smembers sismember lpush rpush lrange zadd zscore zrange zrem getset",
       RoundTrip("Redis command", "queue the commands on a `pipeline()` and `execute()` once", "redis"))

# -- AWS (boto3) ----------------------------------------------------------------------
_factories("boto3.client boto3.Session().client", "boto3.client()")
_factories("boto3.Session boto3.session.Session", "boto3.Session()")
_factories("boto3.resource boto3.Session().resource", "boto3.resource()")
_factories("boto3.resource().Table", "boto3.Table()")
_AWS_BATCH = {
    "delete_object": "`delete_objects` (up to 1000 keys per call)",
    "get_item": "`batch_get_item` (up to 100 keys per call)",
    "put_item": "`batch_write_item` (or `Table.batch_writer()`)",
    "delete_item": "`batch_write_item` (or `Table.batch_writer()`)",
    "send_message": "`send_message_batch` (up to 10 per call)",
    "delete_message": "`delete_message_batch` (up to 10 per call)",
    "change_message_visibility": "`change_message_visibility_batch`",
    "publish": "`publish_batch` (up to 10 per call)",
    "put_record": "`put_records` (Kinesis) / `put_record_batch` (Firehose)",
    "get_parameter": "`get_parameters` (up to 10 names per call)",
    "get_secret_value": "`batch_get_secret_value`",
}
for _method, _batch in _AWS_BATCH.items():
    ROUND_TRIPS[f"boto3.client().{_method}"] = RoundTrip("AWS API call", f"use {_batch}", "aws")
for _method in ("put_item", "delete_item"):
    ROUND_TRIPS[f"boto3.Table().{_method}"] = RoundTrip(
        "AWS API call", "write through one `with table.batch_writer() as batch:`", "aws")
ROUND_TRIPS["boto3.Table().get_item"] = RoundTrip(
    "AWS API call", "use `batch_get_item` on the resource (up to 100 keys per call)", "aws")

# -- other constructors the runtime rules resolve ------------------------------------
_factories("pathlib.Path pathlib.PosixPath pathlib.WindowsPath", "pathlib.Path()")
_factories("subprocess.Popen", "subprocess.Popen()")

# -- Django ORM ---------------------------------------------------------------------------
#: Queryset methods that return another (lazy) queryset: no query yet.
DJANGO_CHAIN = frozenset({
    "all", "filter", "exclude", "order_by", "distinct", "annotate", "alias", "only", "defer",
    "using", "reverse", "none", "select_for_update", "extra", "select_related",
    "prefetch_related", "values", "values_list",
})
#: Queryset/manager methods that run a query right away -> the batch alternative.
DJANGO_TERMINALS: dict[str, str] = {
    "get": "fetch them all at once with `in_bulk(ids)` or `filter(pk__in=ids)`",
    "first": "fetch them all at once with one `filter(..__in=...)` query",
    "last": "fetch them all at once with one `filter(..__in=...)` query",
    "earliest": "fetch them all at once with one `filter(..__in=...)` query",
    "latest": "fetch them all at once with one `filter(..__in=...)` query",
    "exists": "fetch the matching keys once with `filter(..__in=...).values_list(...)`",
    "count": "count them all at once with `values(...).annotate(Count(...))`",
    "aggregate": "aggregate them all at once with `values(...).annotate(...)`",
    "create": "build the objects, then save them with one `bulk_create()`",
    "get_or_create": "fetch existing rows once with `in_bulk()`, then `bulk_create()` the rest",
    "update_or_create": "use `bulk_create(update_conflicts=True)` or `bulk_update()`",
    "update": "use one `bulk_update()` (or one `update()` with `Case/When`)",
    "delete": "delete them with one `filter(pk__in=ids).delete()`",
    "contains": "fetch the matching keys once with `values_list(..., flat=True)`",
}
#: Related-manager methods on a row that each run a query (-> prefetch_related).
DJANGO_RELATED = frozenset({"all", "count", "exists", "first", "last"})
DJANGO_FIELDS = frozenset({"ForeignKey", "OneToOneField", "ManyToManyField"})


def is_model_symbol(symbol: str) -> bool:
    """A Django model class: defined here on models.Model, or imported from a models module."""
    if symbol.startswith("django.model:"):
        return True
    parts = symbol.split(".")
    return len(parts) >= 2 and "models" in parts[:-1] and parts[-1][:1].isupper() and not symbol.startswith("django.db.")


def model_name(symbol: str) -> str:
    return symbol.split(":", 1)[1].split("+")[0] if ":" in symbol else symbol.rsplit(".", 1)[-1]


def attribute_symbol(base: str, attr: str) -> str:
    """Symbol of ``<base>.attr``."""
    key = f"{base}.{attr}"
    if key in ATTRIBUTES:
        return ATTRIBUTES[key]
    if attr in ("objects", "_default_manager") and is_model_symbol(base):
        return f"django.qs:{model_name(base)}"
    return key


def call_symbol(func: str, extra: dict[str, str] | None = None) -> str:
    """Symbol of the result of calling ``func`` ("" when unknown)."""
    found = FACTORIES.get(func) or (extra or {}).get(func)
    if found:
        return found
    if func.startswith("django.qs:"):
        base, _, method = func.rpartition(".")
        if method in DJANGO_CHAIN and "." not in base.split(":", 1)[1]:
            if method in ("select_related", "prefetch_related") and "+values" not in base:
                return base if base.endswith("+related") else base + "+related"
            if method in ("values", "values_list"):
                return base.split("+")[0] + "+values"
            return base
        return ""
    if func == "django.contrib.auth.get_user_model":
        return "django.model:User"
    if is_model_symbol(func):
        return f"django.obj:{model_name(func)}"
    return ""


def parse_extra(entries: tuple[str, ...] | list[str]) -> tuple[dict[str, RoundTrip], dict[str, str]]:
    """Config entries ``"pkg.api.fetch -> pkg.api.fetch_many"`` -> (round trips, factories).

    ``"pkg.Client().get -> get_many"`` also teaches the resolver that calling
    ``pkg.Client`` returns a ``pkg.Client()`` instance.
    """
    trips: dict[str, RoundTrip] = {}
    factories: dict[str, str] = {}
    for entry in entries:
        symbol, _, batch = entry.partition("->")
        symbol, batch = symbol.strip(), batch.strip()
        if not symbol or " " in symbol:
            raise ValueError(f"bad round-trip entry {entry!r}: expected 'module.function -> batch API'")
        trips[symbol] = RoundTrip("round trip", f"use `{batch}`" if batch else "use its batch API", "custom")
        head, sep, _ = symbol.rpartition("().")
        if sep:
            factories[head] = f"{head}()"
    return trips, factories


#: Words one of which an import statement must hold for a call to resolve to a
#: round trip: the resolver (``_loops.py``) knows names only through the file's
#: imports, every symbol above is rooted in an imported module, and Django
#: models come from a ``models`` module (advisor/first_pass.py).
def roots(symbols: Iterable[str]) -> frozenset[str]:
    """The top-level module of each symbol (``requests`` of ``requests.Session().get``)."""
    return frozenset(symbol.split(".")[0] for symbol in symbols)


def last_names(symbols: Iterable[str]) -> frozenset[str]:
    """The last part of each symbol (``get`` of ``requests.get``): what a call of it ends in."""
    return frozenset(symbol.rsplit(".", 1)[-1] for symbol in symbols)


DJANGO_WORDS = frozenset({"django", "models"})
TRIGGER_WORDS = roots((*ROUND_TRIPS, *FACTORIES, *ATTRIBUTES)) | DJANGO_WORDS
TRIP_NAMES = last_names(ROUND_TRIPS)
