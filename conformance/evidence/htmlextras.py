"""Our evidence as pytest-html extras (``pytest --html``): the portal group, DANA's case names, the redacted
findings and the scenario's screenshots. Pure constructors over what the item already recorded."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from conformance.evidence.report import IMAGE_TYPES


def scenario_extras(info: dict, case_names: list[str], images: list[str]) -> list[dict]:
    from pytest_html import extras

    facts = [("portal group", info.get("portal") or "(none)"), ("mandatory", "yes" if info.get("mandatory") else "no"),
             ("DANA case", ", ".join(case_names) or "(none)"), ("evidence", info.get("evidence", ""))]
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in facts)
    findings = [("FAIL", m) for m in info.get("failures", [])] + [("WARN", m) for m in info.get("warnings", [])]
    items = "".join(f"<li><b>{s}</b> <pre>{escape(m)}</pre></li>" for s, m in findings)
    out = [extras.html(f"<table>{rows}</table>" + (f"<ul>{items}</ul>" if items else ""))]
    for name in images:
        path = Path(name)
        if path.suffix.lower() in IMAGE_TYPES and path.is_file():
            out.append(extras.image(base64.b64encode(path.read_bytes()).decode(), name=path.stem.split("-", 1)[-1],
                                    mime_type=IMAGE_TYPES[path.suffix.lower()], extension=path.suffix.lstrip(".")))
    return out
