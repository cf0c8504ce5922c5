"""Clocks tests can move: real Jakarta time plus an offset per merchant (partnerId) that only grows.

Expiry of auth codes, OTTs, orders (validUpTo) and the 24-hour cancel window is measured on the clock of
the merchant they belong to, so ``POST /sandbox-admin/clock {"partnerId": ..., "advanceSeconds": n}``
runs one merchant's expiry scenarios in milliseconds and leaves every other merchant's codes, OTTs and
orders as they were (a team shares one sandbox; issue 26). ``partner_id=None`` is the sandbox's own
clock: real time unless a test in this process moves it. ``of(partner_id)`` is one merchant's clock with
the single-clock interface (now, real_now, stamp, to_sandbox, offset_seconds, advance).
Listeners (the expiry sweep) are called after every advance, outside the clock's lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from conformance.snap.timestamps import JAKARTA, format_timestamp


class Clock:
    def __init__(self) -> None:
        self._offsets: dict[str | None, float] = {}
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def offset(self, partner_id: str | None = None) -> float:
        return self._offsets.get(partner_id, 0.0)

    @property
    def offset_seconds(self) -> float:
        return self.offset(None)

    def offsets(self) -> dict[str, float]:
        """Every merchant's moved clock, partnerId -> seconds ahead of real time."""
        with self._lock:
            return {pid: seconds for pid, seconds in self._offsets.items() if pid is not None}

    def restore(self, offsets: dict[str, float]) -> None:
        """The offsets a state file kept (sandbox/statefile.py), before anything reads the clock."""
        with self._lock:
            self._offsets.update(offsets)

    def real_now(self) -> datetime:
        return datetime.now(JAKARTA)

    def now(self, partner_id: str | None = None) -> datetime:
        return self.real_now() + timedelta(seconds=self.offset(partner_id))

    def stamp(self, partner_id: str | None = None) -> str:
        return format_timestamp(self.now(partner_id))

    def to_sandbox(self, client_time: datetime, partner_id: str | None = None) -> datetime:
        """A time a client computed from its own (real) clock, read on the merchant's clock."""
        return client_time + timedelta(seconds=self.offset(partner_id))

    def to_real(self, moment: datetime, partner_id: str | None = None) -> datetime:
        """A time on the merchant's clock, as real time (when a timer must fire for it)."""
        return moment - timedelta(seconds=self.offset(partner_id))

    def advance(self, seconds: float, partner_id: str | None = None) -> datetime:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offsets[partner_id] = self._offsets.get(partner_id, 0.0) + seconds
        for listener in list(self._listeners):
            listener()
        return self.now(partner_id)

    def on_advance(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def of(self, partner_id: str | None) -> "MerchantClock":
        return MerchantClock(self, partner_id)


class MerchantClock:
    """One merchant's clock, read through the clock of the whole sandbox."""

    def __init__(self, clocks: Clock, partner_id: str | None):
        self._clocks, self.partner_id = clocks, partner_id

    @property
    def offset_seconds(self) -> float:
        return self._clocks.offset(self.partner_id)

    def real_now(self) -> datetime:
        return self._clocks.real_now()

    def now(self) -> datetime:
        return self._clocks.now(self.partner_id)

    def stamp(self) -> str:
        return self._clocks.stamp(self.partner_id)

    def to_sandbox(self, client_time: datetime) -> datetime:
        return self._clocks.to_sandbox(client_time, self.partner_id)

    def advance(self, seconds: float) -> datetime:
        return self._clocks.advance(seconds, self.partner_id)
