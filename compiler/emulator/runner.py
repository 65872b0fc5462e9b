"""Start the emulator in a background thread and stop it: for tests, `make demo` and the benchmarks."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import stripe

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
        self._stopped = False

    def client(self, *, max_network_retries: int = 0, **kwargs: Any) -> stripe.StripeClient:
        """A `stripe.StripeClient` pointed at this emulator (no retries by default: tests see raw answers)."""
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

    def raw(
        self,
        method: str,
        target: str,
        body: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        api_key: str | None = TEST_API_KEY,
    ) -> tuple[int, dict[str, str], Any]:
        """One request without the SDK (exact form bodies, missing keys): (status, headers, decoded JSON)."""
        all_headers = dict(headers or {})
        if api_key is not None:
            all_headers["Authorization"] = f"Bearer {api_key}"
        if body is not None:
            all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        data = body.encode() if body is not None else (b"" if method == "POST" else None)
        req = urllib.request.Request(self.url + target, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, dict(resp.headers.items()), json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers.items()), json.loads(err.read())

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        self.emulator.close()

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def free_port(host: str = DEFAULT_HOST) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ProcessHandle:
    """An emulator in its own process (its own GIL): for benchmarks and `make demo`."""

    def __init__(self, process: subprocess.Popen[bytes], url: str) -> None:
        self.process = process
        self.url = url
        self.api_key = TEST_API_KEY

    def client(self, *, max_network_retries: int = 0, **kwargs: Any) -> stripe.StripeClient:
        return stripe.StripeClient(
            self.api_key, base_addresses={"api": self.url}, max_network_retries=max_network_retries, **kwargs
        )

    def control(self, method: str, name: str) -> Any:
        req = urllib.request.Request(
            f"{self.url}/_emulator/{name}", method=method, data=b"" if method == "POST" else None
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> ProcessHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def run_in_subprocess(
    *, host: str = DEFAULT_HOST, port: int = 0, knobs: Knobs | None = None, state_path: Path | None = None
) -> ProcessHandle:
    """`pricebook emulator` (as `python -m compiler emulator`) on `host:port` (0 = a free port); returns once it
    answers. The process is started, not imported: the emulator itself never imports the command line."""
    knobs = knobs or Knobs()
    port = port or free_port(host)
    args = [sys.executable, "-m", "compiler", "emulator", "--host", host, "--port", str(port)]
    if knobs.rate_limit is not None:
        args += ["--rate-limit", str(knobs.rate_limit)]
    if knobs.fail_rate:
        args += ["--fail-rate", str(knobs.fail_rate)]
    if knobs.latency_ms:
        args += ["--latency-ms", str(knobs.latency_ms)]
    if knobs.seed is not None:
        args += ["--seed", str(knobs.seed)]
    if knobs.meter_event_rate_limit is not None:
        args += ["--meter-event-rate-limit", str(knobs.meter_event_rate_limit)]
    if knobs.meter_event_delay_ms:
        args += ["--meter-event-delay-ms", str(knobs.meter_event_delay_ms)]
    if state_path is not None:
        args += ["--state", str(state_path)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    handle = ProcessHandle(process, f"http://{host}:{port}")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited with status {process.returncode}")
        try:
            handle.control("GET", "health")
            return handle
        except OSError:
            time.sleep(0.05)
    handle.stop()
    raise RuntimeError("the emulator did not start within 20 s")


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
    # A short poll interval: `stop()` waits for the serving loop to notice, and tests stop servers often.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="pricebook-emulator", daemon=True
    )
    thread.start()
    return EmulatorHandle(server, thread)
