"""A bounded retry of a scenario after a transient failure of DANA's side, and what an outage that outlives it is.

DANA's own UAT runner retries any failed test up to 5 times against its sometimes flaky sandbox. We retry
only what is DANA's flakiness: a transport error, an HTTP 5xx the step did not expect (from an API or a hosted
page), a 429 Too Many Requests, or a hosted page that never finished loading; and only a bounded number of times; a failed assertion is never retried
(design.md: a retry only where DANA documents the flakiness, reported as a retry). Before each retry the
scenario waits: as long as ``Retry-After`` says after a 429 (at most ``MAX_WAIT``: a longer one is an outage for
this run), else an exponential backoff with jitter (``backoff``). Every retried attempt keeps its evidence and
is named, with its duration and the true length of the wait that followed it, in the final one. A transient
failure that outlives its retries is ``UNAVAILABLE``: DANA's, never a finding about the merchant's integration,
with its own exit code (``EXIT_UNAVAILABLE``).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

# Extra attempts per target kind. The embedded sandbox and a URL target are deterministic: no retry.
DEFAULT_RETRIES = {"sandbox": 2}
DEFAULT_BACKOFF = 1.0      # seconds: the first backoff waits 0.5-1 s, then 1-2 s, 2-4 s ... (DANA_UAT_RETRY_BACKOFF)
BACKOFF_CAP = 8.0          # seconds: no backoff step waits longer
MAX_WAIT = 30.0            # seconds: the longest wait before a retry; a longer Retry-After is an outage
UNAVAILABLE = "dana-unavailable"
EXIT_UNAVAILABLE = 3       # `dana-uat run` (and pytest) when DANA's outage, not a finding, stopped a scenario
# The checks whose failure may be DANA's side misbehaving; the received value says whether it was.
STATUS_CHECKS = ("status", "page status")


@dataclass(frozen=True)
class Transient:
    reason: str                           # e.g. "HTTP 503 where 200 was expected"
    retry_after: float | None = None      # seconds DANA asked for (a 429's Retry-After)

    @property
    def too_long(self) -> bool:
        return self.retry_after is not None and self.retry_after > MAX_WAIT


def retries_for(kind: str, configured: str | None) -> int:
    """DANA_UAT_RETRIES when set (validated by settings), else the target kind's default."""
    return int(configured) if configured not in (None, "") else DEFAULT_RETRIES.get(kind, 0)


def backoff_for(configured: str | None) -> float:
    """DANA_UAT_RETRY_BACKOFF when set (validated by settings), else DEFAULT_BACKOFF."""
    return float(configured) if configured not in (None, "") else DEFAULT_BACKOFF


def gives_up_as_unavailable(kind: str, allowed: int) -> bool:
    """Whether a transient failure left after the retries is DANA's outage: always against DANA; on the embedded
    sandbox or a URL target only when retries were asked for (a deterministic target's 5xx is its answer)."""
    return kind == "sandbox" or allowed > 0


def transient(outcome, events: list[dict] = ()) -> Transient | None:
    """Why the failed ``outcome`` (runner.ScenarioResult) is DANA's flakiness rather than a finding, or None.

    ``events`` are the attempt's recorded events: a 429's Retry-After is read from the failing exchange."""
    if outcome.status != "failed":
        return None
    for finding in outcome.failures:
        if finding.check == "transport":
            return Transient(f"transport error: {finding.received}")
        if finding.check == "page load":
            return Transient(f"a hosted page did not load: {finding.hint}")
        status = finding.received
        if finding.check in STATUS_CHECKS and isinstance(status, int) and (status >= 500 or status == 429):
            what = "page " if finding.check == "page status" else ""
            return Transient(f"{what}HTTP {status} where {finding.expected} was expected",
                             retry_after(events) if status == 429 else None)
    return None


def retry_after(events: list[dict]) -> float | None:
    """The Retry-After of the last 429 among ``events`` (an API exchange or a page), in seconds, or None."""
    for event in reversed(list(events)):
        if event.get("type") == "http" and (event.get("response") or {}).get("status") == 429:
            headers = {k.lower(): v for k, v in ((event["response"].get("headers")) or {}).items()}
            return parse_retry_after(headers.get("retry-after"))
        if event.get("type") == "page" and event.get("status") == 429:
            return parse_retry_after(event.get("retryAfter"))
    return None


def parse_retry_after(value) -> float | None:
    """RFC 9110: delay-seconds or an HTTP-date; None when absent or unreadable."""
    if value is None:
        return None
    text = str(value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def wait_before(retry: int, why: Transient, base: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``retry`` (1, 2, ...): Retry-After when DANA gave one, else
    exponential backoff with "equal jitter" (between half and all of base * 2^(retry-1), capped), so two
    clients that failed together do not come back together and a retry never follows at once."""
    if why.retry_after is not None:
        return min(why.retry_after, MAX_WAIT)
    step = min(BACKOFF_CAP, base * 2 ** (retry - 1))
    return (rng or random).uniform(step / 2, step)


def page_wait(retry: int, status: int, retry_after: str | None, base: float) -> float | None:
    """Seconds before a hosted page that answered ``status`` (5xx or 429) is loaded again, as an API call would
    wait; None when its Retry-After is beyond MAX_WAIT (the page is not loaded again: DANA is unavailable)."""
    why = Transient(f"page HTTP {status}", parse_retry_after(retry_after) if status == 429 else None)
    return None if why.too_long else wait_before(retry, why, base)


def pause(seconds: float) -> float:
    """Wait ``seconds`` (the retry's protocol: Retry-After or backoff, not a guess) and return the true wait in ms."""
    started = time.perf_counter()
    time.sleep(seconds)
    return round((time.perf_counter() - started) * 1000, 1)


def set_aside(evidence: Path, attempt: int, reason: str) -> dict:
    """Keep a retried attempt's evidence under its own name; return the record the final evidence carries."""
    kept = evidence.with_name(f"{evidence.stem}.attempt-{attempt}{evidence.suffix}")
    evidence.replace(kept)
    return {"attempt": attempt, "reason": reason, "evidence": kept.name}
