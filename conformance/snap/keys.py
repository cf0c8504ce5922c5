"""RSA key loading, export and generation.

Accepts every private-key spelling the official Python SDK accepts ([sdk-header]):
PKCS#8 PEM, PKCS#1 PEM, either with literal ``\\n`` escapes, CRLF/CR line ends or on one line, and a
bare Base64 body (tried as PKCS#8 first, then PKCS#1). Public keys: SubjectPublicKeyInfo or PKCS#1
PEM, escaped, or a bare Base64 body. Only ``load_*_file`` touch the file system.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", re.S)


class KeyFormatError(ValueError):
    """A key that cannot be read; the message says what was wrong and what is accepted."""


def _normalise(text: str | bytes) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = text.strip().strip('"').strip("'")
    return text.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\r\n", "\n").replace("\r", "\n")


def _der_from(text: str) -> tuple[str | None, bytes]:
    """Return (PEM label or None for a bare body, DER bytes)."""
    match = _PEM_BLOCK.search(text)
    label, body = (match.group(1), match.group(2)) if match else (None, text)
    compact = re.sub(r"\s+", "", body)
    try:
        return label, base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyFormatError(f"key body is not Base64 ({exc})") from None


def load_private_key(text: str | bytes) -> rsa.RSAPrivateKey:
    """Load an unencrypted RSA private key from any accepted spelling."""
    label, der = _der_from(_normalise(text))
    if not der:
        raise KeyFormatError("private key is empty")
    try:
        key = _private_key_from_der(der)
    except (ValueError, TypeError) as exc:
        hint = " (encrypted keys are not supported)" if label and "ENCRYPTED" in label else ""
        raise KeyFormatError(
            f"not an RSA private key in PKCS#8 or PKCS#1 form{hint}: {exc}"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFormatError(f"expected an RSA private key, got {type(key).__name__}")
    return key


@functools.lru_cache(maxsize=16)
def _private_key_from_der(der: bytes):
    """load_der_private_key reads both PKCS#8 and PKCS#1 DER. Parsing checks an RSA key's primes (40 ms of CPU
    for 2048 bits) and a run reads its merchant key twice (the preflight's settings and the run's), so each key
    is parsed once per process; a key object is immutable. A refused key raises again (nothing is cached)."""
    return serialization.load_der_private_key(der, password=None)


def load_public_key(text: str | bytes) -> rsa.RSAPublicKey:
    """Load an RSA public key (SubjectPublicKeyInfo or PKCS#1), PEM or bare Base64."""
    label, der = _der_from(_normalise(text))
    if not der:
        raise KeyFormatError("public key is empty")
    try:
        # load_der_public_key reads both SubjectPublicKeyInfo and PKCS#1 DER.
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError) as exc:
        # A private key pasted where a public one belongs still yields its public half.
        try:
            return load_private_key(text).public_key()
        except KeyFormatError:
            raise KeyFormatError(f"not an RSA public key (SPKI or PKCS#1): {exc}") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyFormatError(f"expected an RSA public key, got {type(key).__name__}")
    return key


def load_private_key_file(path: str | Path) -> rsa.RSAPrivateKey:
    return load_private_key(Path(path).read_bytes())


def load_public_key_file(path: str | Path) -> rsa.RSAPublicKey:
    return load_public_key(Path(path).read_bytes())


def generate_private_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def private_key_pem(key: rsa.RSAPrivateKey, pkcs1: bool = False) -> str:
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if pkcs1 else serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def public_key_pem(key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        key = key.public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def fingerprint(key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> str:
    """``SHA256:<hex>`` of the public key's DER SubjectPublicKeyInfo, as anyone can compute from the PEM
    uploaded to DANA's portal (``openssl pkey -pubin -in KEY.pem -outform DER | sha256sum``)."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "SHA256:" + hashlib.sha256(der).hexdigest()
