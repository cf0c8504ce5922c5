"""What DANA requires of a merchant's request beyond its schema, as tables: the facts the sandbox's
traffic graders (conformance/sandbox/grading.py) check. Pure data and pure functions, no I/O.

Sources (DANA's public ones): header lists of the DANA API reference pages and the SDKs'
``dana/utils/snap_header.py`` (dana-id/dana-python); the ``X-TIMESTAMP`` form of every API reference
page; the 15-minute ``validUpTo`` bound of dana-id/uat-script ``test/python/widget/payment_test.py``
("at most 15 minutes from now (API requirement)"); the urlParams types of dana-id/dana-python
``docs/widget/v1/Widget/UrlParam.md``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from conformance.snap.schemas import AMOUNT_PATTERN

# --- headers ------------------------------------------------------------------------------------
REQUIRED, DOCUMENTED = "required", "documented"     # missing: FAIL / WARN ("required" > "documented")

# Header family (conformance.snap.apis) -> (header, level). "required": DANA's reference lists it as
# mandatory for that API; "documented": listed by one revision or sent by the SDKs, not mandatory.
HEADER_PROFILES: dict[str, tuple[tuple[str, str], ...]] = {
    "apply_token": (("X-TIMESTAMP", REQUIRED), ("X-SIGNATURE", REQUIRED), ("X-CLIENT-KEY", REQUIRED),
                    ("X-PARTNER-ID", DOCUMENTED)),
    "b2b": (("X-TIMESTAMP", REQUIRED), ("X-SIGNATURE", REQUIRED), ("X-PARTNER-ID", REQUIRED),
            ("X-EXTERNAL-ID", REQUIRED), ("CHANNEL-ID", REQUIRED)),
    "b2b2c": (("X-TIMESTAMP", REQUIRED), ("X-SIGNATURE", REQUIRED), ("X-PARTNER-ID", REQUIRED),
              ("X-EXTERNAL-ID", REQUIRED), ("CHANNEL-ID", REQUIRED), ("Authorization-Customer", REQUIRED),
              ("X-DEVICE-ID", REQUIRED)),
}
# Documented maximum lengths (DANA API reference pages) -> (limit, level of a longer value). Only
# X-EXTERNAL-ID is refused by the sandbox too; CHANNEL-ID's 5 is exceeded by the Node and Java SDKs'
# "<partnerId>-SERVER", so a longer one is only a warning.
HEADER_MAX = {"X-EXTERNAL-ID": (36, REQUIRED), "X-PARTNER-ID": (36, DOCUMENTED), "CHANNEL-ID": (5, DOCUMENTED),
              "X-DEVICE-ID": (400, DOCUMENTED)}

# --- X-TIMESTAMP --------------------------------------------------------------------------------
# Documented: YYYY-MM-DDTHH:mm:ss+07:00 (25 characters). Accepted as well (graded WARN): any ISO-8601
# time with an explicit offset and optional fraction, because the Node SDK stamps the host zone
# ("...Z" on a UTC host) and its OAuth helper adds milliseconds. A space for "T" (DANA's own
# malformed-timestamp case), a missing offset or anything else is malformed.
ACCEPTED_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")
# No source publishes DANA's allowed clock skew; these bounds are the sandbox's choice.
SKEW_PASS = timedelta(seconds=60)
SKEW_WARN = timedelta(minutes=5)


def parse_any_offset(value: str) -> datetime | None:
    """An accepted X-TIMESTAMP as an aware datetime, or None when it is malformed."""
    if not ACCEPTED_TIMESTAMP.match(value or ""):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


# --- body rules ---------------------------------------------------------------------------------
VALID_UP_TO_MAX = timedelta(minutes=15)      # uat-script: "at most 15 minutes from now (API requirement)"
VALID_UP_TO_GRACE = timedelta(minutes=1)     # clock differences between the merchant and DANA
AMOUNT = re.compile(AMOUNT_PATTERN)          # Money.value: digits, a dot, two decimals, as a string
# API -> Money fields at the top of its body.
MONEY_FIELDS: dict[str, tuple[str, ...]] = {
    "widget_payment": ("amount",), "query_payment": ("amount",), "cancel_order": ("amount",),
    "refund_order": ("refundAmount",),
}
# urlParams types a Widget Payment must carry: PAY_RETURN is "mandatory" (SDK model doc); without
# NOTIFICATION DANA has nowhere to send Finish Notify.
URL_PARAM_TYPES = ("PAY_RETURN", "NOTIFICATION")

# API -> the merchant's reference that must be unique per merchant (SNAP idempotency keys; reusing one
# for another order is how two orders collide).
REFERENCE_FIELDS: dict[str, str] = {
    "widget_payment": "partnerReferenceNo", "refund_order": "partnerRefundNo",
    "balance_inquiry": "partnerReferenceNo", "account_unbinding": "partnerReferenceNo",
    "transaction_history_list": "partnerReferenceNo",
}
