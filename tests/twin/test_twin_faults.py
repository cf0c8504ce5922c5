"""DANA's bad days, met on the path DANA accepts: the twin under DANA's names injects faults (faults.py) and the
unchanged `dana-uat run --target sandbox` retries within its bound (the default 2 retries against DANA), waits
as DANA asks, records every attempt and wait, and still completes; the twin's record shows each fault and no
request the run did not mean to send."""

from __future__ import annotations

import json

import pytest

from tests.twin.harness import TwinRun

PAY_PATH = "/rest/redirection/v1.0/debit/payment-host-to-host"


@pytest.fixture(scope="module")
def twin(tmp_path_factory) -> TwinRun:
    return TwinRun(tmp_path_factory.mktemp("twin-faults"))


def faulted_run(twin: TwinRun, name: str, rows: list[dict], args: list[str]):
    plan = twin.root / f"{name}.json"
    plan.write_text(json.dumps({"faults": rows}))
    env = {**twin.merchant_env(), "DANA_UAT_RETRY_BACKOFF": "0.2"}
    return twin.run(["--target", "sandbox", *args], env, twin_args=["--faults", str(plan)], name=name)


def retries(result) -> list[dict]:
    return [r for s in result.summary()["scenarios"] for r in s["retries"]]


def test_one_429_per_api_path_is_waited_out_and_the_mandatory_run_completes(twin):
    result = faulted_run(twin, "throttled", [{"match": "api", "kind": "retry_after", "seconds": 1}], [])
    assert result.exit == 0, result.output[-3000:]
    assert "13 passed, 0 failed" in result.stdout and result.bundle() is not None
    throttled = [line for line in result.http() if line["status"] == 429]
    assert throttled and len({line["path"] for line in throttled}) == len(throttled)   # one per API path
    done = retries(result)
    assert len(done) == len(throttled)                                  # each 429 cost exactly one retry
    assert all(r["waitFor"] == "Retry-After: 1" and r["waitedMs"] >= 1000 for r in done)


def test_one_5xx_on_every_api_path_and_page_is_retried_and_the_mandatory_run_completes(twin):
    rows = [{"match": "api", "kind": "status", "status": 503}, {"match": "page", "kind": "status", "status": 503}]
    result = faulted_run(twin, "unavailable", rows, [])
    assert result.exit == 0, result.output[-3000:]
    assert "13 passed, 0 failed" in result.stdout and result.bundle() is not None
    failed = [line for line in result.http() if line["status"] == 503]
    assert {line["host"] for line in failed} == {"api.sandbox.dana.id", "m.sandbox.dana.id"}
    api = [line for line in failed if line["method"] == "POST"]
    assert len(retries(result)) == len(api)                             # each API 503 cost one scenario retry
    # the retried payments were sent again, never a payment the scenarios did not mean to make: every order
    # made is a scenario's, once
    made = [c for c in result.api_calls() if c["path"] == PAY_PATH and c["response"]["status"] == 200]
    refs = [c["request"]["body"]["json"]["partnerReferenceNo"] for c in made]
    assert len(refs) == len(set(refs))


def test_a_reset_at_preflight_does_not_stop_the_run(twin):
    # preflight's probe is the only GET of the API host's root; the scenarios' own requests are POSTs
    rows = [{"match": "/", "kind": "reset", "method": "GET", "first": 1}]
    result = faulted_run(twin, "reset", rows, ["scenarios/widget/payment.yaml::payment_fail_invalid_signature"])
    assert result.exit == 0, result.output[-3000:]
    assert "1 passed, 0 failed" in result.stdout
    probes = [line for line in result.http() if line["path"] == "/" and line["host"] == "api.sandbox.dana.id"]
    assert len(probes) == 2                                             # cut once, asked again
