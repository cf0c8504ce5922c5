"""Redaction at record time: secrets never reach disk in full (design.md "Principles").

Masked: values of secret fields anywhere in bodies (accessToken, refreshToken, ott, authCode, client
secret, private keys), the same names as URL query parameters, ``Authorization-Customer``, the
client-secret header the Python SDK leaks ([sdk-header]), PEM private keys anywhere,
and any literal secret the Redactor has been told about or has seen in an earlier response.
A masked value keeps its first 4 characters and its length, so a reviewer can still correlate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SECRET_FIELDS = frozenset(k.lower() for k in (
    "accessToken", "refreshToken", "ott", "authCode", "auth_code", "clientSecret", "client_secret",
    "privateKey", "private_key", "password", "seamlessToken", "access_token", "refresh_token",
))
SECRET_HEADERS = frozenset(("authorization-customer", "authorization", "clientsecret", "client_secret",
                            "client-secret", "cookie"))
SIGNATURE_HEADERS = frozenset(("x-signature",))
PEM_PRIVATE = re.compile(r"-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----.*?-----END (?:RSA |EC |ENCRYPTED )?"
                         r"PRIVATE KEY-----", re.S)
BEARER = re.compile(r"(Bearer\s+)([^\s\"',;]+)")
# A secret field written out in free text: `accessToken=…`, `"ott": "…"`, `'authCode': '…'` (failure text,
# query strings outside a URL, JSON or Python reprs inside a trace).
_NAMES = "|".join(sorted({"accessToken", "refreshToken", "ott", "authCode", "auth_code", "clientSecret",
                          "client_secret", "privateKey", "private_key", "seamlessToken", "access_token",
                          "refresh_token"}, key=len, reverse=True))
# The name stands alone: `apply_ott: status: expected 200` names an API and a check, not an OTT (the underscore
# before `ott` made "status" look like its value).
FIELD_TEXT = re.compile(r"(?i)(?<![A-Za-z0-9_])(%s)([\"']?\s*[:=]\s*[\"']?)(?!expected|received)"
                        r"([A-Za-z0-9._~+/=\-]{6,})" % _NAMES)
# A short word of letters alone ("status", "SUCCESS", "Bearer") is a word of the protocol, never a token: DANA's
# tokens, codes and OTTs are long and mix digits in. Neither learned nor masked as a value.
ORDINARY_WORD = re.compile(r"[A-Za-z]{1,12}")


def secret_like(value: str) -> bool:
    """Whether ``value`` may be a secret worth masking wherever it appears (not a short ordinary word)."""
    return len(value) >= 6 and not ORDINARY_WORD.fullmatch(value)


def mask(value: Any) -> str:
    text = str(value)
    head = text[:4] if len(text) > 8 else ""
    return f"{head}…[redacted {len(text)} chars]"


def mask_signature(value: str) -> str:
    return f"{value[:12]}…[{len(value)} chars]" if len(value) > 12 else value


class Redactor:
    """Redacts structures and text; learns token values it sees so they are masked everywhere."""

    def __init__(self, secrets: Iterable[str] = ()):
        self.secrets: set[str] = {s for s in secrets if s and len(s) >= 6}     # told: masked whatever they are

    def learn(self, value: Any) -> None:
        if isinstance(value, str) and secret_like(value):
            self.secrets.add(value)

    # -- text ------------------------------------------------------------------------------------

    def text(self, value: str) -> str:
        value = PEM_PRIVATE.sub("[redacted private key]", value)
        value = BEARER.sub(lambda m: m.group(1) + (m.group(2) if "redacted" in m.group(2) else mask(m.group(2))),
                           value)
        for secret in sorted(self.secrets, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, mask(secret))
        value = FIELD_TEXT.sub(lambda m: m.group(0) if not secret_like(m.group(3))
                               else m.group(1) + m.group(2) + mask(m.group(3)), value)
        if "://" in value and "?" in value and " " not in value.strip():
            value = self.url(value)
        return value

    def finding(self, f: dict) -> dict:
        """A finding about a secret field (``where`` or ``check`` ends in one) masks both sides whole."""
        about = str(f.get("where") or f.get("check") or "").replace("[", ".").split(".")[-1].strip("]' ").lower()
        if about in SECRET_FIELDS:
            f = {**f, **{k: mask(f[k]) for k in ("expected", "received") if isinstance(f.get(k), str) and f[k]}}
        return self.data(f)

    def url(self, value: str) -> str:
        try:
            parts = urlsplit(value)
        except ValueError:
            return value
        if not parts.query:
            return value
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if not any(k.lower() in SECRET_FIELDS for k, _ in pairs):
            return value
        cleaned = [(k, mask(v) if k.lower() in SECRET_FIELDS else v) for k, v in pairs]
        return urlunsplit(parts._replace(query=urlencode(cleaned, safe="…[]")))

    # -- structures ------------------------------------------------------------------------------

    def data(self, value: Any) -> Any:
        """A redacted copy of a JSON-like value."""
        if isinstance(value, Mapping):
            out = {}
            for k, v in value.items():
                if isinstance(k, str) and k.lower() in SECRET_FIELDS and isinstance(v, (str, int)):
                    self.learn(str(v))
                    out[k] = mask(v)
                elif isinstance(k, str) and k.lower() == "userresources" and isinstance(v, list):
                    out[k] = [self._resource(r) for r in v]
                else:
                    out[k] = self.data(v)
            return out
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def _resource(self, item: Any) -> Any:
        """Apply OTT answers {resourceType: OTT, value: <ott>}: the value is the secret."""
        if isinstance(item, Mapping) and str(item.get("resourceType", "")).upper() == "OTT" and "value" in item:
            self.learn(str(item["value"]))
            return {**self.data({k: v for k, v in item.items() if k != "value"}), "value": mask(item["value"])}
        return self.data(item)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        out = {}
        for name, value in headers.items():
            low = name.lower()
            if low in SIGNATURE_HEADERS:
                out[name] = mask_signature(str(value))
            elif low in SECRET_HEADERS:
                token = str(value).removeprefix("Bearer ").strip()
                self.learn(token)
                out[name] = ("Bearer " if str(value).startswith("Bearer ") else "") + mask(token)
            else:
                out[name] = self.text(str(value))
        return out

    def body(self, raw: bytes | str | None) -> Any:
        """A recorded body: parsed JSON redacted as a structure, otherwise redacted text."""
        if raw is None or raw == b"" or raw == "":
            return None
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        try:
            return {"json": self.data(json.loads(text))}
        except ValueError:
            return {"text": self.text(text)}


def redact(obj: Any, secrets: Iterable[str] = ()) -> Any:
    """Redact a JSON-like value or a string in one call."""
    return Redactor(secrets).data(obj)
