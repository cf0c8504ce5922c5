"""DANA's hostnames: where the official SDKs send API calls and where DANA's hosted pages live.

API hosts: dana-python ``dana/utils/snap_configuration.py`` (``api.sandbox.dana.id``; production
``api.saas.dana.id``); page hosts: the OAuth and checkout URLs of [doc-get-oauth] and [doc-payment].
"""

SANDBOX_API = "https://api.sandbox.dana.id"
SANDBOX_WEB = "https://m.sandbox.dana.id"
PRODUCTION_API = "https://api.saas.dana.id"
PRODUCTION_WEB = "https://m.dana.id"
# target -> (API base, hosted pages base)
DANA_HOSTS = {"sandbox": (SANDBOX_API, SANDBOX_WEB), "production": (PRODUCTION_API, PRODUCTION_WEB)}


def hostnames(env: str) -> tuple[str, str]:
    """The (API, pages) hostnames of ``env`` (sandbox or production), without scheme."""
    return tuple(url.split("://", 1)[1] for url in DANA_HOSTS[env])
