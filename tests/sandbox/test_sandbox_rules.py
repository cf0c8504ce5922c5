"""The sandbox's state and magic-value rules, one focused test each, over real loopback HTTP.

Each test is named after the rule it guards and asserts DANA's answer (HTTP status and responseCode), not the
message wording, so the rule is what fails when it breaks.
"""

from __future__ import annotations

import uuid

import pytest

from conformance.sandbox.rules import Outcome, Rules
from tests.sandbox.conftest import MERCHANT_ID, payment_body, snap


def status_code(response) -> tuple[int, str]:
    return snap(response)[:2]


def paid_order(raw, amount: str = "100.00") -> dict:
    body = payment_body(amount)
    assert status_code(raw.post("widget_payment", body)) == (200, "2005400")
    paid = raw.admin("POST", f"/orders/{body['partnerReferenceNo']}/pay", {"phone": "083811223355"})
    assert paid.json()["status"] == "SUCCESS", paid.text
    return body


def refund(raw, order: dict, value: str, refund_no: str | None = None):
    return raw.post("refund_order", {
        "merchantId": MERCHANT_ID, "originalPartnerReferenceNo": order["partnerReferenceNo"],
        "partnerRefundNo": refund_no or str(uuid.uuid4()), "refundAmount": {"value": value, "currency": "IDR"},
        "additionalInfo": {}})


# -- refunds ------------------------------------------------------------------------------------------

def test_rule_partial_refunds_together_never_exceed_the_paid_amount(raw):
    order = paid_order(raw, "100.00")
    assert status_code(refund(raw, order, "60.00")) == (200, "2005800")
    assert status_code(refund(raw, order, "50.00")) == (403, "4035802"), \
        "rule: the refunds of an order together stay within its paid amount"
    assert status_code(refund(raw, order, "40.00")) == (200, "2005800"), "rule: up to the paid amount is allowed"
    assert status_code(refund(raw, order, "0.01")) == (403, "4035802"), "rule: nothing is left to refund"


def test_rule_one_refund_above_the_paid_amount_is_refused(raw):
    order = paid_order(raw, "100.00")
    assert status_code(refund(raw, order, "100.01")) == (403, "4035802")
    assert status_code(refund(raw, order, "100.00")) == (200, "2005800"), "rule: the whole amount may be refunded"


def test_rule_a_refund_of_zero_is_refused(raw):
    assert status_code(refund(raw, paid_order(raw), "0.00")) == (403, "4035802"), "rule: a refund moves money"


def test_rule_a_refund_retried_with_its_partner_refund_no_is_not_counted_twice(raw):
    order = paid_order(raw, "100.00")
    first = refund(raw, order, "60.00", refund_no="r-" + order["partnerReferenceNo"])
    again = refund(raw, order, "60.00", refund_no="r-" + order["partnerReferenceNo"])
    assert status_code(first) == status_code(again) == (200, "2005800")
    assert first.json()["refundNo"] == again.json()["refundNo"], "rule: idempotent on partnerRefundNo"
    assert status_code(refund(raw, order, "40.00")) == (200, "2005800"), "rule: a retried refund is counted once"


def test_rule_a_refund_retried_with_another_amount_is_inconsistent(raw):
    order = paid_order(raw)
    assert status_code(refund(raw, order, "1.00", refund_no="r-" + order["partnerReferenceNo"])) == (200, "2005800")
    assert status_code(refund(raw, order, "2.00", refund_no="r-" + order["partnerReferenceNo"])) == (404, "4045818")


def test_rule_only_a_paid_order_is_refunded(raw):
    unpaid = payment_body("100.00")
    assert status_code(raw.post("widget_payment", unpaid)) == (200, "2005400")
    assert status_code(refund(raw, unpaid, "1.00")) == (404, "4045800"), "rule: an unpaid order has nothing to refund"


def test_rule_a_refunded_order_can_no_longer_be_cancelled(raw):
    order = paid_order(raw)
    assert status_code(refund(raw, order, "1.00")) == (200, "2005800")
    cancel = {"merchantId": MERCHANT_ID, "originalPartnerReferenceNo": order["partnerReferenceNo"],
              "reason": "test", "additionalInfo": {}}
    assert status_code(raw.post("cancel_order", cancel)) == (404, "4045700")


# -- magic values -------------------------------------------------------------------------------------

def test_rule_a_magic_value_in_a_fixtures_second_field_triggers_its_error(raw):
    """DANA's Java fixture puts cancel's magic value in originalReferenceNo, the table's second field."""
    body = {"merchantId": MERCHANT_ID, "originalPartnerReferenceNo": str(uuid.uuid4()),
            "originalReferenceNo": "5005701", "reason": "test", "additionalInfo": {}}
    assert status_code(raw.post("cancel_order", body)) == (500, "5005701"), \
        "rule: every field the magic table lists is looked at, not only the first"


