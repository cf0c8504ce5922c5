"""Account Unbinding for a user with abnormal status: 4030905 Do Not Honor, and the token stays live.

scenarios/widget/account_unbinding.yaml (AccountUnbindFailInvalidUserStatus, [uat-fixtures])
relies on it; the code follows SNAP's 403xx05 as the abnormal user gets on every other customer API.
"""

from __future__ import annotations

from tests.sandbox import sdk
from tests.sandbox.conftest import MERCHANT_ID
from tests.sandbox.test_sdk import api, token_for  # noqa: F401  (api is a fixture)


def test_abnormal_user_cannot_unbind_and_keeps_its_binding(api, raw):  # noqa: F811
    token = token_for(api, raw, "0855100800")
    status, code, message = sdk.error(lambda: api.account_unbinding(sdk.unbinding_request(MERCHANT_ID, token)))
    assert (status, code, message) == (403, "4030905", "Do Not Honor")
    # refused, so nothing was revoked: the token still reaches its role rule, not "Invalid Customer Token"
    assert sdk.error(lambda: api.apply_ott(sdk.ott_request(token)))[1] == "4034905"
