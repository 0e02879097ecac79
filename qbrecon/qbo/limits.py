"""QuickBooks Online rate limits, the client-side limiter that keeps within them, and retries.

QuickBooks Online allows, per company (realm), 500 requests and 40 batch requests per
minute; past that it answers HTTP 429 and asks the caller to wait a minute. The same
numbers drive both sides here: :class:`QBOLimits` configures the sender's limiter and
the local emulator's throttle, and ``QBOLimits().scaled(60)`` turns minutes into
seconds for fast tests and benchmarks.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..errors import SettingsError


@dataclass(frozen=True)
class QBOLimits:
    """Request limits per company, over a sliding window.

    Args:
        requests_per_window: all API requests (batch requests count too).
        batches_per_window: batch requests.
        window: the window in seconds (60 for QuickBooks Online).
        throttle_wait: seconds to wait after a 429 that names no ``Retry-After``
            (QuickBooks says: wait 60 seconds).
        margin: the client keeps its window this fraction longer than the server's,
            so the jitter between sending and arrival never trips the server's limit.

    Example:
        >>> QBOLimits().scaled(60).window
        1.0
    """

    requests_per_window: int = 500
    batches_per_window: int = 40
    window: float = 60.0
    throttle_wait: float = 60.0
    margin: float = 0.02

    def __post_init__(self) -> None:
        problems = []
        if self.requests_per_window < 1 or self.batches_per_window < 1:
            problems.append("the request counts must be at least 1")
        if not self.window > 0:
            problems.append("window must be a positive number of seconds")
        if self.throttle_wait < 0 or self.margin < 0:
            problems.append("throttle_wait and margin cannot be negative")
        if problems:
            raise SettingsError("QBOLimits: " + "; ".join(problems), setting="limits")

    def scaled(self, factor: float) -> QBOLimits:
        """The same counts over a window ``factor`` times shorter (waits shrink alike)."""
        if not factor > 0:
            raise SettingsError("QBOLimits.scaled: factor must be positive", setting="limits")
        return replace(self, window=self.window / factor, throttle_wait=self.throttle_wait / factor)

    @property
    def batch_rate(self) -> float:
        """Batch requests per second at the limit."""
        return self.batches_per_window / self.window


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures (throttling, 5xx, timeouts, lost responses) are retried.

    Every retry carries the same request id, so QuickBooks answers a request it already
    ran with the stored response instead of running it twice.

    Args:
        max_attempts: attempts per request, the first one included.
        base_delay: the first backoff in seconds; it doubles per attempt, with jitter.
        max_delay: the longest single backoff.

    Example:
        >>> RetryPolicy(max_attempts=3).delay(1, rng=random.Random(0)) <= 2.0
        True
    """

    max_attempts: int = 8
    base_delay: float = 1.0
    max_delay: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay < 0 or self.max_delay < 0:
            raise SettingsError(
                "RetryPolicy: max_attempts must be >= 1 and the delays >= 0", setting="retry"
            )

    def delay(self, attempt: int, *, rng: random.Random | None = None) -> float:
        """Backoff before retry number ``attempt`` (1 = the first retry): full jitter."""
        cap = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        return (rng or random).uniform(cap / 2, cap)


class RateLimiter:
    """A thread-safe sliding-window limiter for one company.

    ``acquire(batch=...)`` blocks until the request fits both windows, then records it.
    ``pause(seconds)`` holds every caller back (after a 429).

    Args:
        limits: the limits to keep.
        clock, sleep: injectable for tests.
    """

    def __init__(
        self,
        limits: QBOLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._all: deque[float] = deque()
        self._batches: deque[float] = deque()
        self._paused_until = 0.0
        self.waited = 0.0  # total seconds spent waiting, for reports

    def _span(self) -> float:
        return self.limits.window * (1.0 + self.limits.margin)

    def _wait_needed(self, now: float, batch: bool) -> float:
        span = self._span()
        for q in (self._all, self._batches):
            # the same expression as the wait below, so float rounding cannot disagree
            while q and q[0] + span <= now:
                q.popleft()
        wait = max(0.0, self._paused_until - now)
        if len(self._all) >= self.limits.requests_per_window:
            wait = max(wait, self._all[0] + span - now)
        if batch and len(self._batches) >= self.limits.batches_per_window:
            wait = max(wait, self._batches[0] + span - now)
        return wait

    def acquire(self, *, batch: bool = False) -> float:
        """Wait until one more request (a batch request if ``batch``) is allowed.

        Returns:
            the seconds spent waiting.
        """
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_needed(now, batch)
                if wait <= 0:
                    self._all.append(now)
                    if batch:
                        self._batches.append(now)
                    self.waited += waited
                    return waited
            self._sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        """Hold every request back for ``seconds`` from now (QuickBooks throttled us)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))
