"""The Node example merchant (examples/merchant-node) installed the way a merchant installs it: `npm ci` from its
lockfile, into a folder the test owns (never into the repository). Node and npm are Debian's `nodejs` and `npm`
packages, installed by `make bootstrap` (scripts/ensure-node.sh)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.merchant.harness import ROOT

EXAMPLE = ROOT / "examples" / "merchant-node"
FILES = ("server.js", "defects.js", "package.json", "package-lock.json")
INSTALL_TIMEOUT = 600


def install(into: Path) -> Path:
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are not installed: `make bootstrap` installs Debian's nodejs and npm packages "
                    "(scripts/ensure-node.sh)")
    into.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copy(EXAMPLE / name, into / name)
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=into, capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    installed = json.loads((into / "node_modules" / "dana-node" / "package.json").read_text())
    assert installed["version"] == "1.5.11"             # the lockfile's, the version the docs were checked against
    return into
