"""The bounded retry of DANA's sandbox's transient failures: a 5xx or transport error is retried and
recorded, a failed assertion never is, and the embedded target does not retry unless told to."""

import json

import pytest

from conformance.dana import retry
from conformance.findings import fail
from conformance.scenarios.runner import ScenarioResult

from .test_plugin import pay_file, run

# DANA's magic amount 505400.00 makes the sandbox answer HTTP 500 General Error (magic.yaml); expecting 200.
FLAKY = pay_file().replace('amount: {value: "1.00"', 'amount: {value: "505400.00"')


@pytest.mark.parametrize("findings, expected", [
    ([fail("transport", "an HTTP response", "ConnectError: [Errno -2] Name or service not known")],
     "transport error: ConnectError: [Errno -2] Name or service not known"),
    ([fail("status", 200, 503)], "HTTP 503 where 200 was expected"),
    ([fail("status", 200, 429)], "HTTP 429 where 200 was expected"),
    ([fail("page status", "a page below HTTP 500", 502)], "page HTTP 502 where a page below HTTP 500 was expected"),
    ([fail("status", 200, 401)], None),
    ([fail("responseCode", "2005400", "5005400")], None),
    ([fail("notify delivery", "an HTTP answer from the notify URL", "ConnectError")], None),
])
def test_only_transport_errors_5xx_and_429_are_transient(findings, expected):
    why = retry.transient(ScenarioResult("failed", findings=findings))
    assert (why and why.reason) == expected
    assert retry.transient(ScenarioResult("passed", findings=findings)) is None


def test_a_429_waits_as_its_retry_after_says_and_a_long_one_is_an_outage():
    events = [{"type": "http", "response": {"status": 429, "headers": {"Retry-After": "3"}}}]
    why = retry.transient(ScenarioResult("failed", findings=[fail("status", 200, 429)]), events)
    assert why.retry_after == 3 and not why.too_long and retry.wait_before(1, why, 1.0) == 3
    later = [{"type": "http", "response": {"status": 429, "headers": {"retry-after": "120"}}}]
    assert retry.transient(ScenarioResult("failed", findings=[fail("status", 200, 429)]), later).too_long
    assert retry.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0       # a date in the past: now
    assert retry.parse_retry_after("soon") is None


def test_backoff_is_exponential_with_jitter_and_bounded():
    import random

    why, rng = retry.Transient("HTTP 503 where 200 was expected"), random.Random(7)
    waits = [[retry.wait_before(n, why, 1.0, rng) for n in range(1, 7)] for _ in range(50)]
    for row in waits:
        for n, wait in enumerate(row, start=1):
            step = min(retry.BACKOFF_CAP, 2 ** (n - 1))
            assert step / 2 <= wait <= step
    assert len({round(row[0], 6) for row in waits}) > 40          # jittered, never a fixed instant


def test_retries_default_to_dana_sandbox_only():
    assert [retry.retries_for(k, None) for k in ("sandbox", "embedded", "url")] == [2, 0, 0]
    assert retry.retries_for("embedded", "3") == 3


def _summary(pytester):
    return json.loads(((pytester.path / "reports" / "latest").resolve() / "summary.json").read_text())


def test_a_5xx_is_retried_a_bounded_number_of_times_and_every_attempt_is_kept(pytester, monkeypatch):
    monkeypatch.setenv("DANA_UAT_RETRIES", "2")
    monkeypatch.setenv("DANA_UAT_RETRY_BACKOFF", "0.2")
    pytester.makefile(".yaml", **{"scenarios/payment": FLAKY})
    result = run(pytester, "-k", "pay_ok")
    result.assert_outcomes(failed=1)
    assert result.ret == retry.EXIT_UNAVAILABLE          # DANA's 500 outlived the retries: not a merchant FAIL
    result.stdout.fnmatch_lines(["*DANA unavailable at step 1 call widget_payment: HTTP 500 where 200 was expected "
                                 "after 3 attempt(s)*", "*not a finding about your integration*"])
    summary = _summary(pytester)
    (scenario,) = summary["scenarios"]
    assert scenario["outcome"] == "dana-unavailable" and summary["counts"]["danaUnavailable"] == 1
    assert summary["counts"]["failed"] == 0 and summary["exitStatus"] == retry.EXIT_UNAVAILABLE
    assert [r["attempt"] for r in scenario["retries"]] == [1, 2]
    assert scenario["retries"][0]["reason"] == "HTTP 500 where 200 was expected"
    for n, record in enumerate(scenario["retries"], start=1):      # backoff 0.1-0.2 s, then 0.2-0.4 s, measured
        step = 0.2 * 2 ** (n - 1)
        assert record["waitFor"] == "backoff" and step / 2 <= record["waitS"] <= step
        assert record["waitedMs"] >= record["waitS"] * 1000 - 1 and record["attemptMs"] > 0
    evidence = (pytester.path / "reports" / "latest").resolve() / "evidence"
    assert sorted(p.name for p in evidence.iterdir()) == ["pay_ok.attempt-1.json", "pay_ok.attempt-2.json",
                                                         "pay_ok.json"]
    final = json.loads((evidence / "pay_ok.json").read_text())
    assert [e["attempt"] for e in final["exchanges"] if e["type"] == "retry"] == [1, 2]
    assert final["outcome"] == "dana-unavailable" and "after 3 attempt(s)" in final["danaUnavailable"]


def test_an_assertion_failure_is_never_retried(pytester, monkeypatch):
    monkeypatch.setenv("DANA_UAT_RETRIES", "2")
    pytester.makefile(".yaml", **{"scenarios/payment": pay_file(code="2005401")})
    run(pytester, "-k", "pay_ok").assert_outcomes(failed=1)
    assert _summary(pytester)["scenarios"][0]["retries"] == []


def test_the_embedded_target_does_not_retry_by_default(pytester, monkeypatch):
    monkeypatch.delenv("DANA_UAT_RETRIES", raising=False)
    pytester.makefile(".yaml", **{"scenarios/payment": FLAKY})
    run(pytester, "-k", "pay_ok").assert_outcomes(failed=1)
    assert _summary(pytester)["scenarios"][0]["retries"] == []


def test_a_hosted_page_waits_as_an_api_call_would():
    import random

    random.seed(3)
    assert retry.page_wait(1, 429, "2", 1.0) == 2                     # its Retry-After
    assert retry.page_wait(1, 429, "120", 1.0) is None               # beyond the bound: not loaded again
    assert 0.5 <= retry.page_wait(1, 503, None, 1.0) <= 1.0 and 1.0 <= retry.page_wait(2, 503, None, 1.0) <= 2.0
