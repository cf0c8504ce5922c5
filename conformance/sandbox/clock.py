"""A clock tests can move: real Jakarta time plus an offset that only grows.

Expiry of auth codes, OTTs, orders (validUpTo) and the 24-hour cancel window is measured on this
clock, so ``POST /sandbox-admin/clock {"advanceSeconds": n}`` runs those scenarios in milliseconds.
Listeners (the expiry sweep) are called after every advance, outside the clock's lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from conformance.snap.timestamps import JAKARTA, format_timestamp


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    @property
    def offset_seconds(self) -> float:
        return self._offset

    def real_now(self) -> datetime:
        return datetime.now(JAKARTA)

    def now(self) -> datetime:
        return self.real_now() + timedelta(seconds=self._offset)

    def stamp(self) -> str:
        return format_timestamp(self.now())

    def to_sandbox(self, client_time: datetime, offset: float | None = None) -> datetime:
        """A time a client computed from its own (real) clock, read on the sandbox's clock."""
        return client_time + timedelta(seconds=self._offset if offset is None else offset)

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += seconds
        for listener in list(self._listeners):
            listener()
        return self.now()

    def on_advance(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)
