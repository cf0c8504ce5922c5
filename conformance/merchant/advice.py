"""Recommendations grouped by check and cause: one line each, with its count and an example request, and the
official SDK behaviour behind it when it is one (policy.SDK_BEHAVIOURS), so a correct merchant's run fits on
one screen however many requests repeat the same SDK habit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from conformance.findings import Finding
from conformance.merchant import policy


@dataclass
class Group:
    check: str
    cause: str            # the SDK behaviour, or the finding's hint (what to do)
    fix: str
    count: int
    example: str          # scenario and step of the first occurrence
    sdk: str = ""

    def line(self) -> str:
        said = f"{self.sdk} {self.cause}" if self.sdk else self.cause
        return f"WARN {self.check} x{self.count}: {said}; fix: {self.fix} (e.g. {self.example})"

    def to_dict(self) -> dict:
        return {"check": self.check, "cause": self.cause, "fix": self.fix, "count": self.count,
                "example": self.example, "sdk": self.sdk, "part": policy.rule(self.check).part}


def _finding(d: dict) -> Finding:
    return Finding(d.get("severity", "WARN"), d.get("check", ""), d.get("expected", ""), d.get("received", ""),
                   d.get("hint", ""), d.get("where", ""))


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.;])\s", text.strip(), maxsplit=1)[0].rstrip(".;") if text else ""


def _short(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def group(recommendations: list[dict]) -> list[Group]:
    """``recommendations``: finding dicts with their ``scenario``; one Group per (check, cause), first seen first."""
    groups: dict[tuple[str, str], Group] = {}
    for d in recommendations:
        f = _finding(d)
        known = policy.sdk_behaviour(f)
        if known is not None:
            key, cause, fix, sdk = known.key, known.what, known.fix, known.sdk
        else:
            fix = _first_sentence(f.hint) or "see the finding"
            cause = _short(f"expected {f.expected}, received {f.received}")
            key, sdk = fix, ""
        found = groups.get((f.check, key))
        if found is None:
            groups[(f.check, key)] = Group(f.check, cause, fix, 1, f"{d.get('scenario', '')} {f.where}".strip(), sdk)
        else:
            found.count += 1
    return list(groups.values())


def recommendation_groups(results: list[dict]) -> list[Group]:
    """The run's recommendations (WARN findings merchant mode can act on), grouped."""
    return group([{"scenario": r["scenario"], **f} for r in results for f in r.get("findings") or []
                  if f.get("severity") == "WARN" and policy.rule(f.get("check", "")).level != policy.UNSEEN])


# -- the report's first screen: each check of each part of the merchant's backend, with its outcome ---------

_ALL = r"merchant_"
_PAYS = r"merchant_(pay|reference|webhook|refund|cancel)"
# The checks shown per part, each with the merchant scenarios (id pattern) that exercise it.
ROWS: tuple[tuple[str, str], ...] = (
    ("bind URL", _ALL), ("redirect URL", _ALL),
    ("Apply Token", r"merchant_(?!forged)"), ("forged callback", r"merchant_forged_callback"),
    ("replayed callback", r"merchant_replayed_callback"),
    ("Direct Debit Payment", _PAYS), ("Apply OTT", _PAYS), ("payment start", _PAYS),
    ("partnerReferenceNo", r"merchant_reference_reuse"), ("Refund Order", r"merchant_refund"),
    ("Cancel Order", r"merchant_cancel"),
    ("acknowledgement", r"merchant_(pay_through|webhook_valid|webhook_duplicate)"),
    ("webhook verification", r"merchant_webhook_(tampered|other_key|missing|malformed)"),
    ("webhook freshness", r"merchant_webhook_stale"),
    ("order unchanged", r"merchant_webhook_(tampered|other_key|missing|malformed|stale)"),
    ("order updated", r"merchant_webhook_valid"), ("duplicate applied once", r"merchant_webhook_duplicate"),
    ("signature", _ALL), ("X-TIMESTAMP", _ALL), ("clock skew", _ALL), ("headers", _ALL), ("schema", _PAYS),
    ("X-EXTERNAL-ID", _PAYS), ("validUpTo", _PAYS), ("amount", _PAYS), ("urlParams", _PAYS),
    ("order paid", r"merchant_pay_through"), ("merchant answer", _ALL),
)
# bind-URL linter checks are one row, "bind URL"
_BIND_LINT = {c for c, r in policy.RULES.items() if r.part == "bind start"} - {"redirect URL"}


