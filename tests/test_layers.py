"""The layers of the house and what each may import (docs/architecture.md keeps the same table).

The protocol (snap) imports nothing of ours; the sandbox (DANA's side) knows only the protocol, never the
merchant-side graders; the engine reaches DANA's side only through target.py.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent / "conformance"
MERCHANT_SIDE = {"client", "binding", "bindlint", "webhook", "receiver", "findings"}

# layer (first part of the module path under conformance/) -> what it may import of conformance
ALLOWED = {
    "snap": {"snap"},
    "sandbox": {"sandbox", "snap", "evidence"},      # evidence: only its pure Redactor, for the traffic journal
    "findings": set(),
    "client": {"snap"},
    "binding": {"snap", "findings"},
    "bindlint": {"binding", "snap", "findings"},
    "webhook": {"snap", "findings"},
    "receiver": {"snap"},
    "settings": {"snap"},
    "target": {"settings", "snap", "receiver", "sandbox"},     # the only door to the sandbox: starts it
    "browser": {"browser", "binding", "snap"},
    "evidence": {"evidence", "findings", "snap", "scenarios"},   # scenarios: runinfo counts against the catalogue
    "scenarios": {"scenarios", "snap", "findings", "target", "evidence", "merchant"} | MERCHANT_SIDE | {"browser"},
    # merchant mode: the engine's step kinds that drive the merchant's backend (docs/merchant-mode.md)
    "merchant": {"merchant", "scenarios", "snap", "findings", "target", "evidence", "binding", "bindlint", "client",
                 "browser"},
    "plugin": {"browser", "evidence", "scenarios", "settings", "snap", "target", "findings", "catalogue", "retry",
               "progress", "merchant", "runstate"},
    # the run's state in one pytest process: settings, target, browser, results, report and bundle
    "runstate": {"browser", "evidence", "settings", "target", "catalogue", "merchant", "ahead", "retry"},
    "cli": {"evidence", "scenarios", "settings", "snap", "target", "findings", "binding", "bindlint", "catalogue",
            "progress", "scaffold", "doctor", "merchant", "cli_evidence", "person", "retry", "schemas"},
    "cli_evidence": {"evidence", "settings", "snap"},            # dana-uat bundle, verify-bundle, the run's verdict
    "schemas": {"scenarios", "merchant"},                        # the editor schemas (dana-uat schema)
    "catalogue": set(),                                          # where the shipped catalogue is
    "progress": {"runstate"},                                    # the run's console lines (runstate.dana_info)
    "ahead": set(),                                              # scenarios side by side
    "retry": set(),                                              # which failures are DANA's flakiness
    "person": set(),                                             # production: the person's account, asked
    "scaffold": {"settings", "snap"},                            # dana-uat init
    "doctor": {"settings", "snap", "browser"},                   # dana-uat doctor and the run's preflight
    "__init__": set(),
}
# Known exceptions, each with the change that removes it; the test fails once one is no longer needed.
PENDING: dict[tuple[str, str], str] = {}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "conformance":
            parts = node.module.split(".")
            found |= {a.name for a in node.names} if len(parts) == 1 else {parts[1]}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("conformance.")}
    return found


def test_each_layer_imports_only_what_it_may():
    broken, pending_seen = [], set()
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        layer = rel.split("/")[0].removesuffix(".py")
        assert layer in ALLOWED, f"{rel}: a new layer; add it to ALLOWED here and to docs/architecture.md"
        for name in imports(path) - ALLOWED[layer]:
            if (rel, name) in PENDING:
                pending_seen.add((rel, name))
            else:
                broken.append(f"{rel} imports conformance.{name}")
    assert broken == []
    assert pending_seen == set(PENDING), "an exception in PENDING is no longer needed: remove it"

