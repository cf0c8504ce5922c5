"""``${...}`` expressions in scenario files.

Names (documented in docs/scenarios.md; validated at collection time):

  ${ref}                 the scenario's partnerReferenceNo: fresh per scenario, the same within it
  ${uuid}                a fresh UUID4 at each use
  ${now}                 the target's current Jakarta time, YYYY-MM-DDTHH:mm:ss+07:00
  ${now + 15m}           ... shifted by s, m, h or d (also ``-``); follows the embedded clock
  ${merchant.id}         merchant settings: id, partner_id, origin, channel_id
  ${settings.phone}      other settings: phone, pin, target
  ${receiver.notify_url} the suite's merchant-side receiver: notify_url, pay_return_url, redirect_url
  ${target.api_base}     where DANA is: api_base, web_base
  ${name}, ${name.a.b}   a value saved by an earlier step (``save:``), optionally a field inside it

A string that is exactly one expression keeps the value's type (a saved object stays an object);
otherwise the expression is written into the string. ``$${`` writes a literal ``${``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from conformance.snap.timestamps import format_timestamp

EXPRESSION = re.compile(r"(?<!\$)\$\{([^{}]*)\}")
NOW = re.compile(r"^now\s*(?:([+-])\s*(\d+)\s*([smhd]))?$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# Namespaced names and their allowed members; the context supplies their values.
NAMESPACES: dict[str, tuple[str, ...]] = {
    "merchant": ("id", "partner_id", "origin", "channel_id"),
    "settings": ("phone", "pin", "target"),
    "receiver": ("notify_url", "pay_return_url", "redirect_url"),
    "target": ("api_base", "web_base"),
}
BUILTINS = ("ref", "uuid", "now")
RESERVED = frozenset(BUILTINS) | frozenset(NAMESPACES)


class ExpressionError(ValueError):
    """An expression that cannot be understood or names something unknown."""


def new_reference() -> str:
    """A DANA-like partnerReferenceNo: a UUID4, as DANA's UAT scripts use ([uat-fixtures])."""
    return str(uuid.uuid4())


def find(text: str) -> list[str]:
    """The inner texts of the expressions in ``text``."""
    return [m.group(1).strip() for m in EXPRESSION.finditer(text)]


def check(inner: str, saved: set[str] | frozenset[str]) -> None:
    """Raise ExpressionError unless ``inner`` (the text inside ``${}``) is a known name."""
    if NOW.match(inner) or inner in ("ref", "uuid"):
        return
    if inner.startswith("now"):
        raise ExpressionError(f"${{{inner}}}: write the time as ${{now}}, ${{now + 15m}} or ${{now - 30s}} "
                              "(units s, m, h, d)")
    if not NAME.match(inner):
        raise ExpressionError(f"${{{inner}}} is not a name; expressions are names like ${{ref}} or ${{merchant.id}}")
    root, _, rest = inner.partition(".")
    if root in NAMESPACES:
        members = NAMESPACES[root]
        if rest not in members:
            raise ExpressionError(f"unknown name ${{{inner}}}; {root}.* has: {', '.join(members)}")
        return
    if root in BUILTINS:
        raise ExpressionError(f"${{{inner}}}: {root} has no fields")
    if root not in saved:
        known = ", ".join([*BUILTINS, *(f"{ns}.*" for ns in NAMESPACES)])
        saved_text = ", ".join(sorted(saved)) or "none yet"
        raise ExpressionError(f"unknown name ${{{inner}}}; known: {known}; saved by earlier steps: {saved_text}")


def names_in(value: object) -> list[str]:
    """Every expression (inner text) anywhere inside ``value``: strings, dict keys and values, lists."""
    out: list[str] = []
    if isinstance(value, str):
        out += find(value)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            out += names_in(k) + names_in(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            out += names_in(v)
    return out


@dataclass
class Context:
    """What expressions resolve against while a scenario runs."""

    ref: str = field(default_factory=new_reference)
    now: Callable[[], datetime] = field(default=lambda: datetime.now().astimezone())
    values: dict[str, Callable[[], object]] = field(default_factory=dict)   # "merchant.id" -> getter
    saved: dict[str, object] = field(default_factory=dict)

    def lookup(self, inner: str) -> object:
        inner = inner.strip()
        if inner == "ref":
            return self.ref
        if inner == "uuid":
            return str(uuid.uuid4())
        m = NOW.match(inner)
        if m:
            shift = 0 if not m.group(1) else int(m.group(2)) * UNITS[m.group(3)]
            return format_timestamp(self.now() + timedelta(seconds=-shift if m.group(1) == "-" else shift))
        if inner in self.values:
            value = self.values[inner]()
            if value is None:
                raise ExpressionError(f"${{{inner}}} has no value for this target")
            return value
        root, *path = inner.split(".")
        if root not in self.saved:
            raise ExpressionError(f"${{{inner}}}: nothing was saved under {root!r}")
        value = dig(self.saved[root], path, _MISSING)
        if value is _MISSING:
            raise ExpressionError(f"${{{inner}}}: the saved value has no {'.'.join(path)!r}")
        return value

    def render(self, value: object) -> object:
        """``value`` with every expression replaced; containers are copied, never changed."""
        if isinstance(value, str):
            whole = EXPRESSION.fullmatch(value)
            if whole:
                return self.lookup(whole.group(1))
            text = EXPRESSION.sub(lambda m: str(self.lookup(m.group(1))), value)
            return text.replace("$${", "${")
        if isinstance(value, Mapping):
            return {self.render(k): self.render(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.render(v) for v in value]
        return value


_MISSING = object()


def dig(value: Any, path: list[str], missing: Any = None) -> Any:
    """Follow ``path`` (field names, list indexes as digits) into mappings and lists; ``missing`` if absent."""
    for part in path:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return missing
    return value
