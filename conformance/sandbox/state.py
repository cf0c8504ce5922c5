"""The Sandbox: the in-process state object shared by the API pipeline, the admin API and the pages.

It owns the store, the movable clocks (one per merchant), the magic-value rules, the DANA gateway key pair (the private
half signs Finish Notify and checkout links) and the notifier. Order expiry is event driven: a timer
on the server loop fires at the next validUpTo, and every clock advance sweeps at once.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.sandbox.clock import Clock
from conformance.sandbox.external_ids import ExternalIds
from conformance.sandbox.journal import Journal
from conformance.sandbox.notifier import Notifier
from conformance.sandbox.rules import Rules
from conformance.sandbox.store import (  # re-exported: the pages import them from here
    Merchant,
    Order,
    OrderNotPayable,
    Store,
    User,
)
from conformance.snap.keys import generate_private_key, load_public_key, public_key_pem

__all__ = ["Sandbox", "Order", "OrderNotPayable", "User", "Merchant"]


class Sandbox:
    def __init__(self, dana_private_key: rsa.RSAPrivateKey | None = None, *, rules: Rules | None = None,
                 state=None):
        """``state``: a StateFile (sandbox/statefile.py) to resume from and write to; None keeps memory only."""
        self.clock = Clock()
        self.store = Store(self.clock)
        self.rules = rules or Rules.load()
        self.dana_private_key = dana_private_key or generate_private_key()
        self.dana_public_key_pem = public_key_pem(self.dana_private_key)
        self.notifier = Notifier(self)
        self.journal = Journal(self)              # graded traffic of merchants' backends
        self.external_ids = ExternalIds()         # same-day X-EXTERNAL-ID register (409xx00)
        self.base_url = ""
        self.faults = None                        # faults.Faults when the server injects faults
        self.default_phone = "083811223355"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer_lock = threading.Lock()
        self._timer_at: datetime | None = None      # when the armed expiry timer fires
        for row in self.rules.users:
            self.store.add_user(User(str(row["phone"]), str(row["pin"]), row.get("name", ""),
                                     row.get("role", "normal")), str(row.get("balance", "0.00")))
            if row.get("default"):
                self.default_phone = str(row["phone"])
        self.clock.on_advance(self._on_advance)
        self.state = state
        self.restored = state.restore(self) if state is not None else None

    def close_state(self) -> None:
        """Write the last changes and close the state file (after the server stopped)."""
        state, self.state = self.state, None
        if state is not None:
            state.close()

    # --- wiring --------------------------------------------------------------------------------
    def attach_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.notifier.attach(loop)
        if self.restored:
            self.sweep()          # orders that expired while the sandbox was down; arms the timer

    def register_merchant(self, partner_id: str, merchant_id: str, public_key_pem_text: str) -> Merchant:
        key = load_public_key(public_key_pem_text)
        merchant = Merchant(partner_id, merchant_id, key, public_key_pem(key))
        self.store.add_merchant(merchant)
        return merchant

    # --- orders --------------------------------------------------------------------------------
    def pay_order(self, reference_no: str, payer_phone: str | None) -> Order:
        """INIT/PAYING -> SUCCESS and the Finish Notify 00; OrderNotPayable(reason) otherwise."""
        self.sweep()
        order = self.store.pay(reference_no, payer_phone)
        self.notifier.enqueue(order, "00")
        return order

    def sweep(self) -> list[Order]:
        """Close orders whose validUpTo passed (sandbox clock) and send their notify 05."""
        closed = self.store.close_expired()
        for order in closed:
            self.notifier.enqueue(order, "05")
        self._arm_timer()
        return closed

    def order_created(self, order: Order) -> None:
        self._arm_timer(self.clock.to_real(order.expires_at, order.partner_id))

    def _on_advance(self) -> None:
        with self._timer_lock:
            self._timer_at = None                  # armed delays were computed on the old time
        self.sweep()

    def _on_timer(self) -> None:
        with self._timer_lock:
            self._timer_at = None
        self.sweep()

    def _arm_timer(self, at: datetime | None = None) -> None:
        """Schedule one sweep at the next expiry (``at``: real time) on the server loop (no polling)."""
        at = at or self.store.next_expiry()
        loop = self._loop
        if at is None or loop is None or loop.is_closed():
            return
        with self._timer_lock:
            if self._timer_at is not None and self._timer_at <= at:
                return                             # an earlier timer will re-arm for this one
            self._timer_at = at
        delay = max(0.0, (at - self.clock.real_now()).total_seconds()) + 0.001
        try:
            loop.call_soon_threadsafe(loop.call_later, delay, self._on_timer)
        except RuntimeError:                       # loop closed while stopping
            pass
