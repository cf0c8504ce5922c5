"""Merchant mode's grading policy (conformance/merchant/policy.py): FAIL only what DANA's sources require,
recommendations WARN (FAIL with --strict), and docs/merchant-mode.md's outcome table says the same; the grouping of
recommendations (advice.py) and the per-part table of the report."""

from __future__ import annotations

import re

from conformance.findings import fail, warn
from conformance.merchant import advice, policy
from tests.merchant.harness import ROOT

DOC = (ROOT / "docs" / "merchant-mode.md").read_text(encoding="utf-8")
WORDS = {policy.REQUIRED: "FAIL", policy.RECOMMENDED: "WARN: recommendation", policy.GRADED: "FAIL or WARN, as graded",
         policy.UNSEEN: "WARN: not covered"}


def test_the_docs_outcome_table_lists_every_check_as_the_policy_grades_it():
    rows = dict(re.findall(r"^\| `([^`]+)` \| [^|]+ \| ([^|]+) \|", DOC, re.M))
    for check, rule in policy.RULES.items():
        assert rows.get(check, "").strip() == WORDS[rule.level], check
    for check, rule in policy.RULES.items():
        if rule.level == policy.REQUIRED:        # a FAIL says which source requires it
            assert re.search(r"\[[a-z-]+\]|your profile|the sandbox", rule.basis), check


def test_a_recommendation_never_fails_unless_strict():
    reused = fail("X-EXTERNAL-ID", "an X-EXTERNAL-ID unique within the day", "'abc', already sent", "new one")
    stale = warn("webhook freshness", "a day-old X-TIMESTAMP refused", "HTTP 200 2005600")
    unseen = warn("order effect", "the order", "not seen: the profile has no status endpoint")
    signature = fail("signature", "verifies", "does not")
    graded = policy.apply([reused, stale, unseen, signature])
    assert [f.severity for f in graded] == ["WARN", "WARN", "WARN", "FAIL"]
    strict = policy.apply([reused, stale, unseen, signature], strict=True)
    assert [f.severity for f in strict] == ["FAIL", "FAIL", "WARN", "FAIL"]
    assert "failed by --strict" in strict[1].hint and "--strict" not in strict[3].hint


def test_recommendations_group_by_check_and_cause_with_counts_and_the_sdk_behind_them():
    zone = {"severity": "WARN", "check": "X-TIMESTAMP", "expected": "YYYY-MM-DDTHH:mm:ss+07:00",
            "received": "'2026-12-07T01:00:00Z'", "hint": "DANA documents ...", "where": "step 2: widget_payment #3"}
    channel = {**zone, "check": "headers", "received": "CHANNEL-ID of 27 characters (documented 1-5)"}
    other = {**zone, "check": "headers", "received": "missing X-DEVICE-ID", "hint": "Send every header. Really."}
    results = [{"scenario": "merchant_a", "findings": [zone, channel, zone]},
               {"scenario": "merchant_b", "findings": [channel, other, {**zone, "severity": "FAIL"}]}]
    groups = advice.recommendation_groups(results)
    assert [(g.check, g.count, g.sdk) for g in groups] == [
        ("X-TIMESTAMP", 2, "dana-node 1.5.11"), ("headers", 2, "dana-node 1.5.11"), ("headers", 1, "")]
    assert groups[0].example == "merchant_a step 2: widget_payment #3"
    assert "TZ=Asia/Jakarta" in groups[0].line() and groups[1].fix == policy.NOTHING
    assert groups[2].fix == "Send every header"


def test_the_per_part_table_names_every_check_with_its_outcome_and_why_one_is_not_covered():
    results = [
        {"scenario": "merchant_webhook_stale_timestamp", "outcome": "passed", "findings": [
            {"severity": "WARN", "check": "webhook freshness", "expected": "refused", "received": "HTTP 200 2005600",
             "hint": "h", "where": "step 3"}]},
        {"scenario": "merchant_webhook_other_key", "outcome": "failed", "findings": [
            {"severity": "FAIL", "check": "webhook verification", "expected": "refused", "received": "2005600",
             "hint": "verify", "where": "step 3"}]},
        {"scenario": "merchant_refund", "outcome": "skipped", "findings": [],
         "skipReason": "step 4: the merchant profile has no refund trigger"},
        {"scenario": "merchant_forged_callback", "outcome": "passed", "findings": []},
    ]
    rows = {r["check"]: r for r in advice.merchant_parts(results)}
    assert set(rows) >= {c for c, _ in advice.ROWS}
    assert rows["webhook freshness"]["outcome"] == "WARN"
    assert rows["webhook verification"]["outcome"] == "FAIL" and rows["webhook verification"]["hint"] == "verify"
    assert rows["Refund Order"]["outcome"] == "not covered"
    assert "no refund trigger" in rows["Refund Order"]["detail"]
    assert rows["forged callback"]["outcome"] == "PASS"
    assert [r["part"] for r in advice.merchant_parts(results)][0] == "bind start"


def test_a_finish_notify_answered_as_the_guides_sample_does_fails_saying_what_the_sample_leaves_out():
    from conformance.merchant.steps import _ack_finding

    text_body = _ack_finding(200, None, "step 3")          # HTTP 200 with a text body: no responseCode to read
    assert (text_body.severity, text_body.check) == ("FAIL", "acknowledgement")
    assert "guide's sample" in text_body.hint and "makes responseCode and responseMessage mandatory" in text_body.hint
    assert "[doc-finish-notify]" in text_body.hint and policy.rule("acknowledgement").level == policy.REQUIRED
    wrong_code = _ack_finding(200, "2000000", "step 3")
    assert "guide's sample" not in wrong_code.hint and "makes DANA retry" in wrong_code.hint
