"""The run a merchant hands DANA, end to end: `dana-uat run --target sandbox` against the DANA twin.

Each test makes its own network namespace (harness.py) in which DANA's hostnames are the twin, over HTTPS with
a throwaway CA; the product runs unchanged and finds DANA by its names. Root only (CI is root); elsewhere the
tests skip saying why.
"""

from __future__ import annotations

import json
import subprocess
import zipfile

import pytest

from tests.twin.harness import TwinRun, dana_uat



@pytest.fixture(scope="module")
def twin(tmp_path_factory) -> TwinRun:
    return TwinRun(tmp_path_factory.mktemp("twin"))


@pytest.fixture(scope="module")
def mandatory(twin):
    return twin.run(["--target", "sandbox"], name="mandatory")


def test_the_mandatory_run_against_dana_completes_and_makes_a_bundle_that_verifies(twin, mandatory):
    assert mandatory.exit == 0, mandatory.output[-3000:]
    assert "13 passed, 0 failed, 0 skipped" in mandatory.stdout
    assert "complete run against DANA: the bundle can be submitted" in mandatory.stdout
    summary = mandatory.summary()
    assert summary["simulation"] is False and summary["target"] == "sandbox"
    bundle = mandatory.bundle()
    assert bundle is not None
    with zipfile.ZipFile(bundle) as z:
        assert "manifest.sig" in z.namelist()
    verified = subprocess.run([dana_uat(), "verify-bundle", str(bundle), "--public-key",
                               str(twin.root / "merchant-public.pem")], capture_output=True, text=True, check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_mandatory_run_reached_dana_by_its_names_and_nothing_else(mandatory):
    hosts = {line["host"] for line in mandatory.http()}
    assert hosts == {"api.sandbox.dana.id", "m.sandbox.dana.id"}, hosts
    assert not [line for line in mandatory.http() if line["path"].startswith("/sandbox-admin")]
    # the three finish-notify scenarios paid or let expire their orders under DANA's page host, in Chromium
    pages = [line for line in mandatory.http() if line["host"] == "m.sandbox.dana.id"]
    assert any(line["path"].startswith("/n/cashier") for line in pages)


def test_finish_notify_from_dana_reached_the_receivers_public_url(mandatory):
    evidence = mandatory.work.glob("reports/*/evidence/transaction_success_notify.json")
    text = next(evidence).read_text(encoding="utf-8")
    assert '"notification"' in text and "latestTransactionStatus" in text
    payments = [c for c in mandatory.api_calls() if c["api"] == "widget_payment" and c["response"]["status"] == 200]
    urls = {p["url"] for c in payments for p in c["request"]["body"]["json"].get("urlParams", [])
            if p.get("type") == "NOTIFICATION"}
    assert urls == {"http://notify.merchant-uat.example:8780/v1.0/debit/notify"}, urls


def test_without_the_ca_setting_the_run_stops_in_preflight_naming_it(twin):
    env = twin.merchant_env(ca=False)
    result = twin.run(["--target", "sandbox"], env, name="no-ca")
    assert result.exit == 2, result.output[-2000:]
    assert "DANA_UAT_CA_BUNDLE" in result.stderr
    assert "PASS" not in result.stdout and not result.api_calls()


def test_a_submission_run_that_makes_no_bundle_exits_4_and_says_why_last(twin):
    """Without a public URL for the receiver DANA cannot deliver Finish Notify: 3 mandatory scenarios skip."""
    result = twin.run(["--target", "sandbox", "-k", "notify or payment_success"], twin.merchant_env(receiver=False),
                      name="no-receiver")
    # a selection (-k) is no submission: its exit stays 0
    assert result.exit == 0, result.output[-2000:]
    result = twin.run(["--target", "sandbox"], twin.merchant_env(receiver=False), name="unsubmittable")
    assert result.exit == 4, result.output[-2000:]
    assert "3 skipped" in result.stdout and "DANA_UAT_RECEIVER_PUBLIC_URL" in result.stdout
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("dana-uat: NOT SUBMITTABLE") and "mandatory" in last, last
    assert result.bundle() is None


def test_while_a_scenario_waits_out_danas_clock_the_next_ones_use_its_slot(mandatory):
    """At concurrency 1 (DANA's default) expired_notify's 12 s of real time are no longer the run's: it sends
    nothing while it waits, so another scenario talks to DANA meanwhile (run/ahead.py, scenarios/pace.py)."""
    from conformance.snap.timestamps import parse_timestamp

    files = {p.stem: json.loads(p.read_text(encoding="utf-8"))
             for p in mandatory.work.glob("reports/*/evidence/*.json") if p.stem != "summary"}
    waited = [e for e in files["expired_notify"]["exchanges"] if e["type"] == "clock" and e.get("realTime")]
    assert len(waited) == 1 and waited[0]["waitedSeconds"] >= 12, waited
    end = parse_timestamp(waited[0]["at"]).timestamp()
    begin = end - waited[0]["waitedSeconds"]
    meanwhile = sorted({name for name, record in files.items() if name != "expired_notify"
                        for e in record.get("exchanges", []) if e.get("at")
                        and begin + 1 < parse_timestamp(e["at"]).timestamp() < end - 1})
    assert meanwhile, "no other scenario reached DANA while expired_notify waited"
