"""The bounded retry of DANA's sandbox's transient failures: a 5xx or transport error is retried and
recorded, a failed assertion never is, and the embedded target does not retry unless told to."""

import json

import pytest

from conformance import retry
from conformance.findings import fail
from conformance.scenarios.runner import ScenarioResult

from .test_plugin import pay_file, run

# DANA's magic amount 505400.00 makes the sandbox answer HTTP 500 General Error (magic.yaml); expecting 200.
FLAKY = pay_file().replace('amount: {value: "1.00"', 'amount: {value: "505400.00"')


@pytest.mark.parametrize("findings, expected", [
    ([fail("transport", "an HTTP response", "ConnectError: [Errno -2] Name or service not known")],
     "transport error: ConnectError: [Errno -2] Name or service not known"),
    ([fail("status", 200, 503)], "HTTP 503 where 200 was expected"),
    ([fail("status", 200, 401)], None),
    ([fail("responseCode", "2005400", "5005400")], None),
])
def test_only_transport_errors_and_5xx_are_transient(findings, expected):
    assert retry.transient(ScenarioResult("failed", findings=findings)) == expected
    assert retry.transient(ScenarioResult("passed", findings=findings)) is None


def test_retries_default_to_dana_sandbox_only():
    assert [retry.retries_for(k, None) for k in ("sandbox", "embedded", "url")] == [2, 0, 0]
    assert retry.retries_for("embedded", "3") == 3


def _summary(pytester):
    return json.loads(((pytester.path / "reports" / "latest").resolve() / "summary.json").read_text())


def test_a_5xx_is_retried_a_bounded_number_of_times_and_every_attempt_is_kept(pytester, monkeypatch):
    monkeypatch.setenv("DANA_UAT_RETRIES", "2")
    pytester.makefile(".yaml", **{"scenarios/payment": FLAKY})
    result = run(pytester, "-k", "pay_ok")
    result.assert_outcomes(failed=1)
    (scenario,) = _summary(pytester)["scenarios"]
    assert [r["attempt"] for r in scenario["retries"]] == [1, 2]
    assert scenario["retries"][0]["reason"] == "HTTP 500 where 200 was expected"
    evidence = (pytester.path / "reports" / "latest").resolve() / "evidence"
    assert sorted(p.name for p in evidence.iterdir()) == ["pay_ok.attempt-1.json", "pay_ok.attempt-2.json",
                                                         "pay_ok.json"]
    final = json.loads((evidence / "pay_ok.json").read_text())
    assert [e["attempt"] for e in final["exchanges"] if e["type"] == "retry"] == [1, 2]


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
