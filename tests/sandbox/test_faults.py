"""The sandbox's fault injector (conformance/sandbox/faults.py) over real loopback HTTP: every kind of fault does
what its row says, to the requests it matches, as many times as it says, and is recorded."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from conformance.sandbox.faults import FaultPlanError, load_plan
from conformance.sandbox.server import SandboxServer
from conformance.snap import generate_private_key, public_key_pem
from tests.sandbox.conftest import MERCHANT_ID, PARTNER_ID, Raw, payment_body

ROOT = Path(__file__).resolve().parents[2]
PAY = "/rest/redirection/v1.0/debit/payment-host-to-host"
CHECKOUT = "/n/cashier/new/checkout"


@pytest.fixture
def faulted(request):
    """A sandbox with the test's ``plan`` (indirect parameter) and a registered merchant; (server, Raw)."""
    key = generate_private_key()
    with SandboxServer(faults=request.param) as server:
        server.register_merchant(PARTNER_ID, MERCHANT_ID, public_key_pem(key))
        yield server, Raw(server.base_url, key)


def plan(*rows):
    return pytest.mark.parametrize("faulted", [list(rows)], indirect=True, ids=["plan"])


@plan(*[{"match": "api", "kind": "retry_after", "seconds": 1},
                   {"match": "api", "kind": "status", "status": 503, "first": 2}])
def test_a_429_then_a_503_burst_per_path_then_the_real_answer(faulted):
    server, raw = faulted
    answers = [raw.post("widget_payment", payment_body()) for _ in range(4)]
    assert [a.status_code for a in answers] == [429, 503, 503, 200]
    assert answers[0].headers["retry-after"] == "1"
    assert answers[0].json()["responseCode"] == "4295400"         # a SNAP body where SNAP has the case
    assert answers[1].text == "Service Unavailable"              # a gateway's plain answer where it has none
    other = raw.post("query_payment", {"originalPartnerReferenceNo": "x", "serviceCode": "54",
                                       "merchantId": MERCHANT_ID})
    assert other.status_code == 429                               # counted per path: another API starts afresh
    kinds = [(e["path"], e["kind"], e.get("status")) for e in server.faults.injected()]
    assert kinds == [(PAY, "retry_after", 429), (PAY, "status", 503), (PAY, "status", 503),
                     ("/rest/v1.1/debit/status", "retry_after", 429)]
    assert all(e["method"] == "POST" and e["at"] for e in server.faults.injected())


@plan(*[{"match": "api", "kind": "latency", "ms": 150}, {"match": "page", "kind": "latency", "ms": 300}])
def test_latency_delays_every_matching_request_and_is_recorded(faulted):
    server, raw = faulted
    started = time.perf_counter()
    assert raw.post("widget_payment", payment_body()).status_code == 200
    api_s = time.perf_counter() - started
    assert httpx.get(server.base_url + "/sandbox-admin/info").status_code == 200     # admin: never in a group
    assert api_s >= 0.15                            # a lower bound: the delay was served, however slow the machine
    assert [(e["kind"], e["ms"]) for e in server.faults.injected()] == [("latency", 150)]


@plan(*[{"match": PAY, "kind": "reset"}])
def test_a_reset_sends_part_of_the_answer_then_drops_the_connection_after_the_order_was_made(faulted):
    server, raw = faulted
    body = payment_body()
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete|complete message body"):
        raw.post("widget_payment", body)
    (reset,) = server.faults.injected("reset")
    assert reset["path"] == PAY and 0 < reset["sentBytes"] < reset["ofBytes"]
    order = raw.admin("GET", f"/orders/{body['partnerReferenceNo']}")
    assert order.status_code == 200 and order.json()["status"] == "INIT"     # DANA made the order all the same
    assert raw.post("widget_payment", payment_body()).status_code == 200      # first: 1, per path


@plan(*[{"match": "page", "kind": "stall", "seconds": 30}])
def test_a_stalled_page_starts_and_never_finishes_until_the_server_stops(faulted):
    server, _ = faulted
    seen: dict = {}

    def load() -> None:
        try:
            with httpx.stream("GET", server.base_url + CHECKOUT + "?bizNo=1", timeout=60) as response:
                seen["status"] = response.status_code
                response.read()
        except httpx.HTTPError as exc:
            seen["error"] = type(exc).__name__

    reader = threading.Thread(target=load)
    reader.start()
    deadline = time.monotonic() + 10
    while not server.faults.injected("stall") and time.monotonic() < deadline:
        time.sleep(0.02)           # polling the record: the stall has no event a client could wait on
    reader.join(0.5)
    assert reader.is_alive() and seen.get("status") == 404   # the page's headers came; its body never ends
    started = time.perf_counter()
    server.stop()
    reader.join(10)
    assert not reader.is_alive() and seen["error"] == "RemoteProtocolError"
    assert time.perf_counter() - started < 5                  # the server's stop ends the stall, not its bound


@plan(*[{"match": "/sandbox-admin/info", "kind": "reset", "method": "GET"}])
def test_a_path_prefix_row_matches_any_path_even_the_admin_api(faulted):
    server, _ = faulted
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(server.base_url + "/sandbox-admin/info")
    assert httpx.get(server.base_url + "/sandbox-admin/info").status_code == 200
    assert httpx.get(server.base_url + "/sandbox-admin/faults").json()["injected"][0]["kind"] == "reset"


@pytest.mark.parametrize("text, problem", [
    ("faults: [{match: api, kind: explode}]", "faults.0.kind"),
    ("faults: [{match: somewhere, kind: reset}]", "match 'somewhere'"),
    ("faults: [{match: api, kind: latency}]", "a latency row needs ms"),
    ("faults: [{match: api, kind: status, status: 404}]", "faults.0.status"),
    ("faults: [{match: api, kind: reset, extra: 1}]", "faults.0.extra"),
    ("faults: [", "cannot read the fault plan"),
])
def test_a_broken_plan_names_the_file_the_row_and_the_field(tmp_path, text, problem):
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    with pytest.raises(FaultPlanError, match="plan.yaml") as caught:
        load_plan(path)
    assert problem in str(caught.value)


def test_dana_uat_sandbox_refuses_a_broken_plan_with_exit_2(tmp_path):
    (tmp_path / "plan.yaml").write_text("faults: [{match: api, kind: explode}]")
    result = subprocess.run([sys.executable, "-m", "conformance.sandbox", "--faults", str(tmp_path / "plan.yaml")],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--faults" in result.stderr and "faults.0.kind" in result.stderr


def test_a_json_plan_and_the_record_without_faults(tmp_path):
    (tmp_path / "plan.json").write_text('{"faults": [{"match": "page", "kind": "status", "status": 502}]}')
    assert load_plan(tmp_path / "plan.json").faults[0].first == 1          # bursts default to the first request
    with SandboxServer() as plain:
        answer = httpx.get(plain.base_url + "/sandbox-admin/faults")
        assert answer.status_code == 200 and answer.json() == {"plan": [], "injected": []}
