"""A clock per merchant (issue 26, part 3): moving one merchant's clock expires that merchant's codes, OTTs
and orders and nobody else's. Two merchants on one sandbox, over loopback HTTP, through the official SDK."""

from __future__ import annotations

import httpx
import pytest

from conformance.sandbox.server import SandboxServer
from conformance.snap import generate_private_key, public_key_pem
from tests.sandbox import sdk
from conformance.snap.timestamps import parse_timestamp
from tests.sandbox.conftest import HTTP, Raw, payment_body

PHONE = "083811223355"
MERCHANTS = {"A": ("2025112100000000000261", "216620000000000000261"),
             "B": ("2025112100000000000262", "216620000000000000262"),
             "C": ("2025112100000000000263", "216620000000000000263")}


@pytest.fixture(scope="module")
def team_sandbox():
    with SandboxServer() as server:
        yield server


class Merchant:
    def __init__(self, server: SandboxServer, name: str):
        self.partner_id, self.merchant_id = MERCHANTS[name]
        self.base = server.base_url
        key = generate_private_key()
        server.register_merchant(self.partner_id, self.merchant_id, public_key_pem(key))
        self.api = sdk.widget_api(self.base, key, self.partner_id)
        self.raw = Raw(self.base, key, self.partner_id, self.merchant_id)

    def admin(self, method: str, path: str, **kw) -> httpx.Response:
        return HTTP.request(method, f"{self.base}/sandbox-admin{path}", timeout=10, **kw)

    def auth_code(self) -> str:
        return self.admin("POST", "/auth-codes", json={"partnerId": self.partner_id, "phone": PHONE}).json()["authCode"]

    def ott(self) -> str:
        token = self.api.apply_token(sdk.auth_code_request(self.auth_code())).access_token
        return self.api.apply_ott(sdk.ott_request(token)).user_resources[0].value

    def order(self, minutes: int) -> tuple[str, str]:
        body = payment_body(minutes=minutes) | {"merchantId": self.merchant_id}
        answer = self.api.widget_payment(sdk.payment_request(body))
        assert answer.response_code == "2005400"
        return body["partnerReferenceNo"], answer.reference_no

    def checkout(self, reference_no: str, ott: str) -> httpx.Response:
        return HTTP.get(f"{self.base}/n/cashier/new/checkout", params={"bizNo": reference_no, "ott": ott},
                        timeout=10)

    def clock(self) -> dict:
        return self.admin("GET", "/clock", params={"partnerId": self.partner_id}).json()


def test_moving_one_merchants_clock_leaves_the_others_codes_otts_and_orders(team_sandbox):
    a, b = Merchant(team_sandbox, "A"), Merchant(team_sandbox, "B")
    otts = {m: m.ott() for m in (a, b)}
    codes = {m: m.auth_code() for m in (a, b)}
    short = {m: m.order(minutes=5) for m in (a, b)}         # closes 5 minutes on, on its own merchant's clock
    long = {m: m.order(minutes=15) for m in (a, b)}

    moved = a.admin("POST", "/clock", json={"partnerId": a.partner_id, "advanceSeconds": 601})
    assert moved.status_code == 200 and moved.json()["offsetSeconds"] == 601
    assert (a.clock()["offsetSeconds"], b.clock()["offsetSeconds"]) == (601, 0)

    # the OTT: A's is past its 10 minutes (login asked for), B's still logs in
    on_a = a.checkout(long[a][1], otts[a])
    assert on_a.status_code == 200 and "tidak berlaku" in on_a.text
    on_b = b.checkout(long[b][1], otts[b])
    assert on_b.status_code == 303 and on_b.headers["location"].startswith("/n/cashier/new/pay?")
    # the auth code: A's expired, B's exchanges
    assert sdk.error(lambda: a.api.apply_token(sdk.auth_code_request(codes[a])))[1].startswith("401")
    assert b.api.apply_token(sdk.auth_code_request(codes[b])).response_code == "2007400"
    # the orders: A's 5-minute order closed at the move (notify 05), B's is still open
    status = {m: m.admin("GET", f"/orders/{short[m][0]}").json()["status"] for m in (a, b)}
    assert status == {a: "CLOSED", b: "INIT"}
    # each merchant's answers are stamped on its own clock (X-TIMESTAMP tells a client its merchant's time)
    stamps = {}
    for m in (a, b):
        answer = m.raw.post("widget_payment", payment_body() | {"merchantId": m.merchant_id})
        assert answer.json()["responseCode"] == "2005400"
        stamps[m] = parse_timestamp(answer.headers["x-timestamp"])
    assert 590 <= (stamps[a] - stamps[b]).total_seconds() <= 612


@pytest.mark.parametrize("body, status, error", [
    ({"advanceSeconds": 60}, 400, "partnerId"),
    ({"advanceSeconds": 60, "partnerId": "2025112199999999999999"}, 404, "not registered"),
])
def test_a_clock_move_names_a_registered_merchant(team_sandbox, body, status, error):
    answer = HTTP.post(f"{team_sandbox.base_url}/sandbox-admin/clock", json=body, timeout=10)
    assert answer.status_code == status and error in answer.json()["error"]


def test_the_sandbox_clock_lists_every_moved_merchant(team_sandbox):
    c = Merchant(team_sandbox, "C")
    c.admin("POST", "/clock", json={"partnerId": c.partner_id, "advanceSeconds": 30})
    Merchant(team_sandbox, "C")                  # registering the merchant again keeps its clock
    seen = HTTP.get(f"{team_sandbox.base_url}/sandbox-admin/clock", timeout=10).json()
    assert seen["offsetSeconds"] == 0 and seen["merchants"][c.partner_id] == 30 == c.clock()["offsetSeconds"]
