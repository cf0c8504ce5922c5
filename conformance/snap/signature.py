"""SNAP strings to sign, SHA256withRSA signing and verification, and body minification.

Minification ([sdk-header]): DANA hashes the received body after deleting whitespace
that lies outside JSON string literals, keeping key order, escapes and number spellings exactly as
received. Re-serialising parsed JSON is NOT equivalent (it changes ``\\u00e9`` vs ``é``, ``\\/``,
number spellings), so this works on the bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# A complete string literal (kept verbatim) or a run of JSON whitespace (dropped).
_STRING_OR_SPACE = re.compile(rb'("(?:[^"\\]|\\.)*")|[ \t\n\r]+', re.S)


def minify(body: str | bytes | None) -> bytes:
    """Delete JSON whitespace outside string literals; every other byte stays as received."""
    if body is None:
        return b""
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    return _STRING_OR_SPACE.sub(lambda m: m.group(1) or b"", raw)


def body_sha256_hex(body: str | bytes | None) -> str:
    """Lower-case hex SHA-256 of the minified body."""
    return hashlib.sha256(minify(body)).hexdigest()


def string_to_sign(method: str, path: str, body: str | bytes | None, timestamp: str) -> str:
    """``METHOD:path:sha256hex(minified body):timestamp`` for every API but Apply Token."""
    return f"{method.upper()}:{path}:{body_sha256_hex(body)}:{timestamp}"


def apply_token_string_to_sign(client_id: str, timestamp: str) -> str:
    """``clientId|timestamp``: Apply Token (both grants) signs no body."""
    return f"{client_id}|{timestamp}"


def sign(private_key: rsa.RSAPrivateKey, message: str | bytes) -> str:
    """Standard Base64 of SHA256withRSA (PKCS#1 v1.5) over the UTF-8 message."""
    data = message.encode("utf-8") if isinstance(message, str) else message
    return base64.b64encode(private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()


def decode_signature(signature: str | bytes | None) -> bytes | None:
    """Strict standard Base64, or None. Exposed so graders can tell 'not Base64' from 'wrong'."""
    if not signature:
        return None
    try:
        return base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return None


def verify(public_key: rsa.RSAPublicKey, message: str | bytes, signature: str | bytes | None) -> bool:
    """True when ``signature`` (Base64) is a valid SHA256withRSA signature of ``message``.

    Never raises for bad input: a missing, non-Base64 or wrong-length signature is simply invalid.
    """
    raw = decode_signature(signature)
    if raw is None:
        return False
    data = message.encode("utf-8") if isinstance(message, str) else message
    try:
        public_key.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True
