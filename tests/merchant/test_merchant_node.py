"""Merchant mode on the Node example (examples/merchant-node: dana-node 1.5.11 from npm, written as DANA's Widget
Binding guide shows), driven through `dana-uat run` with the same profile as the Python example: the correct app
passes every merchant scenario, its recommendations (all from dana-node's own behaviour) print grouped, one line
per check and cause, within one screen; each of the nine variants fails on its own check only.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.merchant import harness, node
from tests.merchant.harness import findings, summary
from tests.merchant.test_merchant_defects import DEFECT_CHECKS, VARIANT_SELECTION
from tests.merchant.test_merchant_mode import merchant_scenarios

SCREEN = 50        # lines: what a terminal shows without scrolling
# (check, what the line says) of each recommendation the correct Node app gets: each is dana-node's doing
NODE_RECOMMENDATIONS = {
    ("X-TIMESTAMP", "stamps X-TIMESTAMP in the host's time zone"),
    ("headers", "sends CHANNEL-ID as partnerId + '-SERVER'"),
    ("headers", "sends Apply Token with X-CLIENT-KEY and no X-PARTNER-ID"),
    ("timestamp format", "writes the bind timestamp with milliseconds"),
    ("seamlessSign encoding", "URL-encodes the signature and generateOauthUrl encodes it again"),
    ("state length", "uses a dashed UUID (36 characters) when no state is given"),
    ("webhook freshness", "WebhookParser verifies the signature only"),
}


@pytest.fixture(scope="module")
def sandbox():
    with harness.sandbox() as server:
        yield server


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory):
    return node.install(tmp_path_factory.mktemp("merchant-node"))



def test_the_correct_node_merchant_passes_and_its_recommendations_fit_one_screen(sandbox, app_dir, tmp_path):
    with harness.node_merchant(sandbox, tmp_path, app_dir, env_extra={"TZ": "UTC"}) as env:
        result = harness.run_uat(sandbox, env, tmp_path)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    done = summary(tmp_path)
    assert done["counts"]["passed"] == len(merchant_scenarios()) >= 16
    found = findings(tmp_path)
    assert [f for f in found if f["severity"] == "FAIL"] == []
    assert len(found) > 40          # the same SDK habits repeat on every request...

    lines = result.stdout.splitlines()
    grouped = [line for line in lines if line.startswith("WARN ")]
    assert len(grouped) == len(NODE_RECOMMENDATIONS), "\n".join(grouped)     # ...and print once per check and cause
    for check, said in NODE_RECOMMENDATIONS:
        (line,) = [g for g in grouped if g.startswith(f"WARN {check} x") and said in g]
        count = int(re.match(rf"WARN {re.escape(check)} x(\d+):", line).group(1))
        assert count >= 1 and "dana-node 1.5.11" in line and "(e.g. merchant_" in line, line
        assert "fix: " in line
    assert sum(int(re.search(r" x(\d+):", g).group(1)) for g in grouped) == len(found)
    assert len(lines) <= SCREEN, "\n".join(lines)
    assert {(g["check"], g["count"]) for g in done["recommendations"]} == {
        (re.match(r"WARN (.+?) x(\d+):", g).group(1), int(re.match(r"WARN (.+?) x(\d+):", g).group(2)))
        for g in grouped}


@pytest.mark.parametrize("defect", sorted(DEFECT_CHECKS))
def test_each_node_variant_fails_on_its_own_check_only(sandbox, app_dir, tmp_path, defect):
    with harness.node_merchant(sandbox, tmp_path, app_dir, defect, env_extra={"TZ": "UTC"}) as env:
        result = harness.run_uat(sandbox, env, tmp_path, *VARIANT_SELECTION)
    assert result.returncode == 1, result.stdout[-5000:] + result.stderr[-2000:]
    found = findings(tmp_path)
    failed = [f for f in found if f["severity"] == "FAIL"]
    assert {f["check"] for f in failed} == {DEFECT_CHECKS[defect]}, json.dumps(failed, indent=1)[:4000]
    assert {f["check"] for f in found if f["severity"] == "WARN"} <= {c for c, _ in NODE_RECOMMENDATIONS}
