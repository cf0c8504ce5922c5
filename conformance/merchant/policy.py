"""What merchant mode fails and what it only recommends (docs/merchant-mode.md, "Outcome per check").

A check FAILs only where one of DANA's public sources (docs/references.md ids) requires the behaviour; good
practice beyond them is a recommendation: a WARN, which ``--strict`` turns into a failure. Checks not named
here keep the severity their grader gave (the traffic journal's and the bind-URL linter's graders already
WARN what DANA's own SDKs and scripts do and FAIL what DANA refuses).

Each check also names the part of the merchant's backend it is about, for the report's per-part table.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from conformance.findings import FAIL, WARN, Finding

REQUIRED, RECOMMENDED, GRADED, UNSEEN = "required", "recommendation", "as graded", "not covered"

# The merchant's own parts, in the order a payment meets them (the report's per-part table).
PARTS = ("bind start", "OAuth callback", "pay", "Finish Notify handler", "outbound requests", "status endpoint",
         "every endpoint")


@dataclass(frozen=True)
class Rule:
    part: str
    level: str           # REQUIRED: FAIL; RECOMMENDED: WARN (FAIL with --strict); GRADED: the grader's own
    basis: str           # the source that requires it, or why it is only recommended


def _r(part: str, level: str, basis: str) -> Rule:
    return Rule(part, level, basis)


# check name (Finding.check) -> its rule. tests/merchant/test_policy.py keeps docs/merchant-mode.md in step.
RULES: dict[str, Rule] = {
    # the bind URL the merchant built (conformance/client/bindlint.py grades FAIL/WARN with its own sources)
    "bind start": _r("bind start", REQUIRED, "[doc-get-oauth]: the merchant hands the user the bind URL"),
    "bind URL": _r("bind start", REQUIRED, "[doc-get-oauth]"),
    "required parameter": _r("bind start", GRADED, "[doc-get-oauth] parameter table; [doc-deeplink]"),
    "length": _r("bind start", GRADED, "[doc-get-oauth] lengths"),
    "unknown parameter": _r("bind start", RECOMMENDED, "recommendation: a split value, refused by no source"),
    "timestamp format": _r("bind start", GRADED, "[doc-get-oauth]; DANA's helpers write other forms"),
    "redirectUrl": _r("bind start", GRADED, "[doc-get-oauth]"),
    "state length": _r("bind start", GRADED, "[doc-get-oauth] state 1-32; the SDK helpers' UUID is a WARN"),
    "state": _r("bind start", REQUIRED, "[doc-get-oauth] state"),
    "scopes": _r("bind start", RECOMMENDED, "recommendation: [doc-binding-guide] scopes, spelt as every SDK does"),
    "terminalType": _r("bind start", REQUIRED, "[sdk-enum]"),
    "seamlessData": _r("bind start", REQUIRED, "[doc-deeplink] seamlessData"),
    "seamlessData keys": _r("bind start", RECOMMENDED, "recommendation: [doc-deeplink] key names"),
    "seamlessData phone": _r("bind start", RECOMMENDED, "recommendation: [doc-deeplink] 'mobile'"),
    "externalUid length": _r("bind start", GRADED, "[doc-deeplink] 1-32"),
    "seamlessSign": _r("bind start", REQUIRED, "[sdk-util] seamlessSign"),
    "seamlessSign encoding": _r("bind start", RECOMMENDED, "recommendation: DANA's scripts bind with it"),
    "isSnapBI": _r("bind start", RECOMMENDED, "recommendation: every SDK sends it ([doc-get-oauth])"),
    "partnerId": _r("bind start", REQUIRED, "[doc-get-oauth] partnerId"),
    "redirect URL": _r("bind start", REQUIRED, "your profile's redirect_url"),
    # the OAuth callback
    "auth code": _r("OAuth callback", REQUIRED, "the sandbox issues the code"),
    "callback answer": _r("OAuth callback", REQUIRED, "[doc-get-oauth]: DANA redirects the user there"),
    "Apply Token": _r("OAuth callback", REQUIRED, "[doc-apply-token]"),
    "forged callback": _r("OAuth callback", REQUIRED, "[doc-get-oauth] state: the merchant checks it on return"),
    "replayed callback": _r("OAuth callback", REQUIRED, "[doc-apply-token]: an authCode is single-use"),
    # the pay endpoint
    "Direct Debit Payment": _r("pay", REQUIRED, "[doc-payment]"),
    "Apply OTT": _r("pay", REQUIRED, "[doc-payment]: the checkout URL carries the OTT"),
    "payment start": _r("pay", REQUIRED, "[doc-payment]"),
    "notify URL": _r("pay", REQUIRED, "your profile's notify_url"),
    "Refund Order": _r("pay", REQUIRED, "[uat-tests] refund"),
    "Cancel Order": _r("pay", REQUIRED, "[uat-tests] cancel"),
    # the Finish Notify handler
    "Finish Notify delivery": _r("Finish Notify handler", REQUIRED, "[doc-finish-notify]"),
    "acknowledgement": _r("Finish Notify handler", REQUIRED,
                          "[doc-finish-notify]: the answer's responseCode and responseMessage are mandatory"),
    "webhook verification": _r("Finish Notify handler", REQUIRED,
                               "[doc-finish-notify] X-SIGNATURE; [sdk-webhook] verifies it over the received bytes"),
    "webhook freshness": _r("Finish Notify handler", RECOMMENDED,
                            "recommendation: DANA documents no freshness window, and its WebhookParser has none "
                            "([sdk-webhook])"),
    "order unchanged": _r("Finish Notify handler", REQUIRED, "[doc-finish-notify]: only a verified notification"),
    "order updated": _r("Finish Notify handler", REQUIRED, "[doc-finish-notify]"),
    "duplicate applied once": _r("Finish Notify handler", REQUIRED,
                                 "[doc-finish-notify]: DANA sends again until it is acknowledged"),
    "order effect": _r("status endpoint", UNSEEN, "the profile has no status endpoint"),
    # every request the merchant's backend sent (graded by the sandbox's traffic journal)
    "signature": _r("outbound requests", REQUIRED, "[sdk-header] string to sign"),
    "path": _r("outbound requests", REQUIRED, "[sdk-widget-api] paths"),
    "X-TIMESTAMP": _r("outbound requests", GRADED, "[sdk-header] format; another offset is a WARN"),
    "clock skew": _r("outbound requests", GRADED, "[sdk-header]: the request time; minutes off are a WARN"),
    "headers": _r("outbound requests", GRADED, "[sdk-header] header sets; lengths beyond them are a WARN"),
    "schema": _r("outbound requests", REQUIRED, "[sdk-models]"),
    "partnerReferenceNo": _r("outbound requests", REQUIRED, "[doc-payment]: DANA deduplicates on it"),
    "partnerRefundNo": _r("outbound requests", REQUIRED, "[sdk-models]"),
    "X-EXTERNAL-ID": _r("outbound requests", RECOMMENDED,
                        "recommendation: SNAP asks for one unique per day, no DANA source shows a reuse refused, "
                        "and the SDKs generate a fresh one ([sdk-header])"),
    "validUpTo": _r("outbound requests", REQUIRED, "[uat-tests]: at most 15 minutes ahead (API requirement)"),
    "amount": _r("outbound requests", REQUIRED, "[sdk-models] Money"),
    "urlParams": _r("outbound requests", REQUIRED, "[sdk-models] urlParams"),
    # the merchant's own view of the order
    "order paid": _r("status endpoint", REQUIRED, "your profile's status endpoint"),
    "order status": _r("status endpoint", UNSEEN, "the profile has no status endpoint"),
    # any endpoint of the profile
    "merchant answer": _r("every endpoint", REQUIRED, "your profile's timeout"),
    "merchant response": _r("every endpoint", REQUIRED, "your profile's endpoints answer JSON or a redirect"),
}
DEFAULT = Rule("outbound requests", GRADED, "the grader's own source")


def rule(check: str) -> Rule:
    return RULES.get(check, DEFAULT)


def is_recommendation(f: Finding) -> bool:
    """A WARN the merchant can act on (not 'not covered', which says what the suite could not see)."""
    return not f.failed and rule(f.check).level != UNSEEN


def apply(findings: list[Finding], *, strict: bool = False) -> list[Finding]:
    """Findings as merchant mode grades them: a recommendation check never FAILs, unless ``strict``, which
    fails every recommendation."""
    out = []
    for f in findings:
        level = rule(f.check).level
        if level == RECOMMENDED and f.failed:
            f = dataclasses.replace(f, severity=WARN)
        if strict and f.severity == WARN and level != UNSEEN:
            f = dataclasses.replace(f, severity=FAIL, hint=(f.hint + " " if f.hint else "") +
                                    "(a recommendation, failed by --strict)")
        out.append(f)
    return out


# -- known behaviours of DANA's official SDKs, so a recommendation says when it is the SDK's, not the merchant's

@dataclass(frozen=True)
class SdkBehaviour:
    key: str
    check: str
    pattern: str         # searched in the finding's received + expected + where
    sdk: str             # name and version
    what: str
    fix: str             # the merchant's fix, or "nothing to do in your code"


NOTHING = "nothing to do in your code"
NODE = "dana-node 1.5.11"
SDK_BEHAVIOURS: tuple[SdkBehaviour, ...] = (
    SdkBehaviour("node-timestamp-zone", "X-TIMESTAMP", r"received '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-](?!07:00)\d\d:\d\d)'",
                 NODE, "stamps X-TIMESTAMP in the host's time zone (date-fns-tz format ...XXX: 'Z' on a UTC host)",
                 "run the backend with TZ=Asia/Jakarta (no code change)"),
    SdkBehaviour("node-channel-id", "headers", r"CHANNEL-ID of \d+ characters", NODE,
                 "sends CHANNEL-ID as partnerId + '-SERVER', longer than the documented 5", NOTHING),
    SdkBehaviour("node-apply-token-partner", "headers", r"missing X-PARTNER-ID", NODE,
                 "sends Apply Token with X-CLIENT-KEY and no X-PARTNER-ID", NOTHING),
    SdkBehaviour("node-oauth-millis", "timestamp format", r"\.\d{3}\+07:00", NODE,
                 "WidgetUtils.generateOauthUrl writes the bind timestamp with milliseconds", NOTHING),
    SdkBehaviour("node-seamless-twice", "seamlessSign encoding", r"URL-encoded twice", NODE,
                 "generateSeamlessSign URL-encodes the signature and generateOauthUrl encodes it again", NOTHING),
    SdkBehaviour("node-state-uuid", "state length", r"\b36\b", NODE,
                 "generateOauthUrl uses a dashed UUID (36 characters) when no state is given",
                 "pass your own state of at most 32 characters (e.g. crypto.randomBytes(16).toString('hex'))"),
    SdkBehaviour("parser-no-window", "webhook freshness", r".", "dana-node 1.5.11 and dana-python 2.2.2",
                 "WebhookParser verifies the signature only, with no X-TIMESTAMP window",
                 "optional: refuse an X-TIMESTAMP older than a few minutes before parsing"),
)


def sdk_behaviour(f: Finding) -> SdkBehaviour | None:
    text = f"received {f.received} {f.expected} {f.where}"
    return next((b for b in SDK_BEHAVIOURS if b.check == f.check and re.search(b.pattern, text)), None)
