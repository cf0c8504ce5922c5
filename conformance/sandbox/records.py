"""The sandbox's records: merchants, users, auth codes, bindings (tokens), OTTs, orders and refunds, and the
lifetimes and state rules they carry. ``Tracked`` records note their own changes for the state file (store.py,
statefile.py); the store keeps and indexes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.snap.orders import OPEN, OrderStatus

AUTH_CODE_TTL = timedelta(minutes=10)
OTT_TTL = timedelta(minutes=10)
TOKEN_TTL = timedelta(days=3 * 365)
OPEN_STATUSES = OPEN
# Why an order that is not payable cannot be paid, by status; any other status means it expired.
NOT_PAYABLE = {OrderStatus.SUCCESS: "order already paid", OrderStatus.CANCELLED: "order cancelled"}


class OrderNotPayable(Exception):
    """The hosted checkout cannot pay this order; ``reason`` says why in plain words."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class InconsistentRequest(Exception):
    """The same idempotency key arrived with a different body (404xx18)."""


class Tracked:
    """A record the state file must see change: setting any field marks it in the store's ``changes``
    once the store tracks it (``Store._note``); in memory only, nothing is attached and nothing is marked."""

    KIND = ""

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        changes = self.__dict__.get("_changes")
        if changes is not None:
            changes[(self.KIND, self.key)] = self


@dataclass(frozen=True)
class Merchant:
    partner_id: str
    merchant_id: str
    public_key: rsa.RSAPublicKey
    public_key_pem: str


@dataclass(frozen=True)
class User:
    phone: str
    pin: str
    name: str
    role: str = "normal"


@dataclass
class AuthCode(Tracked):
    KIND = "auth_code"
    code: str
    partner_id: str
    phone: str
    scopes: list[str]
    redirect_url: str
    state: str
    expires_at: datetime
    used: bool = False

    @property
    def key(self) -> str:
        return self.code


@dataclass
class Binding(Tracked):
    KIND = "binding"

    partner_id: str
    phone: str
    scopes: list[str]
    access_token: str
    refresh_token: str
    access_expires: datetime
    refresh_expires: datetime
    public_user_id: str
    revoked: bool = False

    @property
    def key(self) -> str:
        return self.access_token


@dataclass
class Ott(Tracked):
    KIND = "ott"
    value: str
    partner_id: str
    phone: str
    expires_at: datetime
    used: bool = False

    @property
    def key(self) -> str:
        return self.value


@dataclass
class Order(Tracked):
    KIND = "order"
    reference_no: str
    partner_reference_no: str
    merchant_id: str
    partner_id: str
    amount_value: str
    currency: str
    status: OrderStatus
    valid_up_to: datetime             # as the merchant sent it
    title: str
    pay_return_url: str | None
    notify_url: str | None
    created_at: datetime = None       # sandbox clock
    expires_at: datetime = None       # valid_up_to on the sandbox clock (see Clock.to_sandbox)
    fingerprint: str = ""
    request: dict = field(default_factory=dict)
    external_id: str = ""
    paid_at: datetime | None = None
    payer_phone: str | None = None
    cancelled_at: datetime | None = None
    closed_at: datetime | None = None
    refunded: Decimal = Decimal("0.00")
    pay_option: str | None = None     # Payment Gateway: the payOption of payOptionDetails, e.g. VIRTUAL_ACCOUNT_CIMB
    payment_code: str | None = None   # Payment Gateway virtual account: the number the payer transfers to

    @property
    def amount(self) -> dict:
        return {"value": self.amount_value, "currency": self.currency}

    @property
    def key(self) -> str:
        return self.reference_no


@dataclass
class Refund(Tracked):
    KIND = "refund"
    refund_no: str
    partner_refund_no: str
    order: Order
    amount_value: str
    currency: str
    created_at: datetime
    fingerprint: str
    status: str = "SUCCESS"
    merchant_id: str = ""             # of the idempotency key (merchantId, partnerRefundNo)

    @property
    def key(self) -> str:
        return f"{self.merchant_id}\n{self.partner_refund_no}"
