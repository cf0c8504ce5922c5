"""The self-contained HTML evidence report, rendered with Jinja2 from the run's JSON evidence.

Everything it shows was redacted when recorded; screenshots are embedded (Base64) so the single file
can be uploaded to DANA as UAT evidence.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

_ENV = Environment(loader=PackageLoader("conformance.evidence", "templates"),
                   autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
_ENV.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False)


def _image(path: str, run_dir: Path) -> dict | None:
    p = Path(path)
    if not p.is_absolute():
        p = run_dir / p
    if p.suffix.lower() != ".png" or not p.is_file():
        return None
    return {"name": p.name, "data": base64.b64encode(p.read_bytes()).decode()}


def load_run(run_dir: Path) -> tuple[dict, list[dict]]:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    scenarios = []
    for path in sorted((run_dir / "evidence").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        record["images"] = [i for i in (_image(a, run_dir) for a in record.get("artifacts", [])) if i]
        record["evidence_file"] = f"evidence/{path.name}"
        scenarios.append(record)
    order = {"failed": 0, "skipped": 2}
    scenarios.sort(key=lambda s: (order.get(s.get("outcome"), 1), not s.get("mandatory"), s.get("file", ""),
                                  s.get("scenario", "")))
    return summary, scenarios


def render_report(run_dir: Path, *, merchant_partner_id: str = "", merchant_id: str = "") -> Path:
    """Write ``<run_dir>/report.html`` and return its path."""
    run_dir = Path(run_dir)
    summary, scenarios = load_run(run_dir)
    mandatory = [s for s in scenarios if s.get("mandatory")]
    html = _ENV.get_template("report.html.j2").render(
        summary=summary, scenarios=scenarios, partner_id=merchant_partner_id, merchant_id=merchant_id,
        mandatory_passed=sum(1 for s in mandatory if s.get("outcome") == "passed"), mandatory_total=len(mandatory))
    path = run_dir / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
