"""`dana-uat run` against a `dana-uat sandbox --faults` URL target (real processes, real loopback, real Chromium):
each injected fault is met as the product promises: retried within its bound with its waits recorded, settled
when it lost an order's answer, or reported as DANA's outage with exit 3; the mandatory run still passes 13 of 13
with one 429 per API path, and with one 5xx on every API path and hosted page."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from conformance.dana import retry

from .test_plugin import pay_file

ROOT = Path(__file__).resolve().parents[2]
PAY_PATH = "/rest/redirection/v1.0/debit/payment-host-to-host"
QUERY_PATH = "/rest/v1.1/debit/status"
CANCEL_PATH = "/v1.0/debit/cancel.htm"
RUN_TIMEOUT = 240


class FaultySandbox:
    """`dana-uat sandbox --faults PLAN` in a process of its own; stopped with SIGTERM."""

    def __init__(self, folder: Path, rows: list[dict]):
        plan = folder / "faults.json"
        plan.write_text(json.dumps({"faults": rows}))
        self.process = subprocess.Popen([sys.executable, "-m", "conformance.sandbox", "--faults", str(plan), "--quiet"],
                                        cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in self.process.stdout], daemon=True).start()
        first = lines.get(timeout=30)
        assert first.startswith("DANA sandbox running at "), first
        self.url = first.split()[-1]

    def injected(self) -> list[dict]:
        return httpx.get(self.url + "/sandbox-admin/faults", trust_env=False).json()["injected"]

    def admin(self, path: str) -> dict | list:
        return httpx.get(self.url + "/sandbox-admin" + path, trust_env=False).json()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)


@pytest.fixture
def faulty(tmp_path):
    started: list[FaultySandbox] = []

    def start(*rows: dict) -> FaultySandbox:
        started.append(FaultySandbox(tmp_path, list(rows)))
        return started[-1]
    yield start
    for sandbox in started:
        sandbox.stop()


def dana_uat_run(folder: Path, target: str, *args: str, retries: int = 2,
                 **settings: str) -> tuple[subprocess.CompletedProcess, dict]:
    """`dana-uat run --target TARGET ARGS` in ``folder`` with retries asked for and a short backoff."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DANA_UAT_", "X_PARTNER", "PRIVATE_KEY"))}
    env |= {"DANA_UAT_RETRIES": str(retries), "DANA_UAT_RETRY_BACKOFF": "0.2", "DANA_UAT_CACHE_DIR":
            os.environ.get("DANA_UAT_CACHE_DIR", str(folder / "cache")), **settings}
    result = subprocess.run([sys.executable, "-m", "conformance.cli", "run", "--target", target, *args], cwd=folder,
                            env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    summary = folder / "reports" / "latest" / "summary.json"
    return result, json.loads(summary.read_text()) if summary.exists() else {}


def evidence(folder: Path, name: str) -> dict:
    return json.loads((folder / "reports" / "latest" / "evidence" / name).read_text())


def pay_scenario(folder: Path) -> Path:
    """An API-only scenario that makes an order (Direct Debit Payment, 200 2005400)."""
    path = folder / "pay.yaml"
    path.write_text(pay_file())
    return path


def test_one_429_per_api_path_is_waited_out_as_retry_after_says_and_the_mandatory_run_passes(tmp_path, faulty):
    sandbox = faulty({"match": "api", "kind": "retry_after", "seconds": 1})
    result, summary = dana_uat_run(tmp_path, sandbox.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "13 passed, 0 failed" in result.stdout and summary["complete"]
    throttled = sandbox.injected()
    assert throttled and {e["kind"] for e in throttled} == {"retry_after"}
    assert len({e["path"] for e in throttled}) == len(throttled)          # one per API path, as planned
    retries = [r for s in summary["scenarios"] for r in s["retries"]]
    assert len(retries) == len(throttled)                                  # each 429 cost exactly one retry
    for record in retries:
        assert record["reason"] == "HTTP 429 where 200 was expected" and record["waitFor"] == "Retry-After: 1"
        assert record["waitS"] == 1 and record["waitedMs"] >= 1000        # the true wait, as long as asked


def test_one_5xx_on_every_api_path_and_page_is_retried_and_the_mandatory_run_passes(tmp_path, faulty):
    sandbox = faulty({"match": "api", "kind": "status", "status": 503},
                     {"match": "page", "kind": "status", "status": 503})
    result, summary = dana_uat_run(tmp_path, sandbox.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "13 passed, 0 failed" in result.stdout and summary["complete"]
    injected = sandbox.injected()
    pages = {e["path"] for e in injected if e["method"] == "GET"}
    assert {"/n/cashier/new/checkout", "/n/cashier/new/login", "/n/cashier/new/pin", "/n/cashier/new/pay",
            "/n/cashier/new/result"} <= pages and PAY_PATH in {e["path"] for e in injected}
    api_faults = [e for e in injected if e["method"] == "POST"]            # one per API path the run called
    api_retries = [r for s in summary["scenarios"] for r in s["retries"]]
    assert api_faults and len(api_retries) == len(api_faults)             # each API 503 cost one retry
    for record in api_retries:
        assert record["reason"] == "HTTP 503 where 200 was expected" and record["waitFor"] == "backoff"
        step = 0.2 * 2 ** (record["attempt"] - 1)                          # backoff 0.2 s, doubled per retry
        assert step / 2 <= record["waitS"] <= step and record["waitedMs"] >= record["waitS"] * 1000 - 1
    events = [e for path in (tmp_path / "reports" / "latest" / "evidence").glob("*.json")
              for e in json.loads(path.read_text())["exchanges"] if e["type"] == "page"]
    failed_loads = [e for e in events if e["action"] == "document" and e["status"] == 503]
    reloads = [e for e in events if e["action"] == "reload"]
    assert len(failed_loads) == len(pages) == len(reloads)                # each page 503 recorded, loaded again
    for reload in reloads:
        assert reload["status"] == 503 and reload["retry"] == 1 and reload["waitedMs"] >= reload["waitS"] * 1000 - 1


def test_a_reset_at_preflight_does_not_stop_the_run(tmp_path, faulty):
    sandbox = faulty({"match": "/sandbox-admin/info", "kind": "reset"})
    result, _ = dana_uat_run(tmp_path, sandbox.url, "--scenarios", str(pay_scenario(tmp_path)), "-k", "pay_ok")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 0 failed" in result.stdout
    (reset,) = sandbox.injected()
    assert reset["kind"] == "reset" and reset["path"] == "/sandbox-admin/info"        # the preflight's first probe


def test_a_payment_whose_answer_was_lost_is_queried_and_cancelled_before_a_new_order(tmp_path, faulty):
    sandbox = faulty({"match": PAY_PATH, "kind": "reset"})
    result, summary = dana_uat_run(tmp_path, sandbox.url, "--scenarios", str(pay_scenario(tmp_path)), "-k", "pay_ok")
    assert result.returncode == 0, result.stdout + result.stderr
    (scenario,) = summary["scenarios"]
    (record,) = scenario["retries"]
    assert record["reason"].startswith("transport error: RemoteProtocolError") and record["waitFor"] == "backoff"
    first = evidence(tmp_path, "pay_ok.attempt-1.json")
    (lost,) = [e for e in first["exchanges"] if e["type"] == "lost-answer"]
    assert lost["action"] == "cancelled" and lost["query"]["latestTransactionStatus"] == "01"
    assert lost["cancel"]["status"] == 200
    calls = [(e["api"], e["response"] and e["response"]["status"]) for e in first["exchanges"] if e["type"] == "http"]
    assert calls == [("widget_payment", None), ("query_payment", 200), ("cancel_order", 200)]
    lost_ref = lost["partnerReferenceNo"]
    assert sandbox.admin(f"/orders/{lost_ref}")["status"] == "CANCELLED"        # no order left open at DANA
    # DANA saw exactly what the run meant to send, in this order: the lost order, its query and cancel, the retry
    traffic = [e["path"] for e in sandbox.admin("/traffic")["entries"]]
    assert traffic == [PAY_PATH, QUERY_PATH, CANCEL_PATH, PAY_PATH]
    final = evidence(tmp_path, "pay_ok.json")
    (payment,) = [e for e in final["exchanges"] if e["type"] == "http"]
    assert payment["request"]["body"]["json"]["partnerReferenceNo"] != lost_ref and payment["response"]["status"] == 200


def test_an_outage_that_outlives_its_retries_is_danas_with_exit_3_never_a_merchant_fail(tmp_path, faulty):
    sandbox = faulty({"match": "api", "kind": "status", "status": 503, "first": 10})
    result, summary = dana_uat_run(tmp_path, sandbox.url, "--scenarios", str(pay_scenario(tmp_path)), "-k", "pay_ok")
    assert result.returncode == retry.EXIT_UNAVAILABLE, result.stdout + result.stderr
    assert "0 passed, 0 failed, 1 DANA unavailable" in result.stdout
    assert "DANA  pay.yaml::pay_ok" in result.stdout and "FAIL " not in result.stdout
    (scenario,) = summary["scenarios"]
    assert scenario["outcome"] == "dana-unavailable" and summary["counts"]["failed"] == 0
    assert scenario["danaUnavailable"] == "HTTP 503 where 200 was expected after 3 attempt(s)"
    assert [(r["attempt"], r["waitFor"]) for r in scenario["retries"]] == [(1, "backoff"), (2, "backoff")]
    assert len(sandbox.injected()) == 3                                   # 1 attempt + 2 retries, no more


def test_a_retry_after_beyond_the_bound_is_an_outage_at_once(tmp_path, faulty):
    sandbox = faulty({"match": "api", "kind": "retry_after", "seconds": 120})
    result, summary = dana_uat_run(tmp_path, sandbox.url, "--scenarios", str(pay_scenario(tmp_path)), "-k", "pay_ok")
    assert result.returncode == retry.EXIT_UNAVAILABLE, result.stdout + result.stderr
    (scenario,) = summary["scenarios"]
    assert scenario["retries"] == [] and "Retry-After 120 s is beyond the 30 s a run waits" in \
        scenario["danaUnavailable"]
    assert len(sandbox.injected()) == 1                                   # not asked again before DANA said


def test_latency_is_met_and_recorded_with_each_exchange(tmp_path, faulty):
    sandbox = faulty({"match": "api", "kind": "latency", "ms": 150})
    result, summary = dana_uat_run(tmp_path, sandbox.url, "--scenarios", str(pay_scenario(tmp_path)), "-k", "pay_ok")
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary["scenarios"][0]["retries"] == []                       # slow is not failed: nothing retried
    (payment,) = [e for e in evidence(tmp_path, "pay_ok.json")["exchanges"] if e["type"] == "http"]
    assert payment["elapsedMs"] >= 150
    assert [(e["kind"], e["ms"]) for e in sandbox.injected()] == [("latency", 150)]


def test_a_stalled_page_costs_its_timeout_and_a_short_screenshot_all_recorded_then_is_retried(tmp_path, faulty):
    sandbox = faulty({"match": "/n/cashier/new/checkout", "kind": "stall"})
    result, summary = dana_uat_run(tmp_path, sandbox.url, "-k", "transaction_success_notify",
                                   DANA_UAT_PAGE_TIMEOUT="3")
    assert result.returncode == 0, result.stdout + result.stderr
    (scenario,) = summary["scenarios"]
    (record,) = scenario["retries"]
    assert record["reason"].startswith("a hosted page did not load: ") and record["waitFor"] == "backoff"
    first = evidence(tmp_path, "transaction_success_notify.attempt-1.json")
    (finding,) = first["findings"]
    assert finding["check"] == "page load" and finding["expected"] == "the page loaded within 3 s"
    pages = [e for e in first["exchanges"] if e["type"] == "page"]
    (goto,) = [e for e in pages if e["action"] == "goto"]
    assert goto["timeoutS"] == 3 and "3000ms" in goto["error"] and goto["ms"] >= 3000
    (shot,) = [e for e in pages if e["action"] == "step" and e["name"] == "failure"]
    assert shot["ms"] > 0 and (shot["screenshot"] or "2500ms" in shot["note"])      # bounded, not 2 x 30 s
    assert [e["kind"] for e in sandbox.injected()] == ["stall"]
