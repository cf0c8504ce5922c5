"""The sandbox's state: merchants, users, auth codes, bindings (tokens), OTTs, orders, refunds.

One re-entrant lock guards everything. With a state file (``--state``, sandbox/statefile.py) the store
also notes what changed (``changes``): a record it created, a field set on one (``Tracked``), a balance;
the state file writes them with each request and ``restore`` rebuilds the indexes from what it read. Single operations lock themselves; handlers that read and
then write (idempotency, state transitions) hold ``store.lock`` around the whole step, so concurrent
requests never create a duplicate order or consume an auth code twice.
Lifetimes ([sdk-validation]): auth code and OTT 10 minutes, single use; tokens 3 years. Each is measured
on the clock of the merchant (partnerId) it belongs to (clock.py: a clock per merchant).
Every store that grows with requests keeps its newest entries up to a cap (``bounds``, docs/sandbox.md
"Memory bounds"): a long-running sandbox stays flat however much it is sent; a record a cap drops is dropped
from the state file too (``_note_gone``).
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import re
import secrets
import threading
from datetime import datetime
from decimal import Decimal

from conformance.sandbox import bounds
from conformance.sandbox.bounds import BoundedDict
from conformance.sandbox.clock import Clock
from conformance.sandbox.records import (  # noqa: F401 - re-exported: handlers and pages import them from here
    AUTH_CODE_TTL,
    OTT_TTL,
    TOKEN_TTL,
    OPEN_STATUSES,
    NOT_PAYABLE,
    OrderNotPayable,
    InconsistentRequest,
    Tracked,
    Merchant,
    User,
    AuthCode,
    Binding,
    Ott,
    Order,
    Refund,
)
from conformance.snap.orders import OrderStatus


def _public_user_id(partner_id: str, phone: str) -> str:
    """Static per user and merchant ([sdk-models], scope PUBLIC_ID)."""
    digest = hashlib.sha256(f"{partner_id}|{normalise_phone(phone)}".encode()).hexdigest()
    return str(int(digest[:15], 16)).zfill(16)[:16]


def normalise_phone(phone: str) -> str:
    """``0838…``, ``62838…``, ``+62 838…`` and ``838…`` all name the same account (0-prefixed)."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("62"):
        digits = digits[2:]
    return digits if digits.startswith("0") else f"0{digits}"


