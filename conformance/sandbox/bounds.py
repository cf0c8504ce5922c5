"""What the sandbox keeps per request, and the cap on each (docs/sandbox.md, "Memory bounds").

A long-running ``dana-uat sandbox`` receives whatever a merchant's backend (or a fuzzer) sends: every store
that grows with requests keeps at most its cap here and forgets its oldest entries first, so memory stays
flat under a soak (bench/soak.py measures it). The caps are far above one merchant's UAT session.
"""

from __future__ import annotations

from collections import OrderedDict

JOURNAL_ENTRIES = 5_000              # traffic journal: the newest entries ...
JOURNAL_BYTES = 8 * 1024 * 1024      # ... and at most this many recorded bytes (bodies, headers, answers)
JOURNAL_REMEMBERED = 50_000          # journal's uniqueness checks: references, and X-EXTERNAL-IDs, each
EXTERNAL_IDS = 50_000                # the pipeline's same-day X-EXTERNAL-ID register (409xx00 Conflict)
ORDERS = 10_000                      # orders, with their idempotency and virtual-account indexes
REFUNDS = 10_000
AUTH_CODES = 10_000
OTTS = 10_000
TOKENS = 10_000                      # access tokens, and refresh tokens, each
DELIVERIES = 5_000                   # Finish Notify deliveries listed by /sandbox-admin/notifications
# Page sessions: conformance/sandbox/web.py MAX_SESSIONS (5,000, 30 minutes).


class BoundedDict(OrderedDict):
    """A dict that forgets its oldest keys (by first insertion) beyond ``cap``; O(1) per insertion."""

    def __init__(self, cap: int):
        super().__init__()
        self.cap = cap

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        while len(self) > self.cap:
            self.popitem(last=False)
