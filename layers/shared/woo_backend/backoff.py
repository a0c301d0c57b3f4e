"""Jittered exponential backoff, the one formula behind every wait-and-retry here.

Full jitter (a uniform draw between 0 and the capped exponential) spreads contenders apart, so each retry is
likely to meet a quiet record (AWS Architecture Blog, "Exponential Backoff And Jitter"). ``floor`` > 0 gives
"equal jitter": never less than that share of the step, for waits that must make progress (a lease poll).
"""

from __future__ import annotations

import random
import time


def backoff_delay(attempt: int, base: float, cap: float, *, floor: float = 0.0) -> float:
    """Seconds to wait before retry ``attempt`` (0 for the first retry)."""
    step = min(cap, base * (2 ** max(0, attempt)))
    return random.uniform(step * floor, step)  # spreading retries, not a secret


def sleep_backoff(attempt: int, base: float, cap: float, *, floor: float = 0.0) -> None:
    time.sleep(backoff_delay(attempt, base, cap, floor=floor))
