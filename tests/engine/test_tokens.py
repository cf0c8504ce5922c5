"""The token step through the plugin, in a real Chromium: one binding per test user per run, shared read-only."""

import json

import pytest

from conformance.browser import find_chromium

OTT = """\
      - call: apply_ott
        request: {userResources: [OTT], additionalInfo: {accessToken: "${accessToken}", deviceId: deviceid123}}
        expect: {status: STATUS, responseCode: "CODE"}
"""

FLOW = """\
api: apply_ott
scenarios:
  - id: binds_first
    title: one of two scenarios of the default user binds and exchanges the code
    steps:
      - token: {}
""" + OTT.replace("STATUS", "200").replace("CODE", "2004900") + """\
  - id: shares_it
    title: the other reads the same token (they run side by side, in either order)
    steps:
      - token: {}
""" + OTT.replace("STATUS", "200").replace("CODE", "2004900") + """\
  - id: other_user
    title: another test user gets a binding of its own
    steps:
      - token: {phone: "0855100800", pin: "146838"}
""" + OTT.replace("STATUS", "403").replace("CODE", "4034905") + """\
  - id: wrong_pin_a
    title: a binding that fails is not kept
    steps:
      - token: {pin: "000000"}
""" + OTT.replace("STATUS", "200").replace("CODE", "2004900") + """\
  - id: wrong_pin_b
    title: so the next scenario of that user binds again, and fails again
    steps:
      - token: {pin: "000000"}
""" + OTT.replace("STATUS", "200").replace("CODE", "2004900")


def actions(evidence: dict) -> list[str]:
    return [e.get("action") for e in evidence["exchanges"] if e["type"] in ("token", "browser")]


@pytest.mark.skipif(find_chromium() is None, reason="no Chromium on this machine")
def test_a_test_user_binds_once_per_run_and_later_scenarios_share_the_token(pytester):
    pytester.makefile(".yaml", **{"scenarios/tokens": FLOW})
    # side by side (the default): binds_first and shares_it race for the binding and either may bind (both are
    # right); the assertions below hold whichever wins
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=2)
    run_dir = (pytester.path / "reports/latest").resolve()
    ev = {name: json.loads((run_dir / f"evidence/{name}.json").read_text())
          for name in ("binds_first", "shares_it", "other_user", "wrong_pin_a", "wrong_pin_b")}
    # binds_first and shares_it run side by side (ahead.py): whichever reaches the token step first binds, the
    # other waits for that binding and shares it. What must hold in either order: exactly one binds.
    binders = [n for n in ("binds_first", "shares_it") if actions(ev[n])[0] == "bind"]
    assert len(binders) == 1, f"one binding per test user per run, whatever the start order: {binders}"
    binder, sharer = binders[0], ({"binds_first", "shares_it"} - set(binders)).pop()
    assert actions(ev[binder])[-1] == "bound"
    assert [e.get("api") for e in ev[binder]["exchanges"] if e["type"] == "http"] == ["apply_token", "apply_ott"]
    assert actions(ev[sharer]) == ["shared"]
    shared = [e for e in ev[sharer]["exchanges"] if e["type"] == "token"][0]
    assert shared["boundIn"] == binder and shared["phone"] == "083811223355"
    assert [e.get("api") for e in ev[sharer]["exchanges"] if e["type"] == "http"] == ["apply_ott"]
    assert actions(ev["other_user"])[0] == "bind" and "shared" not in actions(ev["other_user"])
    for name in ("wrong_pin_a", "wrong_pin_b"):
        assert ev[name]["outcome"] == "failed" and actions(ev[name])[0] == "bind", name
    report = (run_dir / "report.html").read_text()     # the report says where a shared token was bound
    assert report.count(f'shared from <a href="#{binder}">{binder}</a>') == 1