TABLE = {"apis": {"cancel_order": {
    "originalPartnerReferenceNo": {"4035700": {"code": "4035700"}},
    "originalReferenceNo": {"5005701": {"code": "5005701", "message": "Timeout"}},
    "nested.field": {"x": "4045701"}}}}


def test_rule_match_looks_at_every_listed_field_in_table_order():
    rules = Rules(TABLE)
    assert rules.match("cancel_order", {"originalPartnerReferenceNo": "p", "originalReferenceNo": "5005701"}) \
        == Outcome("5005701", "Timeout"), "rule: a magic value in the second field matches"
    assert rules.match("cancel_order", {"nested": {"field": "x"}}).code == "4045701", \
        "rule: a dotted path reaches a nested field"
    both = {"originalPartnerReferenceNo": "4035700", "originalReferenceNo": "5005701"}
    assert rules.match("cancel_order", both).code == "4035700", "rule: the table's order decides"
    assert rules.match("cancel_order", {"originalReferenceNo": 5005701}) is None, "rule: only strings match"
    assert rules.match("cancel_order", {"nested": "x"}) is None
    assert rules.match("refund_order", both) is None, "rule: a value is magic only for its own API"


def test_rule_an_unknown_code_or_effect_in_the_table_fails_at_start_up():
    with pytest.raises(ValueError, match="9999999"):
        Rules({"apis": {"cancel_order": {"originalReferenceNo": {"x": "9999999"}}}})
    with pytest.raises(ValueError, match="explode"):
        Rules({"apis": {"cancel_order": {"originalReferenceNo": {"x": {"effect": "explode"}}}}})


def test_rule_a_magic_outcome_keeps_the_codes_status_and_overrides_only_the_message():
    plain, worded = Outcome("5005701").response(), Outcome("5005701", "Timeout").response()
    assert (worded.code, worded.http_status) == (plain.code, plain.http_status) == ("5005701", 500)
    assert worded.message == "Timeout"
    fields = ("code", "http_status", "service", "case", "meaning", "hint")
    assert [getattr(worded, f) for f in fields] == [getattr(plain, f) for f in fields], \
        "rule: a magic message overrides the words only, never the code's meaning"
    with pytest.raises(ValueError):
        Outcome(None).response()


def test_rule_a_role_outcome_applies_to_its_role_and_api_only():
    rules = Rules({"roles": {"frozen": {"apply_ott": "4034905"}}})
    assert rules.role_outcome("frozen", "apply_ott").code == "4034905"
    assert rules.role_outcome("frozen", "balance_inquiry") is None
    assert rules.role_outcome("normal", "apply_ott") is None
    assert rules.table() == [{"api": "apply_ott", "field": "customer token of role", "value": "frozen",
                              "code": "4034905", "effect": "none", "note": ""}], "rule: a role is a documented row"


def test_rule_the_shipped_table_lists_every_value_once_as_a_row():
    rules = Rules.load()
    rows = rules.table()
    assert len(rows) == sum(1 for _ in rules.all_outcomes()), "rule: every outcome is one documented row"
    assert {"api": "cancel_order", "field": "originalReferenceNo", "value": "5005701"}.items() <= \
        next(r for r in rows if r["field"] == "originalReferenceNo" and r["api"] == "cancel_order").items()


def test_rule_the_dana_twin_drops_the_embedded_sandboxs_own_triggers(tmp_path):
    table = tmp_path / "magic.yaml"
    table.write_text("""\
apis:
  cancel_order:
    originalReferenceNo:
      "5005701": {code: "5005701"}
      "4045701": {code: "4045701", embedded_only: true}
users:
  - {phone: "0811", pin: "1", name: a}
  - {phone: "0812", pin: "2", name: b, embedded_only: true}
roles:
  frozen: {apply_ott: "4034905", balance_inquiry: {code: "4031105", embedded_only: true}}
""")
    embedded, twin = Rules.load(table), Rules.load(table, as_dana=True)
    assert set(embedded.apis["cancel_order"]["originalReferenceNo"]) == {"5005701", "4045701"}
    assert set(twin.apis["cancel_order"]["originalReferenceNo"]) == {"5005701"}, \
        "rule: as DANA, a trigger marked embedded_only does not exist"
    assert [u["phone"] for u in twin.users] == ["0811"] and len(embedded.users) == 2
    assert twin.role_outcome("frozen", "apply_ott").code == "4034905"
    assert twin.role_outcome("frozen", "balance_inquiry") is None
    assert embedded.role_outcome("frozen", "balance_inquiry").code == "4031105"
