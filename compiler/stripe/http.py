"""The HTTP client under the stripe SDK: the SDK's own (requests, with its proxies and certificates), with bounds.

The SDK's client waits 80 seconds for a silent server, and then as long as the server keeps sending, however
slowly, and reads an answer of any size into memory. `BoundedHTTPClient` gives every attempt:

- a timeout for connecting and for each silence (`bounds.HTTP_TIMEOUT`);
- a deadline for the whole answer, headers and body (the gateway's deadline for the request, `bounds.
  HTTP_DEADLINE`): a server that sends one byte every few seconds is dropped when it passes;
- a size bound on the answer (`bounds.RESPONSE_MB`), checked as it arrives, before it is all in memory.

A wait on a socket cannot be cut short from the thread that waits, so each thread that sends gets a worker
thread that does the sending; the thread waits for its answer only until the deadline. A worker left behind by a
server that trickles ends by itself, at the next byte after the deadline or the next silence.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import stripe

from compiler import bounds
from compiler.bounds import Bound

#: bytes read from the socket at a time, and at most held beyond the size bound
CHUNK = 64 * 1024


@dataclass(frozen=True)
class HttpBounds:
    """The bounds one gateway's requests keep to, in seconds and bytes."""

    timeout: float  # connecting, and each silence of the server
    deadline: float  # one request from its first send to its whole answer, retries included
    max_bytes: int  # one answer

    @classmethod
    def from_env(cls) -> HttpBounds:
        return cls(bounds.HTTP_TIMEOUT.value, bounds.HTTP_DEADLINE.value, int(bounds.RESPONSE_MB.value * bounds.MB))


class BrokenAnswer(stripe.APIConnectionError):
    """The connection broke, or the server stopped making sense, in the middle of an answer's body."""


class BoundExceeded(stripe.APIConnectionError):
    """An answer went beyond a bound. The gateway shows it with its `rule` and `hint`, after the request's
    method and path and the address it went to; `should_retry` says whether sending it again could help (a
    silence may pass; a deadline or a size will not)."""

    def __init__(self, rule: str, message: str, bound: Bound, *, should_retry: bool = False) -> None:
        super().__init__(message, should_retry=should_retry)  # type: ignore[no-untyped-call]
        self.rule = rule
        self.hint = bound.hint()


def _seconds(value: float) -> str:
    return f"{value:g} seconds"


def _megabytes(count: int) -> str:
    return f"{count / bounds.MB:g} MB"


def _chunks(raw: Any) -> Iterator[bytes]:
    """The decoded body of a urllib3 response as it arrives: `read1` returns what one read of the socket gave
    (so a trickle is seen byte by byte), `stream` (urllib3 1.x) waits for whole chunks."""
    read1 = getattr(raw, "read1", None)
    if read1 is None:
        yield from raw.stream(CHUNK, decode_content=True)
        return
    while chunk := read1(CHUNK, decode_content=True):
        yield chunk


class _Worker:
    """A daemon thread that sends the requests of one thread, one at a time.

    It ends when this object goes: when the thread it sends for ends, or its client goes (both hold it only in
    the client's thread-local storage), or when `retire`d. The thread itself holds neither this object nor the
    client, so that they can go; its connections go with it (the SDK keeps them per thread)."""

    def __init__(self) -> None:
        jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._jobs = jobs
        threading.Thread(target=_serve, args=(jobs,), name="pricebook-http", daemon=True).start()
        weakref.finalize(self, jobs.put, None)

    def submit(self, work: Callable[[], tuple[bytes, int, Mapping[str, str]]]) -> Future[Any]:
        future: Future[Any] = Future()

        def job() -> None:
            try:
                future.set_result(work())
            except BaseException as exc:  # handed to the waiting thread, whatever it is
                future.set_exception(exc)

        self._jobs.put(job)
        return future

    def retire(self) -> None:
        """Ends the thread once its current request is over."""
        self._jobs.put(None)


