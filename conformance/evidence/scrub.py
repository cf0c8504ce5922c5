"""Scrub a scenario's kept zip artifacts (Playwright traces) before they stay on disk.

The browser session already replaces the secrets it was told about (the OTT of a checkout URL); the
authCode DANA redirects with, tokens in recorded API calls and any secret field written out in a network
log reach the trace without it. This pass applies the scenario's Redactor (every secret it learned while
recording, plus secret field names in text) to every text entry of the zip, and replaces the learned
secrets byte for byte in the binary entries. A trace also names the Python files that drove the browser by
their absolute paths; those machine paths are cut down to what follows them.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path
from urllib.parse import quote

from conformance.evidence.redaction import Redactor, mask


def machine_paths() -> list[str]:
    """Absolute folders of this machine a trace may name, longest first (the checkout, the venv, home, cwd)."""
    import conformance

    found = {str(Path(conformance.__file__).resolve().parents[1]), sys.prefix, sys.base_prefix, str(Path.home()),
             str(Path.cwd())}
    return sorted((p.rstrip("/") + "/" for p in found if len(p) > 1), key=len, reverse=True)


def scrub_zip(path: Path, redactor: Redactor) -> None:
    needles = [(s.encode(), mask(s).encode()) for s in redactor.secrets]
    needles += [(quote(s, safe="").encode(), mask(s).encode()) for s in redactor.secrets if quote(s, safe="") != s]
    needles += [(p.encode(), b"") for p in machine_paths()]   # after the secrets: a path may hold none
    tmp = path.with_name(path.name + ".scrubbing")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            try:
                data = redactor.text(data.decode("utf-8")).encode("utf-8")
            except UnicodeDecodeError:
                pass
            for needle, replacement in needles:
                data = data.replace(needle, replacement)
            dst.writestr(item, data)
    tmp.replace(path)


def scrub_artifacts(artifacts: list[str], redactor: Redactor) -> None:
    for name in artifacts:
        path = Path(name)
        if path.suffix == ".zip" and path.is_file():
            scrub_zip(path, redactor)
