"""The sandbox store's rules (conformance/sandbox/store.py), one focused test each, on a Store and a Clock.

Lifetimes are checked at their exact edge (a code is dead the moment its TTL is reached), single use,
per-merchant isolation, idempotency, and money: what a payment takes and a refund gives back.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from conformance.sandbox.clock import Clock
from conformance.sandbox.store import (
    AUTH_CODE_TTL,
    OTT_TTL,
    TOKEN_TTL,
    InconsistentRequest,
    Order,
    OrderNotPayable,
    Store,
    User,
    _public_user_id,
    normalise_phone,
)
from conformance.snap.orders import OrderStatus

PHONE, OTHER_PHONE = "083811223355", "081200000001"


@pytest.fixture()
def store() -> Store:
    s = Store(Clock())
    s.add_user(User(PHONE, "181818", "Budi"), balance="100.00")
    s.add_user(User(OTHER_PHONE, "123456", "Sari"), balance="5.00")
    return s


def order(store: Store, ref: str = "ref-1", amount: str = "10.00", *, merchant: str = "M", minutes: int = 15,
          fingerprint: str = "f", payment_code: str | None = None) -> Order:
    now = store.clock.now("P")
    return Order(store.new_reference(), ref, merchant, "P", amount, "IDR", OrderStatus.INIT,
                 now + timedelta(minutes=minutes), "title", None, None, created_at=now,
                 expires_at=now + timedelta(minutes=minutes), fingerprint=fingerprint, payment_code=payment_code)


# -- phones and identifiers ---------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", ["083811223355", "6283811223355", "+62 838-1122-3355", "83811223355"])
def test_rule_every_spelling_of_a_phone_names_the_same_account(spelling):
    assert normalise_phone(spelling) == PHONE


def test_rule_a_public_user_id_is_stable_per_user_and_merchant():
    first = _public_user_id("P", PHONE)
    assert first == _public_user_id("P", "+62 838-1122-3355"), "rule: the same user, however spelt"
    assert first != _public_user_id("Q", PHONE) and first != _public_user_id("P", OTHER_PHONE)
    assert len(first) == 16 and first.isdigit()


def test_rule_a_reference_is_35_digits_dated_on_the_sandbox_clock_and_unique(store):
    refs = {store.new_reference() for _ in range(20)}
    assert len(refs) == 20, "rule: references never repeat"
    ref = refs.pop()
    assert len(ref) == 35 and ref.isdigit() and ref.startswith(store.clock.now("P").strftime("%Y%m%d") + "1112")


# -- auth codes, bindings, OTTs -----------------------------------------------------------------------

def test_rule_an_auth_code_is_dead_the_moment_its_lifetime_ends(store):
    code = store.issue_auth_code("P", PHONE, ["CASHIER"], "https://m.example/cb", "st")
    record = store.auth_codes[code]
    assert abs((record.expires_at - store.clock.now("P") - AUTH_CODE_TTL).total_seconds()) < 1
    assert (record.phone, record.scopes, record.redirect_url, record.state) == (PHONE, ["CASHIER"],
                                                                                "https://m.example/cb", "st")
    store.clock.advance((record.expires_at - store.clock.now("P")).total_seconds(), "P")
    assert store.consume_auth_code(code, "P")[0] == "expired", "rule: at its expiry a code is expired"
    assert not record.used, "rule: an expired code is not used up"


def test_rule_an_auth_code_is_used_once_by_the_merchant_it_was_issued_to(store):
    code = store.issue_auth_code("P", PHONE, [], "", "")
    assert store.consume_auth_code(code, "Q") == ("unknown", None), "rule: another merchant's code is unknown"
    status, record = store.consume_auth_code(code, "P")
    assert status == "ok" and record.used
    assert store.consume_auth_code(code, "P")[0] == "used"
    assert store.consume_auth_code("nope", "P") == ("unknown", None)


def test_rule_a_binding_gives_tokens_that_live_for_their_lifetime_for_their_merchant_only(store):
    binding = store.issue_binding("P", "+62 838-1122-3355", ["CASHIER"])
    assert binding.phone == PHONE and binding.access_token != binding.refresh_token
    assert store.find_binding(binding.access_token, "P") is binding
    assert store.find_binding(binding.access_token, "Q") is None, "rule: a token works for its merchant only"
    assert store.find_binding("", "P") is None and store.find_binding(None, "P") is None
    assert not store.is_expired(binding.access_token, "P")
    store.clock.advance((binding.access_expires - store.clock.now("P")).total_seconds(), "P")
    assert store.find_binding(binding.access_token, "P") is None, "rule: at its expiry a token is dead"
    assert store.is_expired(binding.access_token, "P"), "rule: an expired token is told apart from an unknown one"
    assert not store.is_expired(binding.access_token, "Q") and not store.is_expired("unknown", "P")


def test_rule_a_refresh_gives_a_new_access_token_and_keeps_the_refresh_token(store):
    old = store.issue_binding("P", PHONE, ["CASHIER"])
    new = store.refresh_binding(old.refresh_token, "P")
    assert new.access_token != old.access_token and new.refresh_token == old.refresh_token
    assert (new.phone, new.scopes, new.public_user_id, new.refresh_expires) == (
        old.phone, old.scopes, old.public_user_id, old.refresh_expires)
    assert store.find_binding(new.access_token, "P") is new
    assert store.refresh_binding(old.refresh_token, "Q") is None, "rule: only its merchant refreshes"
    assert store.refresh_binding("unknown", "P") is None
    store.revoke(new)
    assert store.refresh_binding(old.refresh_token, "P") is None, "rule: a revoked binding does not refresh"


def test_rule_a_refresh_token_is_dead_the_moment_its_lifetime_ends(store):
    binding = store.issue_binding("P", PHONE, [])
    store.clock.advance(TOKEN_TTL.total_seconds(), "P")
    assert store.refresh_binding(binding.refresh_token, "P") is None


def test_rule_unbinding_revokes_every_token_of_that_binding_and_no_other(store):
    first = store.issue_binding("P", PHONE, [])
    refreshed = store.refresh_binding(first.refresh_token, "P")
    other = store.issue_binding("P", PHONE, [])
    store.revoke(refreshed)
    assert store.find_binding(first.access_token, "P") is None and store.find_binding(refreshed.access_token, "P") is None
    assert not store.is_expired(first.access_token, "P"), "rule: a revoked token is not 'expired'"
    assert store.find_binding(other.access_token, "P") is other, "rule: another binding of the user survives"


def test_rule_an_ott_is_single_use_for_its_merchant_within_its_lifetime(store):
    ott = store.issue_ott("P", "+62 838-1122-3355")
    assert store.redeem_ott(ott, "Q") is None and not store.otts[ott].used, \
        "rule: another merchant's OTT is neither valid nor used up"
    assert store.redeem_ott(ott, "P").phone == PHONE
    assert store.redeem_ott(ott, "P") is None, "rule: an OTT is used once"
    assert store.redeem_ott("", "P") is None and store.redeem_ott(None, "P") is None
    late = store.issue_ott("P", PHONE)
    store.clock.advance(OTT_TTL.total_seconds(), "P")
    assert store.redeem_ott(late, "P") is None, "rule: at its expiry an OTT is dead"


# -- orders, payments, refunds ------------------------------------------------------------------------

def test_rule_an_order_is_created_once_per_merchant_and_partner_reference(store):
    first, created = store.put_order(order(store))
    assert created and store.get_order(first.reference_no) is first and store.find_order("M", "ref-1") is first
    again, created = store.put_order(order(store))
    assert again is first and not created, "rule: the same request returns the same order"
    with pytest.raises(InconsistentRequest):
        store.put_order(order(store, fingerprint="other body"))
    elsewhere, created = store.put_order(order(store, merchant="N"))
    assert created and elsewhere is not first, "rule: the key is per merchant"
    assert store.find_order_any("ref-1") is elsewhere, "rule: the admin lookup finds the latest"
    assert store.find_order_any("nope") is None and store.find_order("M", None) is None
    assert store.get_order(None) is None


def test_rule_an_order_closes_at_its_expiry_and_only_while_open(store):
    short, _ = store.put_order(order(store, "short", minutes=1))
    paid, _ = store.put_order(order(store, "paid", minutes=1))
    store.pay(paid.reference_no, PHONE)
    longer, _ = store.put_order(order(store, "longer", minutes=2))
    assert store.next_expiry() == short.expires_at
    assert store.is_payable(short)
    store.clock.advance(60, "P")
    closed = store.close_expired()
    assert closed == [short] and short.status == OrderStatus.CLOSED and short.closed_at is not None, \
        "rule: an open order closes exactly at its expiry"
    assert paid.status == OrderStatus.SUCCESS, "rule: a paid order never closes"
    assert longer.status == OrderStatus.INIT and store.is_payable(longer)
    assert not store.is_payable(short)
    assert store.next_expiry() == store.clock.to_real(longer.expires_at, "P"), "rule: the next expiry, in real time"


def test_rule_an_order_is_payable_until_just_before_its_expiry(store):
    o, _ = store.put_order(order(store, minutes=1))
    store.clock.advance(59.9, "P")
    assert store.is_payable(o)
    store.clock.advance(0.1, "P")
    assert not store.is_payable(o), "rule: at its expiry an order is no longer payable"
    with pytest.raises(OrderNotPayable, match="expired"):
        store.pay(o.reference_no, PHONE)


def test_rule_a_payment_takes_the_amount_from_the_payers_balance(store):
    o, _ = store.put_order(order(store, amount="30.00"))
    paid = store.pay(o.reference_no, "+62 838-1122-3355")
    assert (paid.status, paid.payer_phone) == (OrderStatus.SUCCESS, PHONE) and paid.paid_at is not None
    assert store.balance_of(PHONE) == Decimal("70.00"), "rule: the payer pays the order's amount"
    with pytest.raises(OrderNotPayable, match="already paid"):
        store.pay(o.reference_no, PHONE)


def test_rule_a_payment_needs_a_known_account_with_enough_balance(store):
    o, _ = store.put_order(order(store, amount="5.01"))
    with pytest.raises(OrderNotPayable, match="insufficient"):
        store.pay(o.reference_no, OTHER_PHONE)
    assert store.balance_of(OTHER_PHONE) == Decimal("5.00") and o.status == OrderStatus.INIT
    with pytest.raises(OrderNotPayable, match="unknown DANA account"):
        store.pay(o.reference_no, "0899999999")
    with pytest.raises(OrderNotPayable, match="unknown DANA account"):
        store.pay(o.reference_no, None)
    exact, _ = store.put_order(order(store, "exact", amount="5.00"))
    store.pay(exact.reference_no, OTHER_PHONE)
    assert store.balance_of(OTHER_PHONE) == Decimal("0.00"), "rule: exactly the balance is enough"


def test_rule_a_virtual_account_transfer_pays_without_touching_any_balance(store):
    o, _ = store.put_order(order(store, amount="30.00", payment_code="8808123"))
    assert store.orders_by_payment_code["8808123"] is o
    paid = store.pay(o.reference_no, None)
    assert paid.status == OrderStatus.SUCCESS and paid.payer_phone is None
    assert store.balance_of(PHONE) == Decimal("100.00")


def test_rule_a_cancelled_order_is_not_payable(store):
    o, _ = store.put_order(order(store))
    o.status = OrderStatus.CANCELLED
    with pytest.raises(OrderNotPayable, match="cancelled"):
        store.pay(o.reference_no, PHONE)
    with pytest.raises(OrderNotPayable, match="unknown order"):
        store.pay("nope", PHONE)


def test_rule_a_refund_gives_the_money_back_to_the_payer_and_is_counted_on_the_order(store):
    o, _ = store.put_order(order(store, amount="30.00"))
    store.pay(o.reference_no, PHONE)
    refund = store.put_refund("M", "rf-1", o, Decimal("10"), "IDR", "fp")
    assert store.refunds[("M", "rf-1")] is refund and refund.amount_value == "10.00" and refund.order is o
    assert o.refunded == Decimal("10") and store.balance_of(PHONE) == Decimal("80.00")
    store.put_refund("M", "rf-2", o, Decimal("5"), "IDR", "fp")
    assert o.refunded == Decimal("15") and store.balance_of(PHONE) == Decimal("85.00")


def test_rule_a_top_up_adds_to_the_balance(store):
    assert store.top_up("+62 838-1122-3355", Decimal("1.50")) == Decimal("101.50")
    assert store.top_up("0899999999", Decimal("2")) == Decimal("2") and store.balance_of("0899999999") == 2


def test_rule_a_users_history_holds_their_payments_and_refunds_with_that_merchant_only(store):
    mine, _ = store.put_order(order(store, "mine", amount="10.00"))
    theirs, _ = store.put_order(order(store, "theirs", amount="1.00"))
    store.pay(mine.reference_no, PHONE)
    store.pay(theirs.reference_no, OTHER_PHONE)
    refund = store.put_refund("M", "rf", mine, Decimal("1"), "IDR", "fp")
    assert store.history("P", "+62 838-1122-3355") == [("PAYMENT", mine), ("REFUND", refund)]
    assert store.history("Q", PHONE) == [], "rule: another merchant sees none of it"
    assert store.history("P", OTHER_PHONE) == [("PAYMENT", theirs)]


def test_rule_a_refresh_token_refreshes_again_and_unbinding_the_newest_stops_it(store):
    first = store.issue_binding("P", PHONE, [])
    second = store.refresh_binding(first.refresh_token, "P")
    third = store.refresh_binding(first.refresh_token, "P")
    assert third is not None and third.access_token not in (first.access_token, second.access_token), \
        "rule: a live refresh token refreshes as often as needed, each time a new access token"
    store.revoke(third)
    assert store.refresh_binding(first.refresh_token, "P") is None, \
        "rule: unbinding the latest binding of a refresh token stops that refresh token"


def test_rule_a_phone_never_topped_up_has_a_zero_balance(store):
    assert store.balance_of("081299999999") == Decimal("0.00"), "rule: an unknown account holds nothing"


@pytest.mark.parametrize("cap, make", [
    ("OTTS", lambda s: s.issue_ott("P", PHONE)),
    ("TOKENS", lambda s: s.issue_binding("P", PHONE, []).access_token),
    ("AUTH_CODES", lambda s: s.issue_auth_code("P", PHONE, [], "https://m.example/cb", "st")),
], ids=["otts", "tokens", "auth-codes"])
def test_rule_past_its_cap_a_store_forgets_its_oldest_secrets_and_keeps_working(monkeypatch, cap, make):
    from conformance.sandbox import bounds
    monkeypatch.setattr(bounds, cap, 3)
    store = Store(Clock())
    made = [make(store) for _ in range(5)]
    assert len(set(made)) == 5, "rule: past the cap the store still issues (the oldest are forgotten, no error)"