def _row_of(check: str) -> str:
    return "bind URL" if check in _BIND_LINT else check


def merchant_parts(results: list[dict]) -> list[dict]:
    """One row per check: its part, outcome (FAIL, WARN, PASS, not covered, not reached), how many findings,
    the first finding's text or why it was not covered, and the source that makes it required."""
    merchant = [r for r in results if r["scenario"].startswith("merchant_")]
    found: dict[str, list[dict]] = {}
    for r in merchant:
        for f in r.get("findings") or []:
            found.setdefault(_row_of(f.get("check", "")), []).append({"scenario": r["scenario"], **f})
    known = [c for c, _ in ROWS]
    rows = [(c, p) for c, p in ROWS] + [(c, _ALL) for c in found if c not in known]
    out = []
    for check, pattern in rows:
        rule = policy.rule(check)
        mine = [r for r in merchant if re.match(pattern, r["scenario"])]
        findings = found.get(check, [])
        fails = [f for f in findings if f.get("severity") == "FAIL"]
        if fails:
            outcome, first = "FAIL", fails[0]
        elif findings:
            first = findings[0]
            outcome = "not covered" if rule.level == policy.UNSEEN else "WARN"
        elif not mine or all(r["outcome"] == "skipped" for r in mine):
            reasons = {r.get("skipReason") for r in mine if r.get("skipReason")}
            outcome, first = "not covered", {"why": next(iter(reasons), "no merchant scenario selected for it")}
        elif any(r["outcome"] == "passed" for r in mine):
            outcome, first = "PASS", {}
        else:
            outcome, first = "not reached", {"why": "its scenarios failed on another check first"}
        detail = first.get("why") or (f"{first['scenario']}: expected {first.get('expected')}, received "
                                      f"{first.get('received')}" if first else "")
        out.append({"part": "bind start" if check == "bind URL" else rule.part, "check": check, "outcome": outcome,
                    "count": len(findings), "detail": _short(detail, 200), "hint": first.get("hint", ""),
                    "basis": rule.basis if rule.level != policy.GRADED else rule.basis + " (FAIL or WARN as graded)"})
    order = {p: i for i, p in enumerate(policy.PARTS)}
    return sorted(out, key=lambda row: order.get(row["part"], len(order)))


def part_lines(rows: list[dict]) -> list[str]:
    """The per-part table in one line per part, for the console (the report shows every row)."""
    lines = []
    for part in dict.fromkeys(r["part"] for r in rows):
        mine = [r for r in rows if r["part"] == part]
        tally = {o: [r["check"] for r in mine if r["outcome"] == o]
                 for o in ("FAIL", "WARN", "PASS", "not covered", "not reached")}
        said = [f"{len(tally['PASS'])} passed"] if tally["PASS"] else []
        said += [f"{o} {', '.join(checks)}" for o, checks in tally.items() if checks and o != "PASS"]
        lines.append(f"{part}: " + "; ".join(said))
    return lines


def verdict(rows: list[dict]) -> str:
    count = {o: sum(1 for r in rows if r["outcome"] == o) for o in ("PASS", "FAIL", "WARN", "not covered")}
    return (f"merchant mode: {count['PASS']} checks passed, {count['FAIL']} failed, {count['WARN']} with "
            f"recommendations, {count['not covered']} not covered; a test of your backend, not UAT evidence for "
            "DANA (no bundle)")
