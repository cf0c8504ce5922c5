"""One deliberate mistake per variant of the example merchant (DEFECT=<name>); empty: the correct app.

Each is a mistake merchants make. Most are a branch in app.py; the two signing mistakes cannot be made
through the SDK's signer, so they re-sign what the SDK built, as a hand-written signer would.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from hashlib import sha256

DEFECTS = {
    "pretty_signed_body": "signs the pretty-printed body instead of the minified one",
    "utc_timestamp": "sends UTC time labelled +07:00 in X-TIMESTAMP",
    "no_webhook_verification": "applies Finish Notify without verifying DANA's signature",
    "any_state": "accepts an OAuth callback with a state it never issued",
    "exchange_every_callback": "calls Apply Token on every callback, even for a code already exchanged",
    "duplicate_applied_twice": "applies a duplicate Finish Notify a second time",
    "ack_2000000": "acknowledges Finish Notify with 2000000 instead of 2005600",
    "hex_seamless_sign": "sends a SHA-256 hex digest as seamlessSign",
    "reused_reference": "reuses one partnerReferenceNo for every payment",
}


def enable(name: str) -> str:
    if name and name not in DEFECTS:
        raise SystemExit(f"DEFECT={name!r} is unknown; known: {', '.join(DEFECTS)}")
    if name in ("pretty_signed_body", "utc_timestamp"):
        _patch_signer(name)
    return name


def _patch_signer(name: str) -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    from dana.utils import snap_header

    original = snap_header.SnapHeader.get_snap_generated_auth

    def resign(method, resource_path, body, private_key=None, private_key_path=None, scenario="",
               client_key=None, support_debug_mode=True):
        auth = original(method, resource_path, body, private_key, private_key_path, scenario, client_key,
                        support_debug_mode)
        timestamp = auth["X-TIMESTAMP"]["value"]
        signed_body = body
        if name == "utc_timestamp":
            timestamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+07:00")
        else:
            signed_body = json.dumps(json.loads(body), indent=2)
        if scenario == "apply_token":
            text = f"{client_key}|{timestamp}"
        else:
            text = f"{method}:{resource_path}:{sha256(signed_body.encode()).hexdigest()}:{timestamp}"
        pem = snap_header.SnapHeader.get_usable_private_key(private_key, private_key_path)
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        signature = base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
        auth["X-TIMESTAMP"]["value"], auth["X-SIGNATURE"]["value"] = timestamp, signature
        return auth

    snap_header.SnapHeader.get_snap_generated_auth = staticmethod(resign)
