"""Answers no Stripe would give, from a server on 127.0.0.1 started and stopped by each test: every one ends in a
clean error that names its bound, quickly, whatever the server does.

The bounds are lowered (a fraction of a second, a few kilobytes) so that each case is over in about a second.
"""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from compiler.errors import StripeApiError
from compiler.stripe.gateway import Connection, Gateway, RetryPolicy
from compiler.stripe.http import HttpBounds
from tests.cli import PRICEBOOK, REPO
from tests.hostile import HostileServer, Request, as_json, hostile, send, send_head

KEY = "sk_test_hostile"
FAST = HttpBounds(timeout=0.2, deadline=0.6, max_bytes=20_000)
QUICK_RETRIES = RetryPolicy(max_retries=3, initial_delay=0.05, max_delay=0.1)


def endless(request: Request, conn: socket.socket, stop: threading.Event) -> None:
    send_head(conn)
    block = b" " * 4096
    while not stop.is_set():
        conn.sendall(block)


def trickle(request: Request, conn: socket.socket, stop: threading.Event) -> None:
    send_head(conn)
    conn.sendall(b'{"id": "x"')
    while not stop.wait(0.05):
        conn.sendall(b" ")


def trickled_headers(request: Request, conn: socket.socket, stop: threading.Event) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: ":
        conn.sendall(bytes([byte]))
    while not stop.wait(0.05):
        conn.sendall(b"a")


