"""The ``dana-uat`` commands on a run's evidence: the verdict line of a run, ``bundle`` (re)makes the signed
go-live bundle of a complete run, ``verify-bundle`` checks one. Nothing here runs a scenario or contacts DANA.

``err`` is the one way every ``dana-uat`` command reports a usage or configuration error (cli.py uses it too).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def err(message: str) -> int:
    print(f"dana-uat: {message}", file=sys.stderr)
    return 2



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
    from conformance.evidence.bundle import BundleRefused, make_bundle, refusal
    from conformance.settings import ConfigError, load_settings

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


def cmd_verify_bundle(args: argparse.Namespace) -> int:
    import zipfile

    from conformance.evidence.bundle import check_bundle
    from conformance.snap.keys import KeyFormatError, load_public_key_file

    try:
        key = load_public_key_file(args.public_key) if args.public_key else None
    except (OSError, KeyFormatError) as exc:
        return err(f"--public-key: {exc}")
    try:
        result = check_bundle(Path(args.bundle), key)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:   # not a zip, or no manifest
        return err(f"{args.bundle}: not a dana-uat bundle ({exc})")
    for problem in result.problems:
        print(f"FAIL {problem}")
    for note in result.notes:
        print(f"NOTE {note}")
    if result.problems:
        print(f"{len(result.problems)} problem(s)")
        return 1
    against = "the given public key" if key is not None else "the key inside the bundle only"
    print(f"bundle: signature ({against}) and every file hash verify")
    return 0


def add_parsers(sub) -> None:
    """The subcommands of this module, after the others in `dana-uat --help`."""
    vp = sub.add_parser("verify-bundle", help="check a go-live bundle's signature and file hashes")
    vp.add_argument("bundle")
    vp.add_argument("--public-key", help="the merchant public key registered with DANA (PEM file)")
    bdp = sub.add_parser("bundle", help="make the signed go-live bundle of a complete run (exit 1 if incomplete)")
    bdp.add_argument("run_dir", nargs="?", help="the run folder (default reports/latest)")
    bdp.add_argument("--env-file", default=None, help="a .env file with the merchant's key (default ./.env)")
    bdp.add_argument("--report-dir", help="where runs are (default reports)")


COMMANDS = {"verify-bundle": cmd_verify_bundle, "bundle": cmd_bundle}
