"""A circuit breaker per provider: stop calling a provider that keeps failing."""

from __future__ import annotations

import time
from collections.abc import Callable


class CircuitBreaker:
    """Closed -> open after ``failures`` consecutive failures -> half-open after
    ``cooldown`` seconds (one trial call) -> closed on success, open again on failure."""

    def __init__(self, *, failures: int = 5, cooldown: float = 30.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.threshold = failures
        self.cooldown = cooldown
        self.now = now
        self.consecutive = 0
        self.opened_at: float | None = None
        self.trial_running = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half_open" if self.now() - self.opened_at >= self.cooldown else "open"

    def allow(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self.trial_running:
            self.trial_running = True
            return True
        return False

    def succeeded(self) -> None:
        self.consecutive = 0
        self.opened_at = None
        self.trial_running = False

    def failed(self) -> None:
        self.consecutive += 1
        self.trial_running = False
        if self.opened_at is not None or self.consecutive >= self.threshold:
            self.opened_at = self.now()
