"""A server that answers the meter event endpoints at once and keeps nothing: what is left of an import's time
against it is pricebook's own (and the SDK's). `python -m tests.bench.instant_server PORT` (loopback only)."""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from compiler.stripe import facts

METER = {
    "id": "mtr_bench",
    "object": "billing.meter",
    "event_name": "emails_sent",
    "display_name": "Emails sent",
    "status": "active",
    "default_aggregation": {"formula": "sum"},
    "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
    "value_settings": {"event_payload_key": "value"},
}
SESSION = {
    "id": "mes_bench",
    "object": "v2.billing.meter_event_session",
    "authentication_token": "mes_tok_bench",
    "created": "2024-06-01T12:00:00.000Z",
    "expires_at": "2024-06-01T12:15:00.000Z",
    "livemode": False,
}
ANSWERS: dict[tuple[str, str], Any] = {
    ("GET", facts.METERS_PATH): {"object": "list", "data": [METER], "has_more": False, "url": facts.METERS_PATH},
    ("POST", facts.METER_EVENT_SESSION_PATH): SESSION,
    ("POST", facts.METER_EVENT_STREAM_PATH): {},
    ("POST", facts.METER_EVENTS_PATH): {"object": "billing.meter_event"},
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        answer = ANSWERS.get((self.command, self.path.split("?", 1)[0]))
        status = 200 if answer is not None else 404
        body = json.dumps(answer if answer is not None else {"error": {"message": "not here"}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), _Handler)
    server.daemon_threads = True
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
