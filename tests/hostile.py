"""A server on loopback that answers whatever a test scripts: not Stripe, not the emulator, but what any host
behind a mistyped or hijacked STRIPE_API_BASE may send. The real stripe SDK talks to it over real HTTP.

One connection carries one request. A test scripts the server either with whole answers:

    with hostile_server(lambda request: as_json({"object": "account"})) as base:   # the base URL
        ...

or byte by byte, for what no well-formed answer does (a body that never ends, headers that trickle, silence):

    def silent(request: Request, conn: socket.socket, stop: threading.Event) -> None:
        stop.wait(5)

    with hostile(silent) as server:                       # server.url, server.requests
        ...
"""

from __future__ import annotations

import http
import json
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

JSON_HEADERS: Mapping[str, str] = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with the query
    headers: Mapping[str, str]  # lowercase names

    @property
    def api_key(self) -> str:
        return self.headers.get("authorization", "").removeprefix("Bearer ").strip()


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=lambda: dict(JSON_HEADERS))


def as_json(value: Any, status: int = 200) -> Answer:
    return Answer(status, json.dumps(value).encode())


#: a whole answer to each request
Respond = Callable[[Request], Answer]
#: what the server does once it has read a request: it writes to the connection what it likes, for as long as it
#: likes (`stop` is set when the test's block ends)
Behaviour = Callable[[Request, socket.socket, threading.Event], None]


def send_head(
    conn: socket.socket, status: int = 200, headers: Mapping[str, str] = JSON_HEADERS, length: int | None = None
) -> None:
    """The status line and headers (with Content-Length when `length` is given, and Connection: close)."""
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Whatever"
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{name}: {value}" for name, value in headers.items())]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines.append("Connection: close")
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


def send(conn: socket.socket, answer: Answer) -> None:
    send_head(conn, answer.status, answer.headers, len(answer.body))
    conn.sendall(answer.body)


def answering(respond: Respond) -> Behaviour:
    """The behaviour of a server that sends `respond`'s whole answer to each request."""

    def behaviour(request: Request, conn: socket.socket, stop: threading.Event) -> None:
        send(conn, respond(request))

    return behaviour


@dataclass
class HostileServer:
    behaviour: Behaviour
    #: every request read, in order
    requests: list[Request] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    listener: socket.socket = field(default_factory=socket.socket)
    handlers: list[threading.Thread] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    @property
    def paths(self) -> list[str]:
        return [request.path for request in self.requests]

    def serve(self) -> None:
        self.listener.settimeout(0.05)  # so that it sees `stop` soon
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            handler = threading.Thread(target=self.handle, args=(conn,), daemon=True)
            self.handlers.append(handler)
            handler.start()

    def handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                request = _read_request(conn)
                if request is None:
                    return
                self.requests.append(request)
                self.behaviour(request, conn, self.stop)
            except OSError:
                return  # the client gave up: that is what some tests want


def _read_request(conn: socket.socket) -> Request | None:
    """The request line and headers, and the body read past (None: the client closed the connection first)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, _version = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    missing = int(headers.get("content-length") or 0) - len(body)
    while missing > 0:
        chunk = conn.recv(min(missing, 65536))
        if not chunk:
            break
        missing -= len(chunk)
    return Request(method, target, headers)


@contextmanager
def hostile(behaviour: Behaviour) -> Iterator[HostileServer]:
    """Serve `behaviour` on 127.0.0.1 (a free port); stopped, its handlers ended, when the block ends."""
    server = HostileServer(behaviour)
    server.listener.bind(("127.0.0.1", 0))
    server.listener.listen()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        thread.join(timeout=2)
        server.listener.close()
        for handler in server.handlers:
            handler.join(timeout=2)


@contextmanager
def hostile_server(respond: Respond) -> Iterator[str]:
    """Serve `respond`'s answers on 127.0.0.1 (a free port) and yield the base URL; stopped when the block ends."""
    with hostile(answering(respond)) as server:
        yield server.url


__all__ = [
    "Answer",
    "Behaviour",
    "HostileServer",
    "Request",
    "Respond",
    "answering",
    "as_json",
    "hostile",
    "hostile_server",
    "send",
    "send_head",
]
