"""The go-live bundle: a zip of the run's report and evidence with a SHA-256 manifest signed by the merchant.

``manifest.json`` lists every file with its SHA-256; ``manifest.sig`` is Base64 SHA256withRSA over the exact
manifest bytes with the merchant's private key; ``merchant-public-key.pem`` lets DANA (or anyone) check it:
``verify_bundle(path)`` does so and also re-hashes every file.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from conformance.snap import keys, sign, verify

MANIFEST, SIGNATURE, PUBLIC_KEY = "manifest.json", "manifest.sig", "merchant-public-key.pem"


def _members(run_dir: Path) -> list[Path]:
    wanted = [run_dir / "report.html", run_dir / "summary.json", *sorted((run_dir / "evidence").glob("*.json"))]
    wanted += sorted(p for p in (run_dir / "artifacts").rglob("*") if p.is_file()) if (run_dir / "artifacts").is_dir() else []
    return [p for p in wanted if p.is_file()]


def make_bundle(run_dir: Path, merchant) -> Path:
    run_dir = Path(run_dir)
    files = {p.relative_to(run_dir).as_posix(): p for p in _members(run_dir)}
    manifest = json.dumps({
        "runId": run_dir.name, "partnerId": merchant.partner_id, "merchantId": merchant.merchant_id,
        "files": {name: hashlib.sha256(p.read_bytes()).hexdigest() for name, p in files.items()},
    }, indent=2, sort_keys=True).encode()
    path = run_dir / f"dana-uat-bundle-{run_dir.name}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, p in files.items():
            zf.write(p, name)
        zf.writestr(MANIFEST, manifest)
        zf.writestr(SIGNATURE, sign(merchant.private_key, manifest))
        zf.writestr(PUBLIC_KEY, keys.public_key_pem(merchant.private_key))
    return path


def verify_bundle(path: Path, public_key=None) -> list[str]:
    """Problems found in a bundle (empty when the signature and every file hash hold)."""
    problems = []
    with zipfile.ZipFile(path) as zf:
        manifest = zf.read(MANIFEST)
        key = public_key or keys.load_public_key(zf.read(PUBLIC_KEY))
        if not verify(key, manifest, zf.read(SIGNATURE).decode()):
            problems.append("manifest signature does not verify with the merchant public key")
        listed = json.loads(manifest)["files"]
        for name, digest in listed.items():
            if hashlib.sha256(zf.read(name)).hexdigest() != digest:
                problems.append(f"{name}: SHA-256 differs from the manifest")
        extra = set(zf.namelist()) - set(listed) - {MANIFEST, SIGNATURE, PUBLIC_KEY}
        problems += [f"{name}: not listed in the manifest" for name in sorted(extra)]
    return problems