def _serve(jobs: queue.SimpleQueue[Callable[[], None] | None]) -> None:
    while (job := jobs.get()) is not None:
        job()
        del job  # not to keep the last request's closure (and its client) while waiting for the next


class BoundedHTTPClient(stripe.RequestsClient):
    """The SDK's requests client with a timeout, a deadline and a size bound on every answer (module docstring)."""

    name = "pricebook"

    def __init__(self, limits: HttpBounds | None = None) -> None:
        self.limits = limits or HttpBounds.from_env()
        super().__init__(timeout=(self.limits.timeout, self.limits.timeout))
        self._local = threading.local()

    @contextlib.contextmanager
    def deadline(self, at: float) -> Iterator[None]:
        """Requests this thread sends inside the block must be answered whole by `at` (time.monotonic)."""
        self._local.deadline = at
        try:
            yield
        finally:
            self._local.deadline = None

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        at = getattr(self._local, "deadline", None) or time.monotonic() + self.limits.deadline
        worker: _Worker | None = getattr(self._local, "worker", None)
        if worker is None:
            worker = self._local.worker = _Worker()
        future = worker.submit(lambda: self._send(method, url, headers, post_data, at))
        try:
            result: tuple[bytes, int, Mapping[str, str]] = future.result(timeout=max(at - time.monotonic(), 0.0))
        except TimeoutError:
            self._local.worker = None  # it is still waiting for this server: the next request gets a new one
            worker.retire()
            raise self._deadline() from None
        return result

    def _send(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any, at: float
    ) -> tuple[bytes, int, Mapping[str, str]]:
        try:
            raw, status, answer_headers = self.request_stream(method, url, headers, post_data)
        except stripe.APIConnectionError as exc:
            if isinstance(exc.__cause__, self.requests.exceptions.Timeout):
                waited = _seconds(self.limits.timeout)
                connecting = isinstance(exc.__cause__, self.requests.exceptions.ConnectTimeout)
                message = f"no connection within {waited}" if connecting else f"the server sent nothing for {waited}"
                raise BoundExceeded("http-timeout", message, bounds.HTTP_TIMEOUT, should_retry=True) from exc
            raise
        try:
            body = self._read(raw, at)
        except BaseException:
            raw.close()  # not to be used again: it may still be sending
            raise
        raw.release_conn()  # read to the end: kept for the next request
        return body, status, answer_headers

    def _read(self, raw: Any, at: float) -> bytes:
        """The body of an answer, as long as it stays within the size bound and arrives before `at`."""
        limit = self.limits.max_bytes
        body = bytearray()
        try:
            for chunk in _chunks(raw):
                body += chunk
                if len(body) > limit:
                    raise BoundExceeded(
                        "response-too-large",
                        f"the answer is larger than {_megabytes(limit)}",
                        bounds.RESPONSE_MB,
                    )
                if time.monotonic() > at:
                    raise self._deadline()
        except BoundExceeded:
            raise
        except Exception as exc:  # the connection broke, or stayed silent, in the middle of the body
            timeout = isinstance(exc, self.requests.exceptions.Timeout) or "timed out" in str(exc)
            if timeout:
                raise BoundExceeded(
                    "http-timeout",
                    f"the server stopped sending for {_seconds(self.limits.timeout)}",
                    bounds.HTTP_TIMEOUT,
                    should_retry=True,
                ) from exc
            message = f"the answer broke off ({type(exc).__name__})"
            raise BrokenAnswer(message, should_retry=True) from exc  # type: ignore[no-untyped-call]
        return bytes(body)

    def _deadline(self) -> BoundExceeded:
        return BoundExceeded(
            "http-deadline",
            f"no whole answer within {_seconds(self.limits.deadline)}",
            bounds.HTTP_DEADLINE,
        )


__all__ = ["CHUNK", "BoundExceeded", "BoundedHTTPClient", "BrokenAnswer", "HttpBounds"]
