"""The DANA twin: the sandbox as DANA's real sandbox (or production) looks to a merchant's machine.

``dana-uat sandbox --as-dana sandbox --tls-dir DIR`` serves the SNAP APIs and the hosted pages over HTTPS
under DANA's own hostnames (snap/hosts.py) and nothing else: no ``/sandbox-admin``, no sandbox-tools, no
trigger the embedded sandbox invented (magic.yaml rows marked ``embedded_only``). Its certificate comes from
a throwaway CA written to DIR (``ca.pem``: what a test gives DANA_UAT_CA_BUNDLE). The names resolve to it only
where someone maps them, as a test does inside a network namespace of its own with its own ``/etc/hosts``;
the product under test then finds "DANA" by its names, unchanged. ``--record FILE`` appends one JSON line per
request the twin answered (host, method, path, status, and for the SNAP APIs the journal's redacted entry)
so a test can assert what was sent, and nothing more.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import threading
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conformance.snap.hosts import DANA_HOSTS, hostnames

CERT_DAYS = 7      # a throwaway CA for a test run; a week covers any run and a machine's clock skew


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "dana-uat twin (throwaway)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def issue_certificates(directory: Path, names: list[str]) -> tuple[Path, Path, Path]:
    """A new CA and a server certificate for ``names`` (and 127.0.0.1), in ``directory``.

    Returns (ca.pem, server chain, server key). The CA's key is never written: nothing else can be signed by
    it once this returns. The server key is written owner-only; it protects nothing but the twin's own run.
    """
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("dana-uat twin CA")).issuer_name(_name("dana-uat twin CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + dt.timedelta(days=CERT_DAYS))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    alt = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (x509.CertificateBuilder().subject_name(_name(names[0])).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=CERT_DAYS))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    ca_path, chain_path, key_path = directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    ca_path.write_bytes(ca.public_bytes(pem))
    chain_path.write_bytes(cert.public_bytes(pem))
    key_path.touch(mode=0o600)
    key_path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return ca_path, chain_path, key_path


def names_for(env: str) -> list[str]:
    """Every DANA hostname the twin answers for: ``env``'s first (its certificate's subject)."""
    first = list(hostnames(env))
    return first + [n for other in DANA_HOSTS if other != env for n in hostnames(other) if n not in first]


def web_base(env: str, port: int) -> str:
    """Where the twin's hosted pages are, as DANA's API answers name them (webRedirectUrl)."""
    base = DANA_HOSTS[env][1]
    return base if port == 443 else f"{base}:{port}"


class Recorder:
    """ASGI middleware appending one JSON line per answered request to ``path`` (thread-safe)."""

    def __init__(self, path: Path):
        self.app, self.path = None, Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def wrap(self, app) -> "Recorder":
        """SandboxServer's ``wrap``: record around ``app``."""
        self.app = app
        return self

    def write(self, line: dict) -> None:
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=True, default=str) + "\n")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, answered = time.time(), {}

        async def sending(message):
            if message["type"] == "http.response.start":
                answered["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            self.write({"kind": "http", "at": started, "host": host, "method": scope["method"],
                        "path": scope["path"], "status": answered.get("status"),
                        "ms": round((time.time() - started) * 1000, 1)})


def journal_line(entry: dict) -> dict:
    """A SNAP API request as the journal graded and redacted it, for the record."""
    return {"kind": "api", **entry}
