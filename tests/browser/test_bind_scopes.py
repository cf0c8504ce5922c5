"""The bind step passes the environment to the bind URL: production drops AGREEMENT_PAY, as the official SDKs
do (dana-python widget/v1/util.py, dana-node widget/v1/utils/utils.ts generateScopes)."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from conformance.config.settings import load_settings
from conformance.dana.target import Target
from conformance.evidence.recorder import Recorder
from conformance.scenarios.loader import load_file
from conformance.scenarios.runner import run_scenario

BIND = """\
api: apply_token
scenarios:
  - id: bind_then_token
    title: bind and exchange the code
    steps:
      - bind: {}
      - call: apply_token
        request: {grantType: AUTHORIZATION_CODE, authCode: "${authCode}", refreshToken: "", additionalInfo: {}}
        expect: {status: 200, responseCode: "2007400"}
"""


@pytest.mark.parametrize("env, scopes", [
    ("sandbox", "CASHIER,AGREEMENT_PAY,QUERY_BALANCE,DEFAULT_BASIC_PROFILE,MINI_DANA"),
    ("production", "MINI_DANA,CASHIER,QUERY_BALANCE,DEFAULT_BASIC_PROFILE"),
])
def test_the_bind_step_uses_the_scope_set_of_its_environment(tmp_path, sandbox, browser, env, scopes):
    (tmp_path / "bind.yaml").write_text(BIND)
    loaded = load_file(tmp_path / "bind.yaml", "bind.yaml").scenarios[0]
    settings = replace(load_settings({"target": sandbox.base_url}, environ={}, env_file=None), env=env)
    with Target(settings) as target:
        recorder = Recorder("bind_then_token")
        run_scenario(loaded, target, recorder, browser=lambda: browser)
    url = next(e["url"] for e in recorder.events if e.get("action") == "bind")
    assert parse_qs(urlsplit(url).query)["scopes"] == [scopes]
