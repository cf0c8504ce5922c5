"""The go-live bundle: a zip of the run's report and evidence with a SHA-256 manifest signed by the merchant.

``manifest.json`` lists every file with its SHA-256, says what the run is worth (complete, simulation,
submittable) and whose it is (partnerId, merchantId, ``merchantKeyFingerprint``: SHA-256 of the merchant
public key); ``manifest.sig`` is Base64 SHA256withRSA over the exact manifest bytes with the merchant's
private key; ``merchant-public-key.pem`` is the key the bundle claims. ``check_bundle`` verifies all of it.
The key inside proves only integrity (anyone can re-sign an edited bundle with their own key and put that
key inside): the origin is verified only against a trusted key the verifier brings, the one registered
with DANA.
A bundle is made only from a complete run (every mandatory scenario of the catalogue run and passed);
Playwright traces stay in the run folder (scrubbed) and out of the bundle: they hold whole browser sessions.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from conformance.snap import keys, sign, verify

MANIFEST, SIGNATURE, PUBLIC_KEY = "manifest.json", "manifest.sig", "merchant-public-key.pem"
TRACE_NOTE = ("Playwright traces of failed browser steps are kept in the run folder (scrubbed of secrets) and "
              "left out of this bundle: they record whole browser sessions.")


class BundleRefused(Exception):
    """The run cannot make a bundle; the message names what is missing (exit code 1)."""


@dataclass
class BundleCheck:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    claims: dict = field(default_factory=dict)   # partnerId, merchantId, merchantKeyFingerprint as the manifest says
    origin_verified: bool = False                # signed by the trusted key given, and intact

    @property
    def integrity_only(self) -> bool:
        """Intact and self-consistent, but checked against the key inside only: origin NOT verified."""
        return not self.problems and not self.origin_verified


def refusal(summary: dict) -> str | None:
    """Why this run makes no bundle, naming the missing scenarios; None when it is complete."""
    if summary.get("complete"):
        return None
    lines = ["incomplete run: " + "; ".join(summary.get("incompleteReasons") or ["not marked complete"])]
    lines += [f"  not run: {key}" for key in summary.get("missing", [])]
    lines += [f"  not passed: {key}" for key in summary.get("notPassed", [])]
    return "\n".join(lines)


def _members(run_dir: Path) -> list[Path]:
    wanted = [run_dir / "report.html", run_dir / "summary.json", *sorted((run_dir / "evidence").glob("*.json"))]
    art = run_dir / "artifacts"
    wanted += sorted(p for p in art.rglob("*") if p.is_file() and p.suffix != ".zip") if art.is_dir() else []
    return [p for p in wanted if p.is_file()]


def make_bundle(run_dir: Path, merchant) -> Path:
    """Write ``dana-uat-bundle-<run>.zip``; raises BundleRefused for an incomplete run."""
    run_dir = Path(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    why = refusal(summary)
    if why:
        raise BundleRefused(why)
    files = {p.relative_to(run_dir).as_posix(): p for p in _members(run_dir)}
    traces = (run_dir / "artifacts").is_dir() and any((run_dir / "artifacts").rglob("*.zip"))
    manifest = json.dumps({
        "runId": run_dir.name, "partnerId": merchant.partner_id, "merchantId": merchant.merchant_id,
        "merchantKeyFingerprint": keys.fingerprint(merchant.private_key),
        "target": summary.get("target"), "complete": True, "simulation": bool(summary.get("simulation")),
        "submittable": bool(summary.get("submittable")), "evidenceFor": summary.get("evidenceFor", ""),
        "notes": [TRACE_NOTE] if traces else [],
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


def check_bundle(path: Path, public_key=None, expect: dict | None = None) -> BundleCheck:
    """Problems (integrity, key, completeness) and plain notes about what was and was not checked.

    ``public_key`` is the trusted key (the merchant's, registered with DANA): with it, ``origin_verified``
    says the bundle was signed by that key and is intact. ``expect`` ({"partnerId", "merchantId"}, from the
    verifier's settings) must match what the manifest names. Without a trusted key only integrity is checked.
    """
    out = BundleCheck()
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        dupes = sorted(n for n, c in Counter(names).items() if c > 1)
        if dupes:   # zip readers disagree on which copy wins: a second entry can hide the signed one
            out.problems += [f"{name}: appears {names.count(name)} times in the zip" for name in dupes]
            return out
        manifest = zf.read(MANIFEST)
        info = json.loads(manifest)
        carried = keys.load_public_key(zf.read(PUBLIC_KEY))
        named = info.get("merchantKeyFingerprint")
        out.claims = {"partnerId": info.get("partnerId"), "merchantId": info.get("merchantId"),
                      "merchantKeyFingerprint": named}
        if named is None:
            out.notes.append("the manifest names no key fingerprint (a bundle made before dana-uat recorded it)")
        elif named != keys.fingerprint(carried):
            out.problems.append(f"the manifest names key {named} but the bundle carries {keys.fingerprint(carried)}")
        if public_key is None:
            out.notes.append("checked only against the public key carried inside the bundle: anyone can re-sign "
                             "an edited bundle with their own key; pass --public-key FILE (the key registered "
                             "with DANA) or set MERCHANT_PUBLIC_KEY_PATH to prove who made it")
        else:
            trusted = keys.fingerprint(public_key)
            if keys.fingerprint(carried) != trusted:
                out.problems.append(f"the bundle carries key {keys.fingerprint(carried)}, not the trusted key {trusted}")
            if named is not None and named != trusted:
                out.problems.append(f"the manifest was made for key {named}, not the trusted key {trusted}")
        for name, wanted in (expect or {}).items():
            if wanted and info.get(name) != wanted:
                out.problems.append(f"the manifest names {name} {info.get(name)!r}, the settings {wanted!r}")
        if not verify(public_key or carried, manifest, zf.read(SIGNATURE).decode()):
            which = "the trusted public key" if public_key is not None else "the public key carried inside"
            out.problems.append(f"manifest signature does not verify with {which}")
        listed = info["files"]
        for name, digest in listed.items():
            if name not in names:
                out.problems.append(f"{name}: listed in the manifest but missing")
            elif hashlib.sha256(zf.read(name)).hexdigest() != digest:
                out.problems.append(f"{name}: SHA-256 differs from the manifest")
        extra = set(names) - set(listed) - {MANIFEST, SIGNATURE, PUBLIC_KEY}
        out.problems += [f"{name}: not listed in the manifest" for name in sorted(extra)]
        if not info.get("complete"):
            out.problems.append("the manifest does not mark the run complete: not a go-live bundle")
        if info.get("simulation") or not info.get("submittable"):
            out.notes.append("SIMULATION: this run did not use DANA; it is not UAT evidence for DANA")
        out.notes += info.get("notes", [])
    out.origin_verified = public_key is not None and not out.problems
    return out


def verify_bundle(path: Path, public_key=None) -> list[str]:
    """Problems found in a bundle (empty when the signature, every file hash and completeness hold; without
    ``public_key``, against the key inside only)."""
    return check_bundle(path, public_key).problems
