"""Merchant mode end to end: the example merchant (dana-python SDK) driven through `dana-uat run` with its
profile. The correct app passes every merchant scenario; profiles and environments that are wrong are
named. The nine defective variants are in test_merchant_defects.py.
"""

from __future__ import annotations

import functools
import json
import socket
import subprocess
import sys

import pytest

from tests.merchant import harness
from tests.merchant.harness import findings, summary


# one `dana-uat list` per session: the correct app's test compares against it twice
@functools.cache
def merchant_scenarios() -> list[str]:
    listed = json.loads(subprocess.run([sys.executable, "-m", "conformance.cli", "list", "--json", "--scenarios",
                                        "scenarios/merchant"], cwd=harness.ROOT, capture_output=True, text=True,
                                       check=True).stdout)
    return [row["id"] for row in listed if row["merchantMode"]]


@pytest.fixture(scope="module")
def sandbox():
    with harness.sandbox() as server:
        yield server


def test_the_correct_example_merchant_passes_every_merchant_scenario(sandbox, tmp_path):
    """The example verifies Finish Notify exactly as DANA's WebhookParser does (no freshness window, as DANA
    documents none): every scenario passes, and the stale X-TIMESTAMP it accepts is one recommendation, shown
    grouped; --strict fails that scenario alone."""
    with harness.merchant(sandbox, tmp_path) as env:
        result = harness.run_uat(sandbox, env, tmp_path)
        strict = harness.run_uat(sandbox, env, tmp_path / "strict", "--strict", "-k", "stale or valid_paid")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    done = summary(tmp_path)
    assert sorted(s["scenario"] for s in done["scenarios"]) == sorted(merchant_scenarios())
    assert done["counts"]["passed"] == len(merchant_scenarios()) >= 14
    (stale,) = findings(tmp_path)                         # the one recommendation, nothing else
    assert (stale["scenario"], stale["severity"], stale["check"]) == (
        "merchant_webhook_stale_timestamp", "WARN", "webhook freshness")
    assert "DANA documents no freshness window" in stale["hint"]
    assert "merchant mode: profile" in result.stdout
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("WARN ")]
    assert line.startswith("WARN webhook freshness x1: dana-node 1.5.11 and dana-python 2.2.2 WebhookParser "
                           "verifies the signature only"), line
    assert [g["check"] for g in done["recommendations"]] == ["webhook freshness"]

    assert strict.returncode == 1, strict.stdout[-3000:]
    strict_done = summary(tmp_path / "strict")
    assert {s["scenario"]: s["outcome"] for s in strict_done["scenarios"]} == {
        "merchant_webhook_stale_timestamp": "failed", "merchant_webhook_valid_paid": "passed"}
    (failed,) = findings(tmp_path / "strict")
    assert (failed["severity"], failed["check"]) == ("FAIL", "webhook freshness")
    assert "failed by --strict" in failed["hint"]


def test_a_wrong_profile_exits_2_naming_file_and_line(sandbox, tmp_path):
    bad = tmp_path / "dana-uat.merchant.yaml"
    bad.write_text("base_url: http://127.0.0.1:9\nbind:\n  request: {path: /bind}\npay:\n  request: {path: /pay}\n")
    env = harness.credentials(sandbox, tmp_path)       # the run stops at the profile: no merchant is needed
    result = harness.run_uat(sandbox, env, tmp_path, profile=bad)
    assert result.returncode == 2
    assert "dana-uat.merchant.yaml:5: field 'pay.request': must carry {amount}" in result.stdout + result.stderr


def test_a_merchant_that_does_not_answer_fails_naming_url_and_timeout(sandbox, tmp_path):
    with socket.socket() as mute:           # accepts connections (the kernel does) and never answers
        mute.bind(("127.0.0.1", 0))
        mute.listen(8)
        url = f"http://127.0.0.1:{mute.getsockname()[1]}"
        profile = tmp_path / "dana-uat.merchant.yaml"
        profile.write_text(harness.PROFILE.read_text().replace("${MERCHANT_BASE_URL}", url)
                           .replace("timeout: 15", "timeout: 2"))
        env = harness.credentials(sandbox, tmp_path)   # the mute socket is the merchant here
        result = harness.run_uat(sandbox, env, tmp_path, "-k", "forged_callback", profile=profile)
    assert result.returncode == 1, result.stdout[-3000:]
    (finding,) = findings(tmp_path)
    assert finding["check"] == "merchant answer"
    assert f"{url}/bind" in finding["received"] and "within 2 s" in finding["received"]


