"""Chromium trusting the CAs of DANA_UAT_CA_BUNDLE, as the run's HTTP clients do.

Chromium on Linux ignores SSL_CERT_FILE: the CAs a user adds live in the NSS database under
``$HOME/.pki/nssdb``. With a CA bundle the browser gets a HOME of its own (a temporary folder, removed with
the session) whose NSS database trusts each certificate of the bundle as a CA of TLS servers, written by NSS's
own ``certutil`` (Debian's libnss3-tools, installed with the browser by scripts/ensure-chromium.sh). Nothing
of the user's own browser profile is touched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
CERTUTIL_TIMEOUT = 30


class TrustError(RuntimeError):
    """The CA bundle cannot be given to Chromium; the message names the setting and the fix."""


def browser_home(ca_bundle: str) -> Path:
    """A temporary HOME whose NSS database trusts every certificate in ``ca_bundle``; the caller removes it."""
    certutil = shutil.which("certutil")
    if certutil is None:
        raise TrustError("DANA_UAT_CA_BUNDLE is set but certutil (NSS tools) is missing, so Chromium cannot be "
                         "told to trust it: install it (Debian/Ubuntu: apt-get install libnss3-tools)")
    certs = PEM_CERT.findall(Path(ca_bundle).read_bytes())
    if not certs:
        raise TrustError(f"DANA_UAT_CA_BUNDLE: {ca_bundle} holds no PEM certificate")
    home = Path(tempfile.mkdtemp(prefix="dana-uat-browser-home-"))
    db = home / ".pki" / "nssdb"
    db.mkdir(parents=True)
    try:
        _certutil(certutil, "-N", "-d", f"sql:{db}", "--empty-password")
        for n, pem in enumerate(certs, 1):
            cert = home / f"ca-{n}.pem"
            cert.write_bytes(pem + b"\n")
            _certutil(certutil, "-A", "-d", f"sql:{db}", "-t", "C,,", "-n", f"dana-uat-ca-{n}", "-i", str(cert))
    except TrustError:
        shutil.rmtree(home, ignore_errors=True)
        raise
    return home


def browser_env(home: Path) -> dict[str, str]:
    """The browser's environment: this process's, with the trusting HOME."""
    return {**os.environ, "HOME": str(home)}


def _certutil(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=CERTUTIL_TIMEOUT, check=False)
    if done.returncode != 0:
        raise TrustError(f"DANA_UAT_CA_BUNDLE: certutil could not build Chromium's trust store "
                         f"({(done.stderr or done.stdout).strip()[:300]})")
