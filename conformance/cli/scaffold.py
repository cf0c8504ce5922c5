"""``dana-uat init``: a ``.env`` template explaining every setting, and on request the merchant's RSA key pair.

The template uses the official SDK's variable names (the settings table, conformance/config/settings.py), so the
same ``.env`` serves dana-python. Nothing existing is ever overwritten, and the private key is written with
mode 0600 and never printed.
"""

from __future__ import annotations

import os
from pathlib import Path

from conformance.config.settings import OPTIONS
from conformance.snap import keys

PRIVATE = Path("keys/merchant-private.pem")
PUBLIC = Path("keys/merchant-public.pem")
# The merchant's own values: written uncommented (empty until filled in); every other setting is commented out.
ACTIVE = ("X_PARTNER_ID", "MERCHANT_ID", "PRIVATE_KEY_PATH", "MERCHANT_PUBLIC_KEY_PATH")

HEADER = """\
# dana-uat settings. The names are the official DANA SDK's (dana-python reads X_PARTNER_ID, MERCHANT_ID,
# PRIVATE_KEY, PRIVATE_KEY_PATH, ORIGIN, CLIENT_SECRET, DANA_ENV), so this file serves both.
# Precedence: command-line options, then environment variables, then this file, then [tool.dana-uat]
# in pyproject.toml. An empty value counts as unset. `dana-uat doctor` checks everything here.
# With the merchant values unset, `dana-uat run` uses a throwaway merchant on the embedded sandbox.
"""


PROFILE = Path("dana-uat.merchant.yaml")
PROFILE_TEMPLATE = """\
# dana-uat merchant mode: how the suite drives YOUR backend (docs/merchant-mode.md describes every field).
# Run: dana-uat run --target http://127.0.0.1:8600 --scenarios scenarios/merchant --merchant-profile dana-uat.merchant.yaml
# against a `dana-uat sandbox` your backend's SDK points at. A wrong field stops the run with exit 2 and file:line.

# Where your backend listens; ${VAR} reads the environment (here MERCHANT_BASE_URL, e.g. http://127.0.0.1:8000).
base_url: ${MERCHANT_BASE_URL}

# Starts a binding for the test user {phone}: answers a redirect to DANA's bind URL, or JSON with it in url_field.
bind:
  request: {method: GET, path: "/bind?phone={phone}"}
  url_field: bindUrl
  # or, in the browser: page: {url: /account, click: "#link-dana"}   (instead of request)

# Starts a payment of {amount} (it must carry {amount}: magic amounts drive DANA's answers): answers a redirect to
# the checkout URL, or JSON with it in url_field (and the order's partnerReferenceNo in reference_field).
pay:
  request: {method: POST, path: /pay, json: {amount: "{amount}"}}
  url_field: checkoutUrl
  reference_field: partnerReferenceNo

# Optional, recommended: your own view of an order, so the suite sees what a Finish Notify changed.
status:
  request: {method: GET, path: "/orders/{partnerReferenceNo}"}
  field: status
  paid: PAID

# Optional triggers; without them the refund and cancel scenarios are skipped, saying why.
# refund:
#   request: {method: POST, path: /refund, json: {partnerReferenceNo: "{partnerReferenceNo}", amount: "{amount}"}}
# cancel:
#   request: {method: POST, path: /cancel, json: {partnerReferenceNo: "{partnerReferenceNo}"}}

# Optional cross-checks of what your backend sends (the bind URL's redirectUrl, the payment's NOTIFICATION url).
# redirect_url: https://shop.example/oauth/callback
# notify_url: https://shop.example/v1.0/debit/notify

# Seconds to wait for your backend at most: to listen before the first scenario, and for each answer.
timeout: 15
"""


def init_profile(folder: Path) -> list[str]:
    """Write the commented merchant profile template; never overwrites (InitError)."""
    path = folder / PROFILE
    if path.exists():
        raise InitError(str(path))
    path.write_text(PROFILE_TEMPLATE, encoding="utf-8")
    return [f"{PROFILE}  merchant mode's profile, commented: set the paths of your backend's endpoints"]


class InitError(Exception):
    """A file init would write already exists."""


def env_template(with_keys: bool) -> str:
    lines = [HEADER]
    for opt in OPTIONS:
        name = opt.env[0]
        aliases = f" (also {', '.join(opt.env[1:])})" if len(opt.env) > 1 else ""
        lines.append(f"# {opt.help}{aliases}" + (f"; default {opt.default}" if opt.default else ""))
        value = {"PRIVATE_KEY_PATH": PRIVATE, "MERCHANT_PUBLIC_KEY_PATH": PUBLIC}.get(name, "") if with_keys else ""
        lines.append(f"{name}={value}" if name in ACTIVE else f"# {name}={opt.default or ''}")
        lines.append("")
    return "\n".join(lines)


def init(folder: Path, *, with_keys: bool) -> list[str]:
    """Write the template (and keys); return what was written, one line each. Raises InitError, writes nothing."""
    env = folder / ".env"
    planned = [env] + ([folder / PRIVATE, folder / PUBLIC] if with_keys else [])
    existing = [p for p in planned if p.exists()]
    if existing:
        raise InitError(", ".join(str(p) for p in existing))
    written = []
    if with_keys:
        key = keys.generate_private_key()
        (folder / PRIVATE).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / PRIVATE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(keys.private_key_pem(key))          # PKCS#8
        (folder / PUBLIC).write_text(keys.public_key_pem(key), encoding="utf-8")
        written += [f"{PRIVATE}  merchant private key (PKCS#8, mode 0600): keep it secret, never commit it",
                    f"{PUBLIC}  public key: upload it in DANA's Merchant Portal"]
    env.write_text(env_template(with_keys), encoding="utf-8")
    written.insert(0, ".env  every setting, explained; fill in X_PARTNER_ID and MERCHANT_ID from DANA's portal")
    return written
