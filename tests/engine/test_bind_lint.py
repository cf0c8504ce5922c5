"""The bind step's ``lint: true``: the suite-built bind URL graded by the bind-URL linter (docs/browser.md).

A FAIL finding (here: a plain-http redirect URL on a public host, [doc-get-oauth]) stops the step
before any browser opens; a clean URL binds as usual.
"""

import pytest

from conformance.browser import find_chromium

LINTED_BIND = """\
api: apply_token
scenarios:
  - id: linted_bind
    title: the bind URL is linted before the browser opens
    steps:
      - bind: {lint: true, seamless: true}
      - call: apply_token
        request: {grantType: AUTHORIZATION_CODE, authCode: "${authCode}"}
        expect: {status: 200, responseCode: "2007400"}
"""


def test_a_lint_failure_stops_the_bind_before_the_browser(pytester, monkeypatch):
    monkeypatch.setenv("REDIRECT_URL_OAUTH", "http://merchant.example/oauth/callback")
    pytester.makefile(".yaml", **{"scenarios/lint": LINTED_BIND})
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*failed at step 1 bind*", "*redirectUrl*"])
    assert "step 2" not in result.stdout.str()


@pytest.mark.skipif(find_chromium() is None, reason="no Chromium on this machine")
def test_a_clean_bind_url_binds(pytester):
    pytester.makefile(".yaml", **{"scenarios/lint": LINTED_BIND})
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
