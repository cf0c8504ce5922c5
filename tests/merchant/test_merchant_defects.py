"""The example merchant's nine defective variants (examples/merchant/defects.py), each driven through
`dana-uat run` with the example's profile: each exits 1 with findings of the one check named for its
defect and of no other check (the correct app's one recommendation aside). (The correct app and the profile's errors: test_merchant_mode.py.)
"""

from __future__ import annotations

import json

import pytest

from tests.merchant import harness
from tests.merchant.harness import findings

# defect -> the one check that must name it (docs/merchant-mode.md lists them)
DEFECT_CHECKS = {
    "pretty_signed_body": "signature",
    "utc_timestamp": "clock skew",
    "no_webhook_verification": "webhook verification",
    "any_state": "forged callback",
    "exchange_every_callback": "replayed callback",
    "duplicate_applied_twice": "duplicate applied once",
    "ack_2000000": "acknowledgement",
    "hex_seamless_sign": "seamlessSign",
    "reused_reference": "partnerReferenceNo",
}
# The two browser scenarios (bind and pay through Chromium) run for the correct app; the variants run the
# other twelve, which reach every defect too, so nine variants stay within a few minutes.
VARIANT_SELECTION = ("-k", "not through_merchant")


@pytest.fixture(scope="module")
def sandbox():
    with harness.sandbox() as server:
        yield server


@pytest.mark.parametrize("defect", sorted(DEFECT_CHECKS))
def test_each_defective_variant_fails_on_its_own_check_only(sandbox, tmp_path, defect):
    with harness.merchant(sandbox, tmp_path, defect) as env:
        result = harness.run_uat(sandbox, env, tmp_path, *VARIANT_SELECTION)
    assert result.returncode == 1, result.stdout[-5000:] + result.stderr[-2000:]
    found = findings(tmp_path)
    assert found, result.stdout[-3000:]
    failed = [f for f in found if f["severity"] == "FAIL"]
    assert {f["check"] for f in failed} == {DEFECT_CHECKS[defect]}, json.dumps(found, indent=1)[:4000]
    # besides, only the recommendation the correct app has too (it verifies as DANA's WebhookParser does)
    assert {f["check"] for f in found if f["severity"] == "WARN"} <= {"webhook freshness"}