def silent(request: Request, conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(5)


def same_page(request: Request, conn: socket.socket, stop: threading.Event) -> None:
    send(conn, as_json({"object": "list", "data": [{"id": "price_1"}, {"id": "price_2"}], "has_more": True}))


def fresh_pages(request: Request, conn: socket.socket, stop: threading.Event) -> None:
    target = request.path
    start = int(target.rsplit("price_", 1)[1]) + 1 if "starting_after=price_" in target else 0
    page = [{"id": f"price_{start + i}"} for i in range(100)]
    send(conn, as_json({"object": "list", "data": page, "has_more": True}))


def gateway(server: HostileServer, limits: HttpBounds = FAST) -> Gateway:
    return Gateway(Connection(KEY, server.url), rate=1000, retry=QUICK_RETRIES, http_bounds=limits)


def _fails(action: Callable[[], object]) -> tuple[StripeApiError, float]:
    started = time.monotonic()
    with pytest.raises(StripeApiError) as failed:
        action()
    return failed.value, time.monotonic() - started


def test_an_endless_answer_stops_at_the_size_bound() -> None:
    with hostile(endless) as server:
        url = server.url
        error, seconds = _fails(lambda: gateway(server).request("GET", "/v1/prices", {}))
    assert error.rule == "response-too-large"
    # the request and where it went: never its query, never the key
    assert error.message == f"GET /v1/prices to {url}: the answer is larger than 0.02 MB"
    assert error.hint and "PRICEBOOK_MAX_RESPONSE_MB" in error.hint
    assert seconds < 1
    assert len(server.requests) == 1  # never sent again: it would be as large again


def test_a_bound_error_names_the_request_without_its_query() -> None:
    with hostile(endless) as server:
        url = server.url
        error, _ = _fails(lambda: gateway(server).request("GET", "/v1/prices?lookup_keys[]=secret_1", {"limit": 3}))
    assert "secret_1" in server.paths[0] and "limit=3" in server.paths[0]  # the query went, and is not shown
    assert error.message == f"GET /v1/prices to {url}: the answer is larger than 0.02 MB"


def test_an_answer_declared_larger_than_the_bound_stops_too() -> None:
    def declared(request: Request, conn: socket.socket, stop: threading.Event) -> None:
        send_head(conn, length=10**12)
        while not stop.is_set():
            conn.sendall(b"x" * 4096)

    with hostile(declared) as server:
        error, _ = _fails(lambda: gateway(server).request("GET", "/v1/prices", {}))
    assert error.rule == "response-too-large"


def test_a_trickling_body_stops_at_the_deadline() -> None:
    with hostile(trickle) as server:
        url = server.url
        error, seconds = _fails(lambda: gateway(server).request("GET", "/v1/prices", {}))
    assert error.rule == "http-deadline"
    assert error.message == f"GET /v1/prices to {url}: no whole answer within 0.6 seconds"
    assert error.hint and "PRICEBOOK_HTTP_DEADLINE" in error.hint
    assert 0.5 < seconds < 1.2


def test_trickling_headers_stop_at_the_deadline_too() -> None:
    with hostile(trickled_headers) as server:
        error, seconds = _fails(lambda: gateway(server).request("GET", "/v1/prices", {}))
    assert error.rule == "http-deadline"
    assert seconds < 1.2


def test_a_silent_server_is_retried_until_the_deadline_then_named() -> None:
    with hostile(silent) as server:
        url = server.url
        error, seconds = _fails(lambda: gateway(server).request("GET", "/v1/prices", {}))
    assert error.rule == "http-deadline"
    assert error.message.startswith(f"GET /v1/prices to {url}: no whole answer within 0.6 seconds, retries")
    assert "the server sent nothing for 0.2 seconds" in error.message
    assert 2 <= len(server.requests) <= 4  # each silence is retried while the deadline leaves room
    assert seconds < 1.2


def test_a_silent_server_with_no_retries_left_says_it_was_silent() -> None:
    limits = HttpBounds(timeout=0.2, deadline=5, max_bytes=20_000)
    with hostile(silent) as server:
        url = server.url
        quick = Gateway(
            Connection(KEY, server.url), retry=RetryPolicy(max_retries=1, initial_delay=0.05), http_bounds=limits
        )
        error, seconds = _fails(lambda: quick.request("GET", "/v1/prices", {}))
    assert error.rule == "http-timeout"
    assert error.message == f"GET /v1/prices to {url}: the server sent nothing for 0.2 seconds"
    assert error.hint and "PRICEBOOK_HTTP_TIMEOUT" in error.hint
    assert len(server.requests) == 2 and seconds < 1.5


def test_a_list_that_repeats_its_page_is_an_error_not_an_endless_read() -> None:
    with hostile(same_page) as server:
        error, _ = _fails(lambda: gateway(server).list_all("/v1/prices"))
    assert error.rule == "list-cursor"
    assert "came back to the page after price_2" in error.message
    assert server.paths == ["/v1/prices?limit=100", "/v1/prices?limit=100&starting_after=price_2"]


def test_a_list_that_never_ends_stops_at_the_object_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICEBOOK_MAX_LIST_OBJECTS", "250")
    with hostile(fresh_pages) as server:
        error, _ = _fails(lambda: gateway(server).list_all("/v1/prices"))
    assert error.rule == "list-too-long"
    assert "past 250 objects" in error.message
    assert len(server.requests) == 3


def test_the_command_line_reports_a_hostile_server_cleanly(tmp_path: Path) -> None:
    """`pricebook plan` end to end, the bounds set as a user sets them: one line naming the bound, exit 1."""
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "catalog.yaml").write_text("products:\n  - id: p\n    name: P\n", encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if not name.startswith(("STRIPE_", "PRICEBOOK_"))}
    with hostile(trickle) as server:
        url = server.url
        env.update(
            STRIPE_API_KEY=KEY,
            STRIPE_API_BASE=server.url,
            PRICEBOOK_CACHE_DIR="",  # no cache, as in every test (tests/conftest.py)
            PRICEBOOK_HTTP_TIMEOUT="0.3",
            PRICEBOOK_HTTP_DEADLINE="0.5",
        )
        started = time.monotonic()
        result = subprocess.run(
            [*PRICEBOOK, "plan", str(plans)], env=env, cwd=REPO, capture_output=True, text=True, timeout=30
        )
        seconds = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    # the first request plan sends: the account's id
    shown = f"pricebook: error[http-deadline]: GET /v1/account to {url}: no whole answer within 0.5 seconds"
    assert shown in result.stderr
    assert "hint: set PRICEBOOK_HTTP_DEADLINE=N" in result.stderr
    assert "Traceback" not in result.stderr and KEY not in result.stderr
    assert seconds < 10


def test_gateways_leave_no_sending_threads_behind() -> None:
    """Each sending thread gets a worker; it ends with the gateway (or the thread), not with the process."""

    def answer(request: Request, conn: socket.socket, stop: threading.Event) -> None:
        send(conn, as_json({"id": "prod_1", "object": "product"}))

    def workers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "pricebook-http"]

    before = set(workers())
    with hostile(answer) as server:
        for _ in range(20):
            assert gateway(server).request("GET", "/v1/products/prod_1", {})[0]["id"] == "prod_1"
        gc.collect()
        waited = time.monotonic() + 2
        while set(workers()) - before and time.monotonic() < waited:
            time.sleep(0.01)
    assert set(workers()) - before == set()
