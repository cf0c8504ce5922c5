"""Per-scenario evidence: exchanges, browser steps, notifications and findings, redacted on record.

``Recorder`` is filled while a scenario runs; ``EvidenceWriter`` puts it on disk:

  reports/<run-id>/evidence/<scenario-id>.json   one file per scenario (written by whichever worker ran it)
  reports/<run-id>/summary.json                  the run summary (written once, by the controller)
  reports/latest                                 symlink to <run-id> (or a text file with its name)
"""

from __future__ import annotations

import json
import os
import secrets as _secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from conformance.evidence.redaction import Redactor
from conformance.findings import Finding
from conformance.snap.timestamps import format_timestamp


def new_run_id() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + _secrets.token_hex(2)


@dataclass
class Recorder:
    scenario_id: str
    nodeid: str = ""
    title: str = ""
    file: str = ""
    api: str = ""
    mandatory: bool = False
    portal: str | None = None
    embedded_only: str | None = None      # the scenario's reason when only the embedded sandbox runs it
    redactor: Redactor = field(default_factory=Redactor, repr=False)
    events: list[dict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    outcome: str = "running"
    unavailable: str = ""                 # dana-unavailable: the transient failure that outlived the retries
    started_at: str = field(default_factory=format_timestamp)
    _step: int | None = field(default=None, repr=False)

    # -- what steps call -------------------------------------------------------------------------

    def begin_step(self, index: int, kind: str, name: str) -> None:
        self._step = index
        self.steps.append({"index": index, "kind": kind, "name": name, "status": "running", "findings": []})

    def end_step(self, status: str, findings: list[Finding]) -> None:
        if self.steps:
            self.steps[-1]["status"] = status
            self.steps[-1]["findings"] = [self._finding(f) for f in findings]
        self.findings += findings

    def exchange(self, ex) -> dict:
        """Record a conformance.client.snap_client.Exchange (redacted now)."""
        r = self.redactor
        record = {
            "type": "http", "step": self._step, "api": ex.api, "at": ex.started_at,
            "request": {"method": ex.method, "url": r.text(ex.url), "signedPath": ex.signed_path,
                        "headers": r.headers(ex.request_headers), "body": r.body(ex.request_body)},
            "response": None if ex.status is None else {
                "status": ex.status, "headers": r.headers(ex.response_headers), "body": r.body(ex.response_body)},
            "error": ex.error, "elapsedMs": ex.elapsed_ms,
        }
        if ex.tamper:
            record["tamper"] = r.data(ex.tamper)
        self.events.append(record)
        return record

    def event(self, kind: str, **data: Any) -> dict:
        """Any other exchange: browser step, notification, admin call, clock move."""
        record = {"type": kind, "step": self._step, "at": format_timestamp(), **self.redactor.data(data)}
        self.events.append(record)
        return record

    def artifact(self, path: str | Path) -> None:
        self.artifacts.append(str(path))

    # -- output ----------------------------------------------------------------------------------

    def _finding(self, f: Finding) -> dict:
        return self.redactor.finding({**f.to_dict(), "expected": _plain(f.expected), "received": _plain(f.received)})

    def message(self, f: Finding) -> str:
        """The finding's one-paragraph text for the console, JUnit and summary.json, redacted."""
        d = self._finding(f)
        return self.redactor.text(Finding(**{k: d[k] for k in Finding.__dataclass_fields__}).message())

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.failed]

    def to_dict(self) -> dict:
        return {
            "scenario": self.scenario_id, "nodeid": self.nodeid, "title": self.title, "file": self.file,
            "api": self.api, "mandatory": self.mandatory, "portal": self.portal, "outcome": self.outcome,
            **({"danaUnavailable": self.unavailable} if self.unavailable else {}),
            "embeddedOnly": self.embedded_only, "startedAt": self.started_at, "finishedAt": format_timestamp(),
            "findings": [self._finding(f) for f in self.findings],
            "steps": self.steps, "exchanges": self.events, "artifacts": self.artifacts,
        }


def _plain(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


class EvidenceWriter:
    """Writes evidence under ``<report_dir>/<run_id>/``; safe for several xdist workers at once."""

    def __init__(self, report_dir: Path, run_id: str):
        self.root = Path(report_dir) / run_id
        self.report_dir, self.run_id = Path(report_dir), run_id
        self.evidence_dir = self.root / "evidence"

    def write_scenario(self, recorder: Recorder) -> Path:
        self.evidence_dir.mkdir(parents=True, exist_ok=True)
        recorder.artifacts = [_relative(a, self.root) for a in recorder.artifacts]   # no machine paths
        path = self.evidence_dir / f"{_safe(recorder.scenario_id)}.json"
        if path.exists():   # the same id in two files: keep both, named after the file too
            path = self.evidence_dir / f"{_safe(Path(recorder.file).stem)}__{_safe(recorder.scenario_id)}.json"
        _atomic_write(path, json.dumps(recorder.to_dict(), indent=2, ensure_ascii=False))
        return path

    def write_summary(self, summary: dict) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / "summary.json"
        _atomic_write(path, json.dumps(summary, indent=2, ensure_ascii=False))
        self.point_latest()
        return path

    def point_latest(self) -> None:
        latest = self.report_dir / "latest"
        try:
            if latest.is_symlink() or latest.is_file():
                latest.unlink()
            latest.symlink_to(self.run_id, target_is_directory=True)
        except OSError:   # no symlinks here (e.g. some Windows setups): a small file instead
            (self.report_dir / "latest.txt").write_text(self.run_id + "\n", encoding="utf-8")


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).name


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "scenario"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
