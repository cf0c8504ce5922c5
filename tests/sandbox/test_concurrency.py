"""State under concurrent requests: one auth code is consumed once; replayed payments never duplicate."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.sandbox.conftest import PARTNER_ID, payment_body

PAYMENT_PATH = "/rest/redirection/v1.0/debit/payment-host-to-host"


def test_fifty_apply_tokens_with_one_code_give_one_success(raw):
    code = raw.admin("POST", "/auth-codes", {"partnerId": PARTNER_ID}).json()["authCode"]
    body = json.dumps({"grantType": "AUTHORIZATION_CODE", "authCode": code, "refreshToken": "",
                       "additionalInfo": {}}).encode()
    requests = [raw.headers("apply_token", body) for _ in range(50)]
    start = threading.Barrier(50)

    def fire(headers):
        with httpx.Client(trust_env=False, timeout=30) as client:
            start.wait(timeout=30)
            return client.post(raw.base_url + "/v1.0/access-token/b2b2c.htm", content=body,
                               headers=headers).json()
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(fire, requests))
    codes = sorted(a["responseCode"] for a in answers)
    assert codes.count("2007400") == 1
    assert codes.count("4017400") == 49
    assert {a["responseMessage"] for a in answers if a["responseCode"] == "4017400"} == {
        "Unauthorized. Auth Code Used"}


def test_eight_clients_replaying_payments_create_each_order_once(raw, sandbox_server):
    """8 clients x 200 payments over 100 distinct references: every reference is sent 16 times."""
    refs = [f"conc-{uuid.uuid4()}" for _ in range(100)]
    bodies = {ref: json.dumps(payment_body("1.00", ref)).encode() for ref in refs}

    def client(index: int) -> list[dict]:
        answers = []
        with httpx.Client(trust_env=False, timeout=30) as http:
            for n in range(200):
                ref = refs[(n + index * 13) % len(refs)]
                data = bodies[ref]
                answers.append(http.post(raw.base_url + PAYMENT_PATH, content=data,
                                         headers=raw.headers("widget_payment", data)).json())
        return answers

    with ThreadPoolExecutor(8) as pool:
        answers = [a for batch in pool.map(client, range(8)) for a in batch]
    assert len(answers) == 1600
    assert {a["responseCode"] for a in answers} == {"2005400"}
    by_ref: dict[str, set[str]] = {}
    for answer in answers:
        by_ref.setdefault(answer["partnerReferenceNo"], set()).add(answer["referenceNo"])
    assert set(by_ref) == set(refs)                                    # no lost order
    assert all(len(numbers) == 1 for numbers in by_ref.values())      # no duplicate order
    store = sandbox_server.sandbox.store
    created = [o for o in store.orders.values() if o.partner_reference_no in by_ref]
    assert len(created) == len(refs)
