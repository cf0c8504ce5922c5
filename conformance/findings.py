"""Findings: what a check reports. FAIL fails the scenario; WARN is shown but does not fail."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

FAIL = "FAIL"
WARN = "WARN"


@dataclass(frozen=True)
class Finding:
    severity: str            # FAIL or WARN
    check: str               # short name of the check, e.g. "status", "responseCode", "seamlessSign"
    expected: Any
    received: Any
    hint: str = ""           # likely cause and what to fix
    where: str = ""          # step or field the finding is about

    @property
    def failed(self) -> bool:
        return self.severity == FAIL

    def message(self) -> str:
        place = f"{self.where}: " if self.where else ""
        text = f"{place}{self.check}: expected {self.expected!r}, received {self.received!r}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def to_dict(self) -> dict:
        return asdict(self)


def fail(check: str, expected: Any, received: Any, hint: str = "", where: str = "") -> Finding:
    return Finding(FAIL, check, expected, received, hint, where)


def warn(check: str, expected: Any, received: Any, hint: str = "", where: str = "") -> Finding:
    return Finding(WARN, check, expected, received, hint, where)
