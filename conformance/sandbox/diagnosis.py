"""Why a merchant's X-SIGNATURE does not verify: the usual mistakes, tried one by one.

RSA PKCS#1 v1.5 lets the verifier recover the SHA-256 digest a signature was made over, with the
public key that made it. So one public-key operation tells "another key" (nothing recovers) from
"the right key over another string" (a digest recovers), and the digest is then compared with the
strings the usual mistakes produce: a non-minified or pretty-printed body, a body re-serialised
after signing (key order, escaping), the wrong path, the Apply Token formula on the wrong API.
Each mistake is one row of a table; the first row whose string matches names the diagnosis.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from conformance.snap.apis import APIS
from conformance.snap.signature import apply_token_string_to_sign, decode_signature, minify, string_to_sign

MAX_DIAGNOSED_BODY = 64 * 1024     # larger bodies only get "does not verify", never the retries


@dataclass(frozen=True)
class Signed:
    """What the sandbox received, as far as the signature is concerned."""
    apply_token: bool
    path: str
    raw: bytes
    timestamp: str
    client_id: str
    partner_id: str              # X-PARTNER-ID (may differ from X-CLIENT-KEY on Apply Token)
    base_url: str = ""


@dataclass(frozen=True)
class Diagnosis:
    ok: bool
    message: str                 # "expected ..., received ..."
    hint: str = ""


def expected_string(s: Signed) -> str:
    if s.apply_token:
        return apply_token_string_to_sign(s.client_id, s.timestamp)
    return string_to_sign("POST", s.path, s.raw, s.timestamp)


def _recover(key: rsa.RSAPublicKey, signature: bytes) -> bytes | None:
    try:
        return key.recover_data_from_signature(signature, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return None


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def _ordinary(s: Signed, body: str | bytes, path: str | None = None, method: str = "POST") -> str:
    # string_to_sign upper-cases the method; a lower-case one is a mistake worth recognising.
    return string_to_sign("POST", path or s.path, body, s.timestamp).replace("POST", method, 1)


def _hashed_as_is(s: Signed, body: bytes) -> str:
    """The string to sign with the body hashed byte for byte, without minifying."""
    return f"POST:{s.path}:{hashlib.sha256(body).hexdigest()}:{s.timestamp}"


# (diagnosis, hint, producer of (candidate string, detail)). Apply Token has its own rows.
Mistake = tuple[str, str, Callable[[Signed, object], Iterator[tuple[str, str]]]]

PRETTY_HINT = ("Hash the minified body: JSON without whitespace outside strings, e.g. Python "
               "json.dumps(body, separators=(',', ':')); DANA minifies what it receives before hashing.")
REWRITE_HINT = ("Sign the exact bytes you send: serialise the body once, sign that text and send the same "
                "text (post it as content/data, not as a dict the HTTP client serialises again).")
PATH_HINT = ("Sign the path only, starting with '/', without scheme, host or query: e.g. "
             "POST:/rest/redirection/v1.0/debit/payment-host-to-host:<hash>:<X-TIMESTAMP>.")


def _pretty(s: Signed, parsed: object) -> Iterator[tuple[str, str]]:
    if minify(s.raw) != s.raw:
        yield _hashed_as_is(s, s.raw), "the body as sent, whitespace included"
    if parsed is not None:
        for indent in (None, 2, 4):
            for ascii_only in (True, False):
                text = json.dumps(parsed, indent=indent, ensure_ascii=ascii_only)
                yield _hashed_as_is(s, text.encode("utf-8")), f"indent {indent}" if indent else "', ' and ': '"


def _rewritten(s: Signed, parsed: object) -> Iterator[tuple[str, str]]:
    if parsed is not None:
        for sort in (False, True):
            for ascii_only in (True, False):
                text = json.dumps(parsed, separators=(",", ":"), sort_keys=sort, ensure_ascii=ascii_only)
                yield _ordinary(s, text), "keys sorted" if sort else ""


def _empty(s: Signed, parsed: object) -> Iterator[tuple[str, str]]:
    yield _ordinary(s, b""), ""
    yield _ordinary(s, b"{}"), ""


def _paths(s: Signed, parsed: object) -> Iterator[tuple[str, str]]:
    candidates = [s.base_url.rstrip("/") + s.path] if s.base_url else []
    candidates += [s.path.lstrip("/"), s.path + "/"]
    # SNAP's generic paths without DANA's /rest[/redirection] prefix; each with or without ".htm".
    stripped = [s.path[len(p):] for p in ("/rest/redirection", "/rest") if s.path.startswith(p + "/")][:1]
    for path in (s.path, *stripped):
        candidates.append(path.removesuffix(".htm") if path.endswith(".htm") else path + ".htm")
    candidates += stripped
    candidates += [other for api in APIS.values() for other in api.paths if other != s.path]
    for path in candidates:
        yield _ordinary(s, s.raw, path=path), f"{path!r} instead of {s.path!r}"


def _method(s: Signed, parsed: object) -> Iterator[tuple[str, str]]:
    yield _ordinary(s, s.raw, method="post"), ""


def _token_formula(s: Signed, parsed: object) -> Iterator[tuple[str, str]]:
    yield apply_token_string_to_sign(s.partner_id or s.client_id, s.timestamp), ""


ORDINARY_MISTAKES: tuple[Mistake, ...] = (
    ("over a non-minified (pretty) body", PRETTY_HINT, _pretty),
    ("over the body as it was before being re-serialised for sending (key order or escaping changed)",
     REWRITE_HINT, _rewritten),
    ("over an empty body", "Hash the request body you send, after serialising it.", _empty),
    ("over the wrong path", PATH_HINT, _paths),
    ("with a lower-case method", "The method is upper case: POST.", _method),
    ("of the Apply Token formula clientId|X-TIMESTAMP on an ordinary API",
     "Only Apply Token signs clientId|X-TIMESTAMP; every other API signs POST:path:sha256(body):X-TIMESTAMP.",
     _token_formula),
)


def _token_ordinary(s: Signed, parsed: object) -> Iterator[tuple[str, str]]:
    yield _ordinary(s, s.raw), ""
    yield _hashed_as_is(s, s.raw), ""


def _token_partner(s: Signed, parsed: object) -> Iterator[tuple[str, str]]:
    if s.partner_id and s.partner_id != s.client_id:
        yield apply_token_string_to_sign(s.partner_id, s.timestamp), ""


APPLY_TOKEN_MISTAKES: tuple[Mistake, ...] = (
    ("of the ordinary formula POST:path:sha256(body):X-TIMESTAMP on Apply Token",
     "Apply Token signs clientId|X-TIMESTAMP, with no body.", _token_ordinary),
    ("of X-PARTNER-ID|X-TIMESTAMP, and X-PARTNER-ID differs from X-CLIENT-KEY",
     "Send the same clientId in X-CLIENT-KEY and X-PARTNER-ID.", _token_partner),
)


def _parsed(raw: bytes) -> object:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def diagnose(s: Signed, signature: str, key: rsa.RSAPublicKey, partner: str,
             other_keys: Mapping[str, rsa.RSAPublicKey]) -> Diagnosis:
    """Grade ``signature`` against the registered ``key``; name the mistake when it does not verify."""
    wanted = expected_string(s)
    expected = f"a SHA256withRSA signature of {wanted!r} by the key registered for {partner}"
    raw_signature = decode_signature(signature.strip())
    if raw_signature is None:
        urlsafe = any(c in signature for c in "-_")
        return Diagnosis(False, f"expected {expected}, received a value that is not standard Base64",
                         "Use standard Base64 (+ and /, = padding), not URL-safe Base64." if urlsafe else
                         "X-SIGNATURE is Base64(SHA256withRSA(string to sign)), one line.")
    size = key.key_size // 8
    if len(raw_signature) != size:
        return Diagnosis(False, f"expected {expected} ({size} bytes), received a {len(raw_signature)}-byte value",
                         "A hex digest or a signature by a key of another size is not it; sign with the "
                         "private key whose public key is registered.")
    digest = _recover(key, raw_signature)
    if digest is None:
        for label, other in other_keys.items():
            if other.key_size // 8 == size and _recover(other, raw_signature) is not None:
                return Diagnosis(False, f"expected {expected}, received a signature by {label}",
                                 "Sign with your own merchant private key.")
        return Diagnosis(False, f"expected {expected}, received a signature by a key other than the one "
                         f"registered for {partner}",
                         "Register the public key of the private key your backend signs with "
                         "(PRIVATE_KEY / PRIVATE_KEY_PATH), or sign with the key whose public key you uploaded.")
    if digest == _digest(wanted):
        return Diagnosis(True, "")
    if len(s.raw) <= MAX_DIAGNOSED_BODY:
        parsed = _parsed(s.raw) if not s.apply_token else None
        for name, hint, produce in (APPLY_TOKEN_MISTAKES if s.apply_token else ORDINARY_MISTAKES):
            for text, detail in produce(s, parsed):
                if _digest(text) == digest:
                    said = f"{name} ({detail})" if detail else name
                    return Diagnosis(False, f"expected {expected}, received a signature {said}", hint)
    return Diagnosis(False, f"expected {expected}, received a signature by the registered key over another "
                     "string (not one of the usual mistakes: check the timestamp signed equals X-TIMESTAMP)",
                     "Log your string to sign and compare it with the expected one, part by part.")
