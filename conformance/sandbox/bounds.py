"""What the sandbox keeps per request, and the cap on each (docs/sandbox.md, "Memory bounds").

A long-running ``dana-uat sandbox`` receives whatever a merchant's backend (or a fuzzer) sends: every store
that grows with requests keeps at most its cap here and forgets its oldest entries first, so memory stays
flat under a soak (bench/soak.py measures it). The caps are far above one merchant's UAT session.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

JOURNAL_ENTRIES = 5_000              # traffic journal: the newest entries ...
JOURNAL_BYTES = 16 * 1024 * 1024     # ... within this many bytes of their JSON (kept as bytes)
JOURNAL_REMEMBERED = 10_000          # journal's uniqueness checks: references, and X-EXTERNAL-IDs, each
EXTERNAL_IDS = 10_000                # the pipeline's same-day X-EXTERNAL-ID register (409xx00 Conflict)
ORDERS = 5_000                       # orders, with their idempotency and virtual-account indexes
REFUNDS = 5_000
AUTH_CODES = 5_000
OTTS = 5_000
TOKENS = 5_000                       # access tokens, and refresh tokens, each
DELIVERIES = 5_000                   # Finish Notify deliveries listed by /sandbox-admin/notifications
# Page sessions: conformance/sandbox/web.py MAX_SESSIONS (5,000, 30 minutes); the record of injected faults:
# conformance/sandbox/faults.py RECORD_LIMIT (100,000).


class BoundedDict(OrderedDict):
    """A dict that forgets its oldest keys (by first insertion) beyond ``cap``; O(1) per insertion.
    ``on_evict(key, value)`` hears of each one forgotten (the store drops it from its state file)."""

    def __init__(self, cap: int, on_evict: Callable[[object, object], None] | None = None):
        super().__init__()
        self.cap, self.on_evict = cap, on_evict

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        while len(self) > self.cap:
            old_key, old_value = self.popitem(last=False)
            if self.on_evict is not None:
                self.on_evict(old_key, old_value)
