"""What every HTTP client of the run trusts: httpx's own CAs plus DANA_UAT_CA_BUNDLE (settings.py checks the
file when it reads the setting; Chromium gets the same CAs through browser/trust.py)."""

from __future__ import annotations

import functools
import ssl


@functools.cache
def trust(ca_bundle: str | None = None) -> ssl.SSLContext:
    """The TLS verification of every HTTPS client of the run: httpx's own (certifi's CAs, or SSL_CERT_FILE),
    plus the CAs in ``ca_bundle`` (DANA_UAT_CA_BUNDLE: a TLS-inspecting corporate proxy's CA, a test twin's).
    Built once per bundle and process: loading a CA file costs 20 to 40 ms of CPU, and httpx.Client() would
    build a new one each time (the biggest cost of an API-only scenario, issue 13)."""
    import httpx  # imported here: reading settings alone never loads the HTTP stack

    context = httpx.create_ssl_context()
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


def tls_verify(url: str, ca_bundle: str | None = None) -> ssl.SSLContext:
    """httpx's ``verify`` for a client of ``url``. A client that only ever speaks plain HTTP to a sandbox on
    loopback gets a context that trusts no CA: it is never used, and a TLS connection through it would fail
    verification rather than skip it. An https:// URL gets ``trust(ca_bundle)``."""
    return trust(ca_bundle) if url.lower().startswith("https://") else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


# DANA's sandbox gateway key, identical in the Python, Node and Go SDKs ([sdk-webhook]).