def test_a_backend_that_is_not_listening_yet_is_awaited_within_the_profiles_timeout(sandbox, tmp_path):
    """A backend started in the background just before the run (examples/merchant/README.md) is waited for; one
    that never listens ends the run with exit 2 naming the profile's base_url, before any scenario."""
    port = harness.free_port()
    env = harness.credentials(sandbox, tmp_path, port)
    args, run_env = harness.uat_command(sandbox, env, tmp_path, "-k", "forged_callback")
    run = subprocess.Popen(args, cwd=harness.ROOT, env={**run_env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in run.stdout:                 # the merchant starts once the run says it waits for it
        seen.append(line)
        if "for the merchant's backend at" in line:
            break
    assert f"waiting up to 15 s (the profile's timeout) for the merchant's backend at http://127.0.0.1:{port}" \
        in seen[-1], "".join(seen)
    with harness.merchant(sandbox, tmp_path, port=port):
        seen += run.stdout.readlines()
        assert run.wait(timeout=120) == 0, "".join(seen)[-4000:]
    assert summary(tmp_path)["counts"]["passed"] == 1

    never = tmp_path / "never"
    profile = tmp_path / "dana-uat.merchant.yaml"
    profile.write_text(harness.PROFILE.read_text().replace("timeout: 15", "timeout: 1"))
    result = harness.run_uat(sandbox, env, never, "-k", "forged_callback", profile=profile)
    assert result.returncode == 2, result.stdout[-3000:]
    assert (f"nothing listens at http://127.0.0.1:{port} (the profile's base_url) after 1 s; start your backend "
            "first, or fix base_url") in result.stdout + result.stderr
    assert not list(never.glob("reports/*/evidence/*.json"))            # no scenario ran


def test_binding_started_by_clicking_the_merchants_page(sandbox, tmp_path):
    profile = tmp_path / "dana-uat.merchant.yaml"
    profile.write_text(harness.PROFILE.read_text().replace(
        'request: {method: GET, path: "/bind?phone={phone}"}', 'page: {url: /account, click: "#link-dana"}'))
    with harness.merchant(sandbox, tmp_path) as env:
        result = harness.run_uat(sandbox, env, tmp_path, "-k", "merchant_bind_through_merchant", profile=profile)
    assert result.returncode == 0, result.stdout[-4000:]
    assert summary(tmp_path)["counts"]["passed"] == 1 and findings(tmp_path) == []


def test_without_a_status_endpoint_the_effect_checks_warn_saying_what_they_could_not_see(sandbox, tmp_path):
    text = harness.PROFILE.read_text()
    start, end = text.index("status:"), text.index("timeout:")
    profile = tmp_path / "dana-uat.merchant.yaml"
    profile.write_text(text[:start] + text[end:])
    with harness.merchant(sandbox, tmp_path) as env:
        result = harness.run_uat(sandbox, env, tmp_path, "-k", "webhook_tampered_body or webhook_duplicate",
                                 profile=profile)
    assert result.returncode == 0, result.stdout[-4000:]
    found = findings(tmp_path)
    assert {(f["scenario"], f["severity"], f["check"]) for f in found} == {
        ("merchant_webhook_tampered_body", "WARN", "order effect"),
        ("merchant_webhook_duplicate", "WARN", "order effect")}
    assert all("no status endpoint" in f["received"] for f in found)


def test_the_profiles_redirect_url_is_cross_checked_with_the_bind_url(sandbox, tmp_path):
    profile = tmp_path / "dana-uat.merchant.yaml"
    profile.write_text(harness.PROFILE.read_text() + "redirect_url: https://shop.example/oauth/callback\n")
    with harness.merchant(sandbox, tmp_path) as env:
        result = harness.run_uat(sandbox, env, tmp_path, "-k", "forged_callback", profile=profile)
    assert result.returncode == 1, result.stdout[-3000:]
    (finding,) = findings(tmp_path)
    assert (finding["check"], finding["expected"]) == ("redirect URL", "https://shop.example/oauth/callback")
    assert finding["received"] == env["MERCHANT_BASE_URL"] + "/oauth/callback"


def test_merchant_mode_without_the_merchants_credentials_exits_2(sandbox, tmp_path):
    env = harness.credentials(sandbox, tmp_path)       # the run stops before it reaches a merchant
    anonymous = {k: v for k, v in env.items() if k not in ("X_PARTNER_ID", "MERCHANT_ID", "PRIVATE_KEY_PATH")}
    result = harness.run_uat(sandbox, anonymous, tmp_path, "-k", "forged_callback")
    assert result.returncode == 2
    assert "merchant mode tests your backend with its own credentials" in result.stdout + result.stderr
