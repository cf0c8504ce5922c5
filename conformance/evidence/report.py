"""The self-contained HTML evidence report, rendered with Jinja2 from the run's JSON evidence.

Everything it shows was redacted when recorded. Screenshots are compressed JPEG (the browser session takes
them so); a failed scenario embeds all of its own, a passed one its last page and links the rest (they are in
the run folder and the bundle), so the whole catalogue's report stays small enough to upload to DANA. The
first screen says whether the run is complete and whether it is a simulation.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

_ENV = Environment(loader=PackageLoader("conformance.evidence", "templates"),
                   autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
_ENV.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False)
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def _image(path: str, run_dir: Path) -> dict | None:
    p = Path(path)
    if not p.is_absolute():
        p = run_dir / p
    if p.suffix.lower() not in IMAGE_TYPES or not p.is_file():
        return None
    caption = p.stem.split("-", 1)[-1].replace("-", " ")
    href = p.relative_to(run_dir).as_posix() if p.is_relative_to(run_dir) else p.name
    return {"name": p.name, "caption": caption, "href": href, "mime": IMAGE_TYPES[p.suffix.lower()],
            "data": base64.b64encode(p.read_bytes()).decode()}


def _failed_step(record: dict) -> int | None:
    return next((st["index"] for st in record.get("steps", []) if st.get("status") == "failed"), None)


def load_run(run_dir: Path) -> tuple[dict, list[dict]]:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    names = {s["scenario"]: s.get("caseNames", []) for s in summary.get("scenarios", [])}
    scenarios = []
    for path in sorted((run_dir / "evidence").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        images = [i for i in (_image(a, run_dir) for a in record.get("artifacts", [])) if i]
        # a failed scenario embeds every page it saw; a passed one its last page, the others are linked
        keep = len(images) if record.get("outcome") == "failed" else 1
        record["images"], record["linked"] = images[-keep:] if images else [], images[:-keep] if images else []
        for linked in record["linked"]:
            linked.pop("data")
        record["traces"] = [a for a in record.get("artifacts", []) if str(a).endswith(".zip")]
        record["evidence_file"] = f"evidence/{path.name}"
        record["caseNames"] = names.get(record.get("scenario"), [])
        record["failedStep"] = _failed_step(record)
        scenarios.append(record)
    order = {"failed": 0, "dana-unavailable": 0, "skipped": 2}
    scenarios.sort(key=lambda s: (order.get(s.get("outcome"), 1), not s.get("mandatory"), s.get("file", ""),
                                  s.get("scenario", "")))
    return summary, scenarios


def render_report(run_dir: Path, **_ignored) -> Path:
    """Write ``<run_dir>/report.html`` and return its path."""
    run_dir = Path(run_dir)
    summary, scenarios = load_run(run_dir)
    html = _ENV.get_template("report.html.j2").render(summary=summary, scenarios=scenarios,
                                                      meta=summary.get("meta", {}))
    path = run_dir / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