class Store:
    def __init__(self, clock: Clock):
        self.clock = clock
        self.lock = threading.RLock()
        self._seq = itertools.count(1)
        self.merchants: dict[str, Merchant] = {}
        self.users: dict[str, User] = {}
        self.balances: dict[str, Decimal] = {}
        gone = self._note_gone          # what a cap drops leaves the state file too
        self.auth_codes: dict[str, AuthCode] = BoundedDict(bounds.AUTH_CODES, lambda k, r: gone(AuthCode.KIND, k))
        self.bindings_by_access: dict[str, Binding] = BoundedDict(bounds.TOKENS, lambda k, r: gone(Binding.KIND, k))
        self.bindings_by_refresh: dict[str, Binding] = BoundedDict(bounds.TOKENS, lambda k, r: gone("refresh", k))
        self.otts: dict[str, Ott] = BoundedDict(bounds.OTTS, lambda k, r: gone(Ott.KIND, k))
        self.orders: dict[str, Order] = BoundedDict(bounds.ORDERS, lambda k, r: gone(Order.KIND, k))  # referenceNo
        self.orders_by_partner_ref: dict[tuple[str, str], Order] = BoundedDict(bounds.ORDERS)   # (merchantId, ref)
        self.refunds: dict[tuple[str, str], Refund] = BoundedDict(bounds.REFUNDS, lambda k, r: gone(Refund.KIND, r.key))
        # per partnerId, a heap of (expires_at on that merchant's clock, seq, referenceNo)
        self._expiries: dict[str, list[tuple[datetime, int, str]]] = {}
        self.orders_by_payment_code: dict[str, Order] = BoundedDict(bounds.ORDERS)   # Payment Gateway VAs
        self.changes: dict[tuple[str, str], object] | None = None  # --state: what the next commit writes

    # --- the state file's view (sandbox/statefile.py) ----------------------------------------
    def track_changes(self) -> None:
        self.changes = {}

    def _note(self, kind: str, key: str, record: object) -> None:
        """Mark a created or changed record; a Tracked one then marks its own later changes."""
        if self.changes is not None:
            self.changes[(kind, key)] = record
            if isinstance(record, Tracked):
                object.__setattr__(record, "_changes", self.changes)

    def _note_balance(self, phone: str) -> None:
        self._note("balance", phone, phone)

    def _note_gone(self, kind: str, key: str) -> None:
        """A record dropped from memory (e.g. by a cap) is dropped from the state file at the next commit."""
        if self.changes is not None:
            self.changes[(kind, key)] = None

    def restore(self, merchants: list[Merchant], balances: dict[str, Decimal], auth_codes: list[AuthCode],
                bindings: list[Binding], refresh: dict[str, str], otts: list[Ott], orders: list[Order],
                refunds: list[Refund]) -> None:
        """Rebuild the state a state file held: the records and every index over them."""
        with self.lock:
            for merchant in merchants:
                self.merchants[merchant.partner_id] = merchant
            self.balances.update(balances)
            records = [*auth_codes, *bindings, *otts, *orders, *refunds]
            self.auth_codes.update((a.code, a) for a in auth_codes)
            self.bindings_by_access.update((b.access_token, b) for b in bindings)
            self.bindings_by_refresh.update((token, self.bindings_by_access[access])
                                            for token, access in refresh.items() if access in self.bindings_by_access)
            self.otts.update((o.value, o) for o in otts)
            for order in orders:
                self.orders[order.reference_no] = order
                self.orders_by_partner_ref[(order.merchant_id, order.partner_reference_no)] = order
                if order.payment_code:
                    self.orders_by_payment_code[order.payment_code] = order
                if order.status in OPEN_STATUSES:
                    heapq.heappush(self._expiries.setdefault(order.partner_id, []),
                                   (order.expires_at, next(self._seq), order.reference_no))
            self.refunds.update(((r.merchant_id, r.partner_refund_no), r) for r in refunds)
            for record in records:
                if self.changes is not None:
                    object.__setattr__(record, "_changes", self.changes)

    # --- identifiers -------------------------------------------------------------------------
    def new_reference(self) -> str:
        """A DANA-like 35-digit transaction id: date, a fixed infix, a sequence, random digits."""
        stamp = self.clock.now().strftime("%Y%m%d")
        return f"{stamp}1112{next(self._seq):012d}{secrets.randbelow(10**11):011d}"

    @staticmethod
    def new_token(nbytes: int = 30) -> str:
        return secrets.token_urlsafe(nbytes)

    # --- merchants and users -----------------------------------------------------------------
    def add_merchant(self, merchant: Merchant) -> None:
        with self.lock:
            self.merchants[merchant.partner_id] = merchant
            self._note("merchant", merchant.partner_id, merchant)

    def get_merchant(self, partner_id: str) -> Merchant | None:
        return self.merchants.get(partner_id)

    def add_user(self, user: User, balance: str = "0.00") -> None:
        with self.lock:
            self.users[normalise_phone(user.phone)] = user
            self.balances[normalise_phone(user.phone)] = Decimal(balance)

    def find_user(self, phone: str) -> User | None:
        return self.users.get(normalise_phone(phone))

    def balance_of(self, phone: str) -> Decimal:
        return self.balances.get(normalise_phone(phone), Decimal("0.00"))

    def top_up(self, phone: str, amount: Decimal) -> Decimal:
        """Credit a sandbox user's balance (sandbox-tools' e-money top-up); the new balance."""
        with self.lock:
            key = normalise_phone(phone)
            self.balances[key] = self.balances.get(key, Decimal("0.00")) + amount
            self._note_balance(key)
            return self.balances[key]

    # --- auth codes, bindings, OTTs ----------------------------------------------------------
    def issue_auth_code(self, partner_id: str, phone: str, scopes: list[str], redirect_url: str,
                        state: str) -> str:
        code = self.new_token(24)
        with self.lock:
            self.auth_codes[code] = AuthCode(code, partner_id, normalise_phone(phone), list(scopes),
                                             redirect_url, state, self.clock.now(partner_id) + AUTH_CODE_TTL)
            self._note(AuthCode.KIND, code, self.auth_codes[code])
        return code

    def consume_auth_code(self, code: str, partner_id: str) -> tuple[str, AuthCode | None]:
        """Atomically use a code once: ("ok"|"unknown"|"used"|"expired", record)."""
        with self.lock:
            record = self.auth_codes.get(code)
            if record is None or record.partner_id != partner_id:
                return "unknown", None
            if record.used:
                return "used", record
            if self.clock.now(partner_id) >= record.expires_at:
                return "expired", record
            record.used = True
            return "ok", record

    def issue_binding(self, partner_id: str, phone: str, scopes: list[str]) -> Binding:
        now = self.clock.now(partner_id)
        binding = Binding(partner_id, normalise_phone(phone), list(scopes), self.new_token(),
                          self.new_token(), now + TOKEN_TTL, now + TOKEN_TTL,
                          public_user_id=_public_user_id(partner_id, phone))
        with self.lock:
            self.bindings_by_access[binding.access_token] = binding
            self.bindings_by_refresh[binding.refresh_token] = binding
            self._note(Binding.KIND, binding.key, binding)
            self._note("refresh", binding.refresh_token, binding)
        return binding

    def refresh_binding(self, refresh_token: str, partner_id: str) -> Binding | None:
        """New access token for a live refresh token; the refresh token itself is kept."""
        with self.lock:
            old = self.bindings_by_refresh.get(refresh_token)
            if (old is None or old.revoked or old.partner_id != partner_id
                    or self.clock.now(partner_id) >= old.refresh_expires):
                return None
            new = Binding(old.partner_id, old.phone, old.scopes, self.new_token(), old.refresh_token,
                          self.clock.now(partner_id) + TOKEN_TTL, old.refresh_expires, old.public_user_id)
            self.bindings_by_access[new.access_token] = new
            self.bindings_by_refresh[refresh_token] = new
            self._note(Binding.KIND, new.key, new)
            self._note("refresh", refresh_token, new)
            return new

    def find_binding(self, access_token: str, partner_id: str) -> Binding | None:
        binding = self.bindings_by_access.get(access_token or "")
        if (binding is None or binding.revoked or binding.partner_id != partner_id
                or self.clock.now(partner_id) >= binding.access_expires):
            return None
        return binding

    def is_expired(self, access_token: str, partner_id: str) -> bool:
        """This merchant's access token, neither revoked nor unknown, but past its expiry."""
        binding = self.bindings_by_access.get(access_token or "")
        return (binding is not None and not binding.revoked and binding.partner_id == partner_id
                and self.clock.now(partner_id) >= binding.access_expires)

    def revoke(self, binding: Binding) -> None:
        """Account Unbinding: every token of this user's binding with this merchant stops working."""
        with self.lock:
            for other in list(self.bindings_by_access.values()):
                if other.refresh_token == binding.refresh_token:
                    other.revoked = True

    def issue_ott(self, partner_id: str, phone: str) -> str:
        value = self.new_token(32)
        with self.lock:
            self.otts[value] = Ott(value, partner_id, normalise_phone(phone),
                                   self.clock.now(partner_id) + OTT_TTL)
            self._note(Ott.KIND, value, self.otts[value])
        return value

    def redeem_ott(self, ott: str, partner_id: str) -> User | None:
        """Single use, 10 minutes, only on an order of the merchant it was issued to; None otherwise.

        Another merchant's OTT neither logs in nor is used up: it was never valid here.
        """
        with self.lock:
            record = self.otts.get(ott or "")
            if (record is None or record.used or record.partner_id != partner_id
                    or self.clock.now(partner_id) >= record.expires_at):
                return None
            record.used = True
            return self.find_user(record.phone)

    # --- orders and refunds ------------------------------------------------------------------
    def put_order(self, order: Order) -> tuple[Order, bool]:
        """Create the order, or return the existing one for the same (merchantId, partnerRef).

        Raises InconsistentRequest when the key exists with another fingerprint ([sdk-models]).
        """
        key = (order.merchant_id, order.partner_reference_no)
        with self.lock:
            existing = self.orders_by_partner_ref.get(key)
            if existing is not None:
                if existing.fingerprint != order.fingerprint:
                    raise InconsistentRequest(order.partner_reference_no)
                return existing, False
            self.orders[order.reference_no] = order
            self.orders_by_partner_ref[key] = order
            if order.payment_code:
                self.orders_by_payment_code[order.payment_code] = order
            heap = self._expiries.setdefault(order.partner_id, [])
            heapq.heappush(heap, (order.expires_at, next(self._seq), order.reference_no))
            if len(heap) > 2 * bounds.ORDERS:                 # drop the expiries of orders the cap forgot
                heap[:] = [e for e in heap if e[2] in self.orders]
                heapq.heapify(heap)
            self._note(Order.KIND, order.key, order)
            return order, True

    def get_order(self, reference_no: str) -> Order | None:
        return self.orders.get(reference_no or "")

    def find_order(self, merchant_id: str, partner_reference_no: str) -> Order | None:
        return self.orders_by_partner_ref.get((merchant_id, partner_reference_no or ""))

    def find_order_any(self, partner_reference_no: str) -> Order | None:
        """Admin lookup by partnerReferenceNo across merchants (the latest one wins)."""
        with self.lock:
            found = [o for (_, ref), o in self.orders_by_partner_ref.items() if ref == partner_reference_no]
        return found[-1] if found else None

    def next_expiry(self) -> datetime | None:
        """The next order expiry of any merchant, in real time (each is on its own merchant's clock)."""
        with self.lock:
            return min((self.clock.to_real(heap[0][0], pid) for pid, heap in self._expiries.items() if heap),
                       default=None)

    def close_expired(self) -> list[Order]:
        """Close every open order whose validUpTo has passed on its merchant's clock."""
        closed = []
        with self.lock:
            for partner_id, heap in self._expiries.items():
                now = self.clock.now(partner_id)
                while heap and heap[0][0] <= now:
                    _, _, reference_no = heapq.heappop(heap)
                    order = self.orders.get(reference_no)
                    if order is not None and order.status in OPEN_STATUSES:
                        order.status, order.closed_at = OrderStatus.CLOSED, now
                        closed.append(order)
        return closed

    def is_payable(self, order: Order) -> bool:
        """Open (INIT or PAYING) and before its validUpTo on the sandbox clock: the pages and ``pay`` agree."""
        return order.status in OPEN_STATUSES and self.clock.now(order.partner_id) < order.expires_at

    def pay(self, reference_no: str, payer_phone: str | None) -> Order:
        """Pay from a DANA user's balance, or with ``payer_phone=None`` by a bank transfer to the order's
        virtual account (Payment Gateway), which moves no DANA balance."""
        with self.lock:
            order = self.orders.get(reference_no or "")
            if order is None:
                raise OrderNotPayable("unknown order")
            if not self.is_payable(order):
                raise OrderNotPayable(NOT_PAYABLE.get(order.status, "order expired"))
            phone = None
            if payer_phone is not None or not order.payment_code:
                if self.find_user(payer_phone or "") is None:
                    raise OrderNotPayable("unknown DANA account")
                phone = normalise_phone(payer_phone)
                amount = Decimal(order.amount_value)
                if self.balances.get(phone, Decimal(0)) < amount:
                    raise OrderNotPayable("insufficient balance")
                self.balances[phone] -= amount
                self._note_balance(phone)
            order.status, order.paid_at, order.payer_phone = (OrderStatus.SUCCESS, self.clock.now(order.partner_id),
                                                              phone)
            return order

    def put_refund(self, merchant_id: str, partner_refund_no: str, order: Order, amount: Decimal,
                   currency: str, fingerprint: str) -> Refund:
        """Record a refund and give the money back to the payer (caller holds the lock)."""
        refund = Refund(self.new_reference(), partner_refund_no, order, f"{amount:.2f}", currency,
                        self.clock.now(order.partner_id), fingerprint, merchant_id=merchant_id)
        self.refunds[(merchant_id, partner_refund_no)] = refund
        self._note(Refund.KIND, refund.key, refund)
        order.refunded += amount
        if order.payer_phone:
            self.balances[order.payer_phone] = self.balances.get(order.payer_phone, Decimal(0)) + amount
            self._note_balance(order.payer_phone)
        return refund

    def history(self, partner_id: str, phone: str) -> list[tuple[str, object]]:
        """("PAYMENT", Order) and ("REFUND", Refund) entries of one user with one merchant."""
        phone = normalise_phone(phone)
        with self.lock:
            rows: list[tuple[str, object]] = [("PAYMENT", o) for o in self.orders.values()
                                              if o.payer_phone == phone and o.partner_id == partner_id]
            rows += [("REFUND", r) for r in self.refunds.values()
                     if r.order.payer_phone == phone and r.order.partner_id == partner_id]
        return rows
