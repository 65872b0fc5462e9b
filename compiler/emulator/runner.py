"""Start the emulator in a background thread and stop it: for tests, `make demo` and the benchmarks."""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from compiler.emulator.app import Emulator
from compiler.emulator.knobs import Knobs
from compiler.emulator.server import DEFAULT_HOST, EmulatorServer

TEST_API_KEY = "sk_test_pricebook_emulator"


class EmulatorHandle:
    """A running emulator. Use as a context manager, or call `stop()`."""

    def __init__(self, server: EmulatorServer, thread: threading.Thread) -> None:
        self.server = server
        self.thread = thread
        self.emulator: Emulator = server.emulator
        self.url: str = server.url
        self.api_key = TEST_API_KEY

    def client(self, *, max_network_retries: int = 0, **kwargs: Any) -> Any:
        """A `stripe.StripeClient` pointed at this emulator (no retries by default: tests see raw answers)."""
        import stripe

        return stripe.StripeClient(
            self.api_key,
            base_addresses={"api": self.url},
            max_network_retries=max_network_retries,
            **kwargs,
        )

    def requests(self) -> list[dict[str, Any]]:
        return self.emulator.requests()

    def reset(self) -> None:
        self.emulator.reset()

    def control(self, method: str, name: str) -> Any:
        """Call a `/_emulator/<name>` endpoint over HTTP (what an out-of-process user would do)."""
        req = urllib.request.Request(
            f"{self.url}/_emulator/{name}", method=method, data=b"" if method == "POST" else None
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def run_in_thread(
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    knobs: Knobs | None = None,
    state_path: Path | None = None,
) -> EmulatorHandle:
    """Serve a fresh emulator on `host:port` (port 0 = a free port) from a daemon thread; returns at once,
    ready for requests."""
    server = EmulatorServer(Emulator(knobs, state_path=state_path), host, port)
    thread = threading.Thread(target=server.serve_forever, name="pricebook-emulator", daemon=True)
    thread.start()
    return EmulatorHandle(server, thread)
