"""Magic request values -> outcomes, read from the one data table ``magic.yaml``.

``Rules.match(api_name, body)`` returns the first ``Outcome`` whose field value matches, in the
order the table lists the fields; ``Rules.role_outcome(role, api_name)`` gives the outcome of a
customer token whose user has a special role. Codes become SNAP bodies through conformance.snap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from conformance.snap.codes import ResponseCode, lookup_code

MAGIC_FILE = Path(__file__).with_name("magic.yaml")

# Side effects a magic value may ask for (the handlers implement them).
EFFECTS = {
    "none": "no special behaviour; the entry documents a scenario that needs none",
    "stay_paying": "the order is created in PAYING instead of INIT",
}


@dataclass(frozen=True)
class Outcome:
    code: str | None = None
    message: str | None = None
    effect: str = "none"
    note: str = ""

    def response(self) -> ResponseCode:
        found = lookup_code(self.code or "")
        if found is None:
            raise ValueError(f"magic.yaml: {self.code!r} is not a known SNAP code")
        if self.message:
            return ResponseCode(found.code, found.http_status, found.service, found.case,
                                self.message, found.meaning, found.hint)
        return found


def _get(body: object, path: str) -> object:
    for part in path.split("."):
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body


def _outcome(raw: dict | str) -> Outcome:
    if isinstance(raw, str):
        return Outcome(code=raw)
    effect = raw.get("effect", "none")
    if effect not in EFFECTS:
        raise ValueError(f"magic.yaml: unknown effect {effect!r}; known: {', '.join(EFFECTS)}")
    return Outcome(raw.get("code"), raw.get("message"), effect, raw.get("note", ""))


def _without_embedded_only(table: dict) -> dict:
    def keep(raw) -> bool:
        return not (isinstance(raw, dict) and raw.get("embedded_only"))

    return {**table,
            "apis": {api: {path: {v: raw for v, raw in values.items() if keep(raw)} for path, values in fields.items()}
                     for api, fields in (table.get("apis") or {}).items()},
            "users": [row for row in table.get("users") or [] if keep(row)],
            "roles": {role: {api: raw for api, raw in (apis or {}).items() if keep(raw)}
                      for role, apis in (table.get("roles") or {}).items()}}


class Rules:
    def __init__(self, table: dict):
        self.apis: dict[str, dict[str, dict[str, Outcome]]] = {
            api: {path: {str(value): _outcome(raw) for value, raw in values.items()}
                  for path, values in (fields or {}).items()}
            for api, fields in (table.get("apis") or {}).items()}
        self.users: list[dict] = list(table.get("users") or [])
        self.roles: dict[str, dict[str, Outcome]] = {
            role: {api: _outcome(raw) for api, raw in (apis or {}).items()}
            for role, apis in (table.get("roles") or {}).items()}
        for outcome in self.all_outcomes():
            if outcome.code:
                outcome.response()          # fail at start-up, not per request

    @classmethod
    def load(cls, path: Path | None = None, *, as_dana: bool = False) -> "Rules":
        """The table; ``as_dana`` (the DANA twin) drops the rows marked ``embedded_only``: triggers that are
        the embedded sandbox's own choice, which DANA's real sandbox does not have."""
        with open(path or MAGIC_FILE, encoding="utf-8") as handle:
            table = yaml.safe_load(handle) or {}
        return cls(_without_embedded_only(table) if as_dana else table)

    def all_outcomes(self):
        for fields in self.apis.values():
            for values in fields.values():
                yield from values.values()
        for apis in self.roles.values():
            yield from apis.values()

    def match(self, api_name: str, body: object) -> Outcome | None:
        for path, values in self.apis.get(api_name, {}).items():
            value = _get(body, path)
            if isinstance(value, str) and value in values:
                return values[value]
        return None

    def role_outcome(self, role: str, api_name: str) -> Outcome | None:
        return self.roles.get(role, {}).get(api_name)

    def table(self) -> list[dict]:
        """Flat rows for documentation and the admin API."""
        rows = [{"api": api, "field": path, "value": value, "code": o.code, "effect": o.effect,
                 "note": o.note}
                for api, fields in self.apis.items() for path, values in fields.items()
                for value, o in values.items()]
        rows += [{"api": api, "field": "customer token of role", "value": role, "code": o.code,
                  "effect": o.effect, "note": o.message or ""}
                 for role, apis in self.roles.items() for api, o in apis.items()]
        return rows
