"""The HTTP face of the emulator: a threading HTTP/1.1 server on loopback only.

HTTP/1.1 with a Content-Length on every response keeps the SDK's pooled connections alive, which is most of
the emulator's throughput.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from compiler.emulator.app import Emulator

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 12111


def is_loopback(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, the second waits for a delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server: EmulatorServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = self.server.emulator.handle(self.command, self.path, headers, body)
        payload = json.dumps(response.body, default=str).encode()  # default: a Decimal must never drop a reply
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve
    do_DELETE = _serve
    do_PUT = _serve  # no route takes them: answered with Stripe's "Unrecognized request URL"
    do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log lives under /_emulator/requests; never print headers (they carry the key)


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, emulator: Emulator, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        if not is_loopback(host):
            raise ValueError(f"the emulator binds to loopback only, not {host!r}")
        self.emulator = emulator
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"
