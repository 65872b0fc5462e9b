"""Knobs for tests and benchmarks: a rate limit, injected faults and latency, all reproducible with a seed."""

from __future__ import annotations

import collections
import random
import time
from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class Knobs:
    rate_limit: int | None = None  # requests per second over the whole server; None = unlimited
    fail_rate: float = 0.0  # probability that a write fails with a 500
    latency_ms: int = 0  # added to every API request
    seed: int | None = None  # ids and faults repeat for the same seed and the same requests
    #: Stripe's live meter-event limit: meter event requests (v1 and the stream) count here, not in rate_limit
    meter_event_rate_limit: int | None = None
    meter_event_delay_ms: int = 0  # before a meter event counts in summaries (Stripe processes them later)

    def __post_init__(self) -> None:
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be at least 1")
        if self.meter_event_rate_limit is not None and self.meter_event_rate_limit < 1:
            raise ValueError("meter_event_rate_limit must be at least 1")
        if self.meter_event_delay_ms < 0:
            raise ValueError("meter_event_delay_ms must not be negative")
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")


class RateLimiter:
    """A sliding one-second window over the whole server, as Stripe counts requests per second."""

    def __init__(self, per_second: int | None) -> None:
        self.per_second = per_second
        self._times: collections.deque[float] = collections.deque()

    def allow(self, now: float | None = None) -> bool:
        if self.per_second is None:
            return True
        now = time.monotonic() if now is None else now
        while self._times and now - self._times[0] >= 1.0:
            self._times.popleft()
        if len(self._times) >= self.per_second:
            return False
        self._times.append(now)
        return True

    def reset(self) -> None:
        self._times.clear()


class Fault(Enum):
    BEFORE_COMMIT = "before_commit"  # nothing is written; a retry with the same key runs again
    AFTER_COMMIT = "after_commit"  # the object exists but the client sees a 500, replayed for its key


class FaultInjector:
    """Draws one number per write from its own seeded generator, so a seed gives the same faults for the same
    sequence of writes whatever else (ids, reads) happens."""

    def __init__(self, fail_rate: float, seed: int | None) -> None:
        self.fail_rate = fail_rate
        self.seed = seed
        self._rng = random.Random(seed)

    def draw(self) -> Fault | None:
        if self.fail_rate <= 0.0:
            return None
        if self._rng.random() >= self.fail_rate:
            return None
        return Fault.BEFORE_COMMIT if self._rng.random() < 0.5 else Fault.AFTER_COMMIT

    def reset(self) -> None:
        self._rng = random.Random(self.seed)
