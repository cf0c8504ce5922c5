"""What a run is worth as evidence: counted against the whole catalogue, in the Merchant Portal's terms.

``summarise`` turns the per-scenario results of one run into ``summary.json``: whether every mandatory
scenario of the catalogue was run and passed (``complete``), what is missing, whether the run was
interrupted, whether it was a simulation (the embedded sandbox or a URL target: not UAT evidence for DANA),
progress per portal group, DANA's case names (``scenarios/reference-index.yaml``) and the run's metadata.
Only a complete run against DANA (``target`` sandbox or production) is ``submittable``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

import yaml

from conformance.snap import keys
from conformance.snap.timestamps import JAKARTA

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)     # libyaml when PyYAML was built with it
DANA_TARGETS = ("sandbox", "production")
PRODUCTION_SAFE = "production_safe"      # the mark of a scenario that may run against DANA's production
SIMULATION_NOTE = ("SIMULATION: this run used {where}, not DANA. It checks the integration's configuration "
                   "and is not UAT evidence for DANA; run against DANA's sandbox (--target sandbox) to submit.")


@dataclass(frozen=True)
class CatalogueEntry:
    key: str          # "<file>::<id>", the pytest node id
    id: str
    title: str
    portal: str
    mandatory: bool
    production_safe: bool


def case_names(scenario_dir: Path) -> dict[str, list[str]]:
    """scenario id -> DANA's case names (Widget.json) mapped to it in reference-index.yaml."""
    root = Path(scenario_dir)
    index = (root if root.is_dir() else root.parent) / "reference-index.yaml"
    if not index.is_file():
        return {}
    stat = index.stat()
    return _case_names(str(index), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)        # asked once per scenario of a run (pytest-html's extras) and by the summary
def _case_names(index: str, _mtime: int, _size: int) -> dict[str, list[str]]:
    raw = yaml.load(Path(index).read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    names: dict[str, list[str]] = {}
    for case, value in raw.items():
        sid = value if isinstance(value, str) else (value or {}).get("scenario")
        if sid:
            names.setdefault(sid, []).append(case)
    return names


def required(catalogue: list[CatalogueEntry], target: str) -> list[CatalogueEntry]:
    """The scenarios a complete run must pass: the mandatory ones; against production, the production set (the
    scenarios marked production_safe: DANA's "same testing scenarios as sandbox testing" that production can
    show and that leave no money moved, docs/scenarios.md "The production set")."""
    if target == "production":
        return [e for e in catalogue if e.production_safe]
    return [e for e in catalogue if e.mandatory]


def assess(catalogue: list[CatalogueEntry], results: list[dict], *, target: str, interrupted: bool) -> dict:
    outcome = {f"{r['file']}::{r['scenario']}": r["outcome"] for r in results}
    need = required(catalogue, target)
    missing = [e.key for e in need if e.key not in outcome]
    not_passed = [e.key for e in need if outcome.get(e.key) not in (None, "passed")]
    reasons = (["the run was interrupted before it finished"] if interrupted else []) + \
        ([f"{len(missing)} mandatory scenario(s) not run"] if missing else []) + \
        ([f"{len(not_passed)} mandatory scenario(s) did not pass"] if not_passed else []) + \
        (["the catalogue has no mandatory scenario"] if not need else [])
    groups: dict[str, dict] = {}
    for e in need:
        g = groups.setdefault(e.portal, {"portal": e.portal, "passed": 0, "total": 0})
        g["total"] += 1
        g["passed"] += outcome.get(e.key) == "passed"
    simulation = target not in DANA_TARGETS
    return {"complete": not reasons, "interrupted": interrupted, "incompleteReasons": reasons,
            "missing": missing, "notPassed": not_passed, "simulation": simulation,
            "submittable": not reasons and not simulation,
            "mandatory": {"passed": sum(g["passed"] for g in groups.values()), "total": len(need)},
            "groups": sorted(groups.values(), key=lambda g: g["portal"])}


def readable(moment: datetime) -> str:
    return moment.astimezone(JAKARTA).strftime("%d %b %Y, %H:%M:%S WIB (UTC+07:00)")


def key_fingerprint(public_key) -> str:
    """SHA-256 of the merchant public key (DER SubjectPublicKeyInfo), as DANA can compute from the portal's key."""
    return keys.fingerprint(public_key)


def api_host(settings) -> str:
    if settings.is_embedded:
        return "embedded sandbox on 127.0.0.1 (simulation)"
    return settings.api_base or ""


def tool_version() -> str:
    try:
        return metadata.version("dana-uat")
    except metadata.PackageNotFoundError:
        return "unknown"


def summarise(*, run_id: str, results: list[dict], broken: list[str], exit_status: int, interrupted: bool,
              scenario_dir: Path, catalogue: tuple[list[CatalogueEntry], str], settings, started: datetime) -> dict:
    """``catalogue``: every scenario of the catalogue and its hash (``scenarios.catalogue.load_catalogue``)."""
    target = "embedded" if settings is None else settings.target
    target = target if target in ("embedded", *DANA_TARGETS) else "url"
    catalogue, digest = catalogue
    names = case_names(scenario_dir)
    scenarios = [{**r, "caseNames": names.get(r["scenario"], [])} for r in results]
    counts = {k: sum(1 for r in results if r["outcome"] == k) for k in ("passed", "failed", "skipped")}
    counts["danaUnavailable"] = sum(1 for r in results if r["outcome"] == "dana-unavailable")
    verdict = assess(catalogue, results, target=target, interrupted=interrupted)
    where = {"embedded": "the embedded sandbox", "url": "a local `dana-uat sandbox`"}.get(target, "")
    merchant = None if settings is None else settings.merchant
    return {
        "runId": run_id, "target": target, **verdict,
        "evidenceFor": SIMULATION_NOTE.format(where=where) if verdict["simulation"] else f"DANA {target} UAT",
        "meta": {"toolVersion": tool_version(), "catalogueHash": digest, "catalogueScenarios": len(catalogue),
                 "apiHost": "" if settings is None else api_host(settings),
                 "startedAt": readable(started), "finishedAt": readable(datetime.now(JAKARTA)),
                 "partnerId": merchant.partner_id if merchant else "",
                 "merchantId": merchant.merchant_id if merchant else "",
                 "merchantKeyFingerprint": key_fingerprint(merchant.public_key) if merchant else ""},
        "exitStatus": exit_status,
        "counts": {**counts, "warnings": sum(len(r["warnings"]) for r in results), "brokenFiles": len(broken)},
        "brokenFiles": broken, "scenarios": scenarios,
    }
