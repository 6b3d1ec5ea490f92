"""Shapes and fingerprints the recorder computes inside the profiled process
(advisor/evidence/recorder/): values never survive, equal values compare equal."""

from __future__ import annotations

import pytest

from advisor.evidence.recorder.calls import _UNKNOWN, PROBE, CallStats, fingerprint
from advisor.evidence.recorder.shapes import http_shape, request_line, sql_shape


@pytest.mark.parametrize(("sql", "shape"), [
    pytest.param("SELECT * FROM t WHERE id = 7", "SELECT * FROM t WHERE id = ?", id="number"),
    pytest.param("SELECT * FROM t WHERE name = 'O''Brien'", "SELECT * FROM t WHERE name = ?", id="quoted-string"),
    pytest.param("SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN (?)", id="in-list"),
    pytest.param("SELECT * FROM t WHERE id IN (?, ?, ?)", "SELECT * FROM t WHERE id IN (?)", id="placeholder-list"),
    pytest.param("INSERT INTO t VALUES (%s, %s), (%s, %s)", "INSERT INTO t VALUES (?)", id="many-rows"),
    pytest.param("SELECT a  -- who\n FROM t1 /* c */ WHERE x = :x", "SELECT a FROM t1 WHERE x = :x", id="comments-names-kept"),
    pytest.param("SELECT col2 FROM t3 WHERE v = 1.5e3", "SELECT col2 FROM t3 WHERE v = ?", id="digits-in-names-kept"),
    pytest.param(b"SELECT 1", "SELECT ?", id="bytes"),
])
def test_sql_shapes(sql: str, shape: str) -> None:
    assert sql_shape(sql) == shape


@pytest.mark.parametrize(("method", "host", "target", "shape"), [
    pytest.param("GET", "127.0.0.1:8123", "/items/42", "GET 127.0.0.1/items/{id}", id="numeric-id-port-dropped"),
    pytest.param("get", "api.example", "/v2/users/SKU00166/orders?page=3&token=abc", "GET api.example/v2/users/{id}/orders?page&token",
                 id="version-kept-query-values-dropped"),
    pytest.param("POST", "user:pw@Api.Example:443", "/x/6f1c2e9a-0000-4000-8000-000000000000", "POST api.example/x/{id}",
                 id="credentials-and-uuid"),
    pytest.param("GET", "", "http://proxy.example:3128/a/deadbeefdeadbeef", "GET proxy.example/a/{id}", id="absolute-form"),
    pytest.param("GET", "h", "/static/app.css#top", "GET h/static/app.css", id="fragment"),
])
def test_http_shapes(method: str, host: str, target: str, shape: str) -> None:
    assert http_shape(method, host, target) == shape


def test_request_line() -> None:
    assert request_line(b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n") == ("GET", "/a?b=1")
    assert request_line(b'{"password": "x"}') is None  # a body, not a request line
    assert request_line(b"GET /a HTTP/1.1") is None  # no line end yet


def test_fingerprints_equal_values_and_refuse_identity() -> None:
    assert fingerprint({"a": [1, 2], "b": (3,)}) == fingerprint({"b": (3,), "a": [1, 2]})
    assert fingerprint([1, 2]) != fingerprint([2, 1])
    assert fingerprint([1]) != fingerprint((1,))
    assert fingerprint(object()) is _UNKNOWN  # ids are reused once freed: not countable
    assert fingerprint(list(range(100_000))) is _UNKNOWN  # too big to hash on every call


def _watch(fn, calls):  # type: ignore[no-untyped-def]
    stats = CallStats(("f.py", 1, "f"))
    for args in calls:
        if stats.off:
            break
        stats.observe(fn, args, {})
    return stats


def test_call_stats_count_distinct_arguments_and_equal_results() -> None:
    def slow(region):  # type: ignore[no-untyped-def]
        total = 0
        for i in range(3000):
            total += i
        return {"region": region, "total": total}

    stats = _watch(slow, [("north",), ("south",), ("east",)] * 40)
    row = stats.row()
    assert row is not None
    assert (row["calls"], row["distinct_args"], row["results"]) == (120, 3, "equal")
    assert row["seconds"] > 0


def test_call_stats_stop_on_distinct_arguments_cheap_calls_and_procedures() -> None:
    assert _watch(lambda n: [n] * 50, [(i,) for i in range(PROBE * 2)]).row() is None  # all distinct
    assert _watch(lambda n: n, [(1,)] * (PROBE * 2)).row() is None  # too cheap to be worth a cache
    changing = iter(range(10_000))
    row = _watch(lambda n: (next(changing), sum(range(3000))), [(1,)] * 10).row()
    assert row is not None and row["results"] == "differ"
    row = _watch(lambda n: None, [(1,)] * 10).row()
    assert row is not None and row["results"] == "none"


def test_objects_compared_by_identity_count_while_they_live() -> None:
    class Settings:
        pass

    first = Settings()
    assert fingerprint(first) == fingerprint(first)
    token = fingerprint(first)
    del first
    again = Settings()  # (may reuse the freed id)
    assert fingerprint(again) != token
    assert fingerprint(again, identity=False) is _UNKNOWN  # results: equal values would look different


def test_a_method_on_one_instance_is_counted() -> None:
    class Catalog:
        def price(self, sku):  # type: ignore[no-untyped-def]
            return {"sku": sku, "total": sum(range(3000))}

    shop = Catalog()
    stats = _watch(Catalog.price, [(shop, "a"), (shop, "b")] * 40)
    row = stats.row()
    assert row is not None and (row["calls"], row["distinct_args"], row["results"]) == (80, 2, "equal")
    fresh = _watch(Catalog.price, [(Catalog(), "a") for _ in range(PROBE * 2)])
    assert fresh.row() is None  # a new instance each call: all distinct, so it stopped watching
