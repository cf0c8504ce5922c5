"""OAuth binding facts both sides need: the scopes DANA knows, and why a seamlessSign is not valid.

The hosted binding page (sandbox) and the bind-URL linter (merchant side, conformance/client/binding.py) both
judge seamlessSign with ``seamless_sign_problem``, so it lives here, in the protocol layer.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.snap import signature

DEFAULT_SCOPES = ("CASHIER", "AGREEMENT_PAY", "QUERY_BALANCE", "DEFAULT_BASIC_PROFILE", "MINI_DANA")
KNOWN_SCOPES = frozenset(DEFAULT_SCOPES) | {"PUBLIC_ID"}

PYTHON_HELPER_HINT = (
    "this is a SHA-256 hex digest, not an RSA signature: the official Python helper "
    "Util.generate_seamless_sign silently returns exactly that when the private key is missing or "
    "unreadable ([sdk-header]); sign seamlessData with SHA256withRSA and Base64-encode it")


# Encodings DANA's own helpers produce and its scripts bind with (dana-node src/runtime.ts
# generateSeamlessSign encodes, then the URL builder encodes again; dana-go widget/v1/utils.go appends the
# Base64 raw): recognised, normalised and verified, and reported by the linter as WARN, not FAIL
# (docs/sandbox.md).
SIGN_ENCODINGS = {
    "twice": ("URL-encoded twice",
              "seamlessSign was percent-encoded twice ('+' became %252B), as DANA's Node SDK and Java UAT do; "
              "DANA's scripts bind with it, but encode the Base64 text exactly once ([sdk-util])"),
    "raw": ("not URL-encoded ('+' arrived as a space)",
            "seamlessSign was put in the URL as raw Base64, as DANA's Go SDK does; it verifies only once the "
            "spaces are read back as '+'. Percent-encode it once ([sdk-util])"),
}


def seamless_sign_encoding(sign_text: str, raw_sign: str | None = None) -> tuple[str, str | None]:
    """(the Base64 text, the tolerated encoding's key or None) of seamlessSign after one URL-decoding."""
    raw_sign = sign_text if raw_sign is None else raw_sign
    if "%25" in raw_sign.upper() or re.search(r"%[0-9A-Fa-f]{2}", sign_text):
        return unquote(sign_text), "twice"
    if " " in sign_text:
        return sign_text.replace(" ", "+"), "raw"
    return sign_text, None


def seamless_sign_problem(public_key: rsa.RSAPublicKey | None, seamless_data: str, sign_text: str,
                          raw_sign: str | None = None) -> tuple[str, str] | None:
    """Why ``sign_text`` (seamlessSign after one URL-decoding) is not a valid signature of ``seamless_data``.

    Returns ``(problem, hint)`` or None when it verifies, also in an encoding of SIGN_ENCODINGS (the
    linter WARNs about those). ``raw_sign`` is the undecoded text from the URL, used to recognise double
    encoding ([sdk-util]). The hosted pages use this too, so they bind what DANA binds.
    """
    sign_text, _ = seamless_sign_encoding(sign_text, raw_sign)
    if re.fullmatch(r"[0-9a-fA-F]{64}", sign_text):
        return "a 64-character hex digest", PYTHON_HELPER_HINT
    raw = signature.decode_signature(sign_text)
    if raw is None:
        return ("not standard Base64",
                "seamlessSign must be standard Base64 (alphabet + / and = padding) of the RSA signature")
    if public_key is None:
        return None
    if len(raw) != public_key.key_size // 8:
        return (f"{len(raw)} bytes after Base64-decoding, but the merchant key is {public_key.key_size} bits "
                f"({public_key.key_size // 8} bytes)",
                "the signature was made with a different key, or truncated; sign with the key whose public "
                "half is registered in the Merchant Portal")
    if not signature.verify(public_key, seamless_data, sign_text):
        return ("does not verify with the merchant public key over the received seamlessData text",
                "sign exactly the seamlessData string that goes into the URL (not a re-serialisation), "
                "SHA256withRSA with the key registered in the Merchant Portal ([sdk-util])")
    return None
