"""Every store that grows with requests keeps at most its cap (conformance/sandbox/bounds.py, docs/sandbox.md
"Memory bounds"): the traffic journal by entries and by bytes, orders (with their expiry heap), and the
Finish Notify deliveries. Caps are lowered here so a few hundred requests reach them; bench/soak.py measures
the real ones against a `dana-uat sandbox` process."""

from __future__ import annotations

import json

import pytest

from conformance.sandbox import bounds, journal, notifier
from conformance.sandbox.bounds import BoundedDict
from conformance.sandbox.server import SandboxServer
from conformance.snap import generate_private_key, public_key_pem
from conformance.snap.apis import APIS
from tests.sandbox.conftest import HTTP, MERCHANT_ID, PARTNER_ID, Raw, payment_body, snap

PAYMENT = APIS["widget_payment"].path


def test_a_bounded_dict_forgets_its_oldest_keys_first():
    d = BoundedDict(3)
    for key in "abcde":
        d[key] = key.upper()
    d["c"] = "again"                          # a rewrite keeps the key's place
    assert list(d.items()) == [("c", "again"), ("d", "D"), ("e", "E")]


@pytest.fixture
def small(monkeypatch):
    """The caps a few hundred requests reach; set before the sandbox builds its stores."""
    monkeypatch.setattr(bounds, "ORDERS", 40)
    monkeypatch.setattr(notifier, "DELIVERIES", 3)
    monkeypatch.setattr(journal, "MAX_ENTRIES", 60)
    monkeypatch.setattr(journal, "MAX_BYTES", 256 * 1024)
    key = generate_private_key()
    with SandboxServer() as server:
        server.register_merchant(PARTNER_ID, MERCHANT_ID, public_key_pem(key))
        yield server, Raw(server.base_url, key)


def test_the_journal_keeps_its_newest_entries_within_its_count_and_byte_caps(small):
    server, raw = small
    for i in range(100):                      # small bodies: the count cap binds
        HTTP.post(raw.base_url + PAYMENT, content=b'{"n": %d}' % i, headers={"X-PARTNER-ID": PARTNER_ID})
    kept = raw.admin("GET", "/traffic").json()
    assert kept["last"] == 100 and [e["seq"] for e in kept["entries"]] == list(range(41, 101))
    big = json.dumps({"pad": "x" * 8000}).encode()
    for _ in range(40):                       # 8 KB bodies: the byte cap binds first
        HTTP.post(raw.base_url + PAYMENT, content=big, headers={"X-PARTNER-ID": PARTNER_ID})
    kept = raw.admin("GET", "/traffic").json()
    sizes = [len(json.dumps(e)) for e in kept["entries"]]
    assert kept["last"] == 140 and kept["entries"][-1]["seq"] == 140          # the newest is always kept
    assert len(kept["entries"]) < 40 and sum(sizes) <= 256 * 1024 * 1.05      # within the cap (JSON spacing aside)
    assert server.sandbox.journal._bytes <= 256 * 1024


def test_orders_beyond_the_cap_forget_the_oldest_and_their_expiries(small):
    server, raw = small
    refs = []
    for _ in range(90):                       # more than twice the cap: the expiry heap is pruned too
        body = payment_body()
        assert snap(raw.post("widget_payment", body))[:2] == (200, "2005400")
        refs.append(body["partnerReferenceNo"])
    store = server.sandbox.store
    assert len(store.orders) == len(store.orders_by_partner_ref) == 40
    heap = store._expiries[PARTNER_ID]        # one expiry heap per merchant (its own clock)
    assert len(heap) <= 2 * 40
    assert raw.admin("GET", f"/orders/{refs[0]}").status_code == 404           # the oldest: forgotten
    newest = raw.admin("GET", f"/orders/{refs[-1]}")
    assert newest.status_code == 200 and newest.json()["status"] == "INIT"
    assert {e[2] for e in heap} >= set(store.orders)                            # every kept order still expires


def test_finish_notify_deliveries_keep_the_newest(small):
    server, raw = small
    refs = []
    for _ in range(5):                        # paid orders whose NOTIFICATION url refuses connections
        body = payment_body(notify_url="http://127.0.0.1:9/notify")
        assert snap(raw.post("widget_payment", body))[:2] == (200, "2005400")
        assert raw.admin("POST", f"/orders/{body['partnerReferenceNo']}/pay", {}).status_code == 200
        refs.append(body["partnerReferenceNo"])
    listed = raw.admin("GET", "/notifications").json()
    assert [d["orderPartnerReferenceNo"] for d in listed] == refs[-3:]


def test_an_order_the_cap_drops_leaves_the_state_file_too(monkeypatch, tmp_path):
    from conformance.sandbox.statefile import StateFile

    monkeypatch.setattr(bounds, "ORDERS", 10)
    key, state = generate_private_key(), tmp_path / "state.db"
    with SandboxServer(state=StateFile(state)) as server:
        server.register_merchant(PARTNER_ID, MERCHANT_ID, public_key_pem(key))
        raw = Raw(server.base_url, key)
        refs = []
        for _ in range(15):
            body = payment_body()
            assert snap(raw.post("widget_payment", body))[:2] == (200, "2005400")
            refs.append(body["partnerReferenceNo"])
    with SandboxServer(state=StateFile(state)) as server:
        assert server.sandbox.restored["orders"] == 10                   # the file holds the newest ten
        raw = Raw(server.base_url, key)
        assert raw.admin("GET", f"/orders/{refs[4]}").status_code == 404
        assert raw.admin("GET", f"/orders/{refs[5]}").status_code == 200
