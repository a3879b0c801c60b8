"""Reconnect delays: exponential with full jitter, so that cameras dropped by one network
outage do not all knock on the recorder's door in the same second."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """``next_delay()`` grows base·2ⁿ up to ``cap``, drawn uniformly in [0, that]; ``reset()``
    after a success."""

    base_s: float = 1.0
    cap_s: float = 30.0
    attempts: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        """The wait before the next attempt."""
        ceiling = min(self.cap_s, self.base_s * (2 ** self.attempts))
        self.attempts += 1
        return self.rng.uniform(0, ceiling)

    def reset(self) -> None:
        """Forget past failures."""
        self.attempts = 0
