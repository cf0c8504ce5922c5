"""A bounded retry of a scenario after a transient failure of DANA's real sandbox.

DANA's own UAT runner retries any failed test up to 5 times against its sometimes flaky sandbox. We retry
only what is DANA's flakiness, a transport error or an HTTP 5xx the step did not expect, and only a bounded
number of times; a failed assertion is never retried (design.md: a retry only where DANA documents the
flakiness, reported as a retry). Every retried attempt keeps its evidence and is named in the final one.
"""

from __future__ import annotations

from pathlib import Path

# Extra attempts per target kind. The embedded sandbox and a URL target are deterministic: no retry.
DEFAULT_RETRIES = {"sandbox": 2}


def retries_for(kind: str, configured: str | None) -> int:
    """DANA_UAT_RETRIES when set (validated by settings), else the target kind's default."""
    return int(configured) if configured not in (None, "") else DEFAULT_RETRIES.get(kind, 0)


def transient(outcome) -> str | None:
    """Why the failed ``outcome`` (runner.ScenarioResult) is DANA's flakiness rather than a finding, or None."""
    if outcome.status != "failed":
        return None
    for finding in outcome.failures:
        if finding.check == "transport":
            return f"transport error: {finding.received}"
        if finding.check == "status" and isinstance(finding.received, int) and finding.received >= 500:
            return f"HTTP {finding.received} where {finding.expected} was expected"
    return None


def set_aside(evidence: Path, attempt: int, reason: str) -> dict:
    """Keep a retried attempt's evidence under its own name; return the record the final evidence carries."""
    kept = evidence.with_name(f"{evidence.stem}.attempt-{attempt}{evidence.suffix}")
    evidence.replace(kept)
    return {"attempt": attempt, "reason": reason, "evidence": kept.name}
