"""The ``dana-uat`` commands on a run's evidence: the verdict line of a run, ``bundle`` (re)makes the signed
go-live bundle of a complete run, ``verify-bundle`` checks one. Nothing here runs a scenario or contacts DANA.

``err`` is the one way every ``dana-uat`` command reports a usage or configuration error, and ``config_error``
the way it reports configuration problems (main.py and run.py use them too).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def err(message: str) -> int:
    print(f"dana-uat: {message}", file=sys.stderr)
    return 2


def config_error(problems) -> int:
    """The error line of one configuration problem, or of several, one per line (exit 2)."""
    lines = [f"{p.name}: {p.problem}; {p.fix}" for p in problems]
    if len(lines) == 1:
        return err(f"configuration error: {lines[0]}")
    return err(f"configuration error: {len(lines)} problems\n" + "\n".join("  " + line for line in lines))


def verdict(run_dir: Path) -> str:
    """One line on what the run is worth as evidence (from its summary.json)."""
    from conformance.evidence.bundle import refusal

    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "dana-uat: no run summary was written"
    if "merchantParts" in summary:          # merchant mode: the backend's test, never go-live evidence
        return "dana-uat: " + summary.get("merchantVerdict", "merchant mode")
    why = refusal(summary)
    if why:
        return f"dana-uat: bundle refused, {why}"
    return "dana-uat: " + ("complete; " + summary["evidenceFor"] if summary.get("simulation")
                           else "complete run against DANA: the bundle can be submitted")


def cmd_bundle(args: argparse.Namespace) -> int:
    from conformance.config.settings import ConfigError, load_settings
    from conformance.evidence.bundle import BundleRefused, make_bundle, refusal

    run_dir = Path(args.run_dir) if args.run_dir else Path(args.report_dir or "reports") / "latest"
    if not (run_dir / "summary.json").is_file():
        return err(f"no run at {run_dir} (no summary.json); give the run folder")
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    why = refusal(summary) or ("a simulation: " + summary.get("evidenceFor", "") if summary.get("simulation") else None)
    if why:
        print(f"dana-uat: bundle refused, {why}", file=sys.stderr)
        return 1
    try:   # the key that signs is the merchant's, from the same settings as the run; nothing is contacted
        merchant = load_settings({"target": summary["target"], "confirm_production": True},
                                 env_file=args.env_file or ".env").merchant
    except ConfigError as exc:
        return err(f"configuration error: {exc}")
    try:
        path = make_bundle(run_dir.resolve(), merchant)
    except BundleRefused as exc:
        print(f"dana-uat: bundle refused, {exc}", file=sys.stderr)
        return 1
    print(f"bundle: {path}")
    return 0


ORIGIN_NOT_VERIFIED = 5     # intact, no trusted key to say who signed it (README; 3 and 4 are dana-uat run's)


class UnusableKey(Exception):
    """The trusted key named cannot be read (exit 2, the message names where it came from)."""


def trusted_key(args: argparse.Namespace) -> tuple[object | None, str, dict]:
    """(key or None, where it came from, what the manifest must name): ``--public-key``, else the merchant
    public key the settings name (MERCHANT_PUBLIC_KEY_PATH, read as ``dana-uat doctor`` reads it)."""
    from conformance.config.settings import ConfigError, read_values
    from conformance.snap.keys import KeyFormatError, load_public_key_file

    if args.public_key:
        try:
            return load_public_key_file(args.public_key), f"--public-key {args.public_key}", {}
        except (OSError, KeyFormatError) as exc:
            raise UnusableKey(f"--public-key: {exc}") from None
    try:
        values, _ = read_values({}, env_file=args.env_file or ".env")
    except ConfigError as exc:
        raise UnusableKey(f"configuration error: {exc}") from None
    path = values.get("merchant_public_key_path")
    if not path:
        return None, "none (no --public-key, MERCHANT_PUBLIC_KEY_PATH not set)", {}
    try:
        key = load_public_key_file(Path(path).expanduser())
    except (OSError, KeyFormatError) as exc:
        raise UnusableKey(f"MERCHANT_PUBLIC_KEY_PATH: {path} is not usable ({exc})") from None
    expect = {"partnerId": values.get("partner_id"), "merchantId": values.get("merchant_id")}
    return key, f"MERCHANT_PUBLIC_KEY_PATH {path}", expect


def cmd_verify_bundle(args: argparse.Namespace) -> int:
    """0 signed by the trusted key and intact; 1 a problem; 2 usage; 5 intact, origin NOT verified."""
    import zipfile

    from conformance.evidence.bundle import check_bundle
    from conformance.snap.keys import fingerprint

    try:
        key, source, expect = trusted_key(args)
    except UnusableKey as exc:
        return err(str(exc))
    try:
        result = check_bundle(Path(args.bundle), key, expect)
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as exc:   # not a zip, or no manifest
        return err(f"{args.bundle}: not a dana-uat bundle ({exc})")
    for name in ("partnerId", "merchantId", "merchantKeyFingerprint"):
        print(f"{name}: {result.claims.get(name) or '-'}")
    print(f"trusted key: {fingerprint(key) + ' from ' + source if key is not None else source}")
    for problem in result.problems:
        print(f"FAIL {problem}")
    for note in result.notes:
        print(f"NOTE {note}")
    if result.problems:
        print(f"{len(result.problems)} problem(s)")
        return 1
    if not result.origin_verified:
        print("bundle: integrity verified, origin NOT verified (every file hash and the signature verify "
              "with the key inside the bundle, which anyone can replace)")
        return ORIGIN_NOT_VERIFIED
    print(f"bundle: origin and integrity verified: signed by the trusted key {fingerprint(key)}, every file "
          "hash verifies")
    return 0


def add_parsers(sub) -> None:
    """The subcommands of this module, after the others in `dana-uat --help`."""
    vp = sub.add_parser("verify-bundle", help="check a go-live bundle's signer and file hashes (exit 0 signed by the "
                                              "trusted key, 1 a problem, 5 no trusted key: origin NOT verified)")
    vp.add_argument("bundle")
    vp.add_argument("--public-key", help="the merchant public key registered with DANA (PEM file); "
                                         "default MERCHANT_PUBLIC_KEY_PATH")
    vp.add_argument("--env-file", default=None, help="a .env file naming MERCHANT_PUBLIC_KEY_PATH (default ./.env)")
    bdp = sub.add_parser("bundle", help="make the signed go-live bundle of a complete run (exit 1 if incomplete)")
    bdp.add_argument("run_dir", nargs="?", help="the run folder (default reports/latest)")
    bdp.add_argument("--env-file", default=None, help="a .env file with the merchant's key (default ./.env)")
    bdp.add_argument("--report-dir", help="where runs are (default reports)")


COMMANDS = {"verify-bundle": cmd_verify_bundle, "bundle": cmd_bundle}
