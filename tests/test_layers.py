"""The layers of the house are its folders, and what each may import (docs/architecture.md, "Layers", keeps the
same table).

Every module of ``conformance/`` lives in a layer folder; only ``findings.py`` (the vocabulary every grader
shares) and the package's ``__init__.py`` sit at the top. The protocol (snap) imports nothing of ours; the
sandbox (DANA's side) knows only the protocol; the engine reaches DANA's side only through ``dana/target.py``;
the layers form no circle, so merchant mode builds on the engine and the engine never imports it (its step kinds
come through the entry-point group ``dana_uat.step_kinds``).
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parent.parent / "conformance"
DOCS = Path(__file__).parent.parent / "docs" / "architecture.md"
TOP = {"__init__.py", "findings.py"}

# layer -> the layers it may import besides itself; "layer.module" allows that one module of a layer
ALLOWED = {
    "snap": set(),                                               # the SNAP-BI protocol: pure functions and tables
    "findings": set(),
    "sandbox": {"snap", "evidence.redaction"},                   # the journal redacts as the recorder does
    "config": {"snap"},
    "client": {"snap", "findings", "config.tls"},                # the merchant's side as the suite plays it
    "dana": {"snap", "config", "client.receiver", "sandbox"},    # the door to DANA's side: starts the sandbox
    "browser": {"snap", "client.binding"},
    "evidence": {"snap", "findings"},
    "scenarios": {"snap", "findings", "client", "dana", "browser", "evidence"},   # the engine
    "merchant": {"snap", "findings", "config.tls", "client", "dana", "browser", "scenarios"},   # merchant mode
    "schemas": {"scenarios", "merchant"},                        # the editor schemas (dana-uat schema)
    "run": {"snap", "config", "dana", "browser", "evidence", "scenarios", "merchant"},   # pytest adapter, run state
    "cli": {"snap", "config", "dana", "browser", "evidence", "scenarios", "merchant", "schemas", "run"},
    "__init__": set(),
}
# layers only some modules may import: DANA's embedded side is reached through the target alone (the CLI starts
# `dana-uat sandbox` by loading sandbox.cli by name, at run time)
ONLY_FROM = {"sandbox": {"dana/target.py"}}
# Known exceptions, each with the change that removes it; the test fails once one is no longer needed.
PENDING: dict[tuple[str, str], str] = {}


def layer_of(rel: str) -> str:
    return rel.split("/")[0].removesuffix(".py")


def imports(path: Path) -> set[str]:
    """``layer.module`` (or ``layer`` for a package's own names) of every conformance import, lazy ones too."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "conformance":
            parts = node.module.split(".")
            found |= {f"{parts[1]}.{a.name}" if len(parts) == 2 else a.name for a in node.names} if len(parts) <= 2 \
                else {".".join(parts[1:3])}
        elif isinstance(node, ast.Import):
            found |= {".".join(a.name.split(".")[1:3]) for a in node.names if a.name.startswith("conformance.")}
    return found


def modules() -> list[tuple[str, Path]]:
    return [(p.relative_to(ROOT).as_posix(), p) for p in sorted(ROOT.rglob("*.py"))]


def test_every_module_lives_in_a_layer_folder():
    loose = sorted(p.name for p in ROOT.glob("*.py") if p.name not in TOP)
    assert loose == [], f"a module at the top of conformance/: move it into its layer's folder ({loose})"
    unknown = sorted({layer_of(rel) for rel, _ in modules()} - set(ALLOWED))
    assert unknown == [], f"a new layer {unknown}: add it to ALLOWED here and to docs/architecture.md"


def test_each_layer_imports_only_what_it_may():
    broken, pending_seen = [], set()
    for rel, path in modules():
        layer = layer_of(rel)
        for name in imports(path):
            target = name.split(".")[0]
            ok = target == layer or target in ALLOWED[layer] or name in ALLOWED[layer]
            ok = ok and (target == layer or target not in ONLY_FROM or rel in ONLY_FROM[target])
            if ok:
                continue
            if (rel, name) in PENDING:
                pending_seen.add((rel, name))
            else:
                broken.append(f"{rel} imports conformance.{name}")
    assert broken == []
    assert pending_seen == set(PENDING), "an exception in PENDING is no longer needed: remove it"


def test_the_layers_form_no_circle():
    graph = {layer: {name.split(".")[0] for name in allowed} for layer, allowed in ALLOWED.items()}

    def reaches(start: str, goal: str, seen: frozenset = frozenset()) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start])

    circles = sorted(layer for layer in graph if reaches(layer, layer))
    assert circles == [], f"these layers import each other in a circle: {circles}"


def test_the_engine_never_imports_merchant_mode():
    """Registration goes one way: merchant/ imports scenarios/, and its kinds reach the registry through the
    entry-point group dana_uat.step_kinds (pyproject.toml), never through an import in scenarios/."""
    seen = {rel: sorted(n for n in imports(p) if n.split(".")[0] == "merchant")
            for rel, p in modules() if layer_of(rel) == "scenarios"}
    assert {rel: names for rel, names in seen.items() if names} == {}
    text = "\n".join(p.read_text(encoding="utf-8") for rel, p in modules() if layer_of(rel) == "scenarios")
    assert "conformance.merchant" not in text, "not by name either (importlib, strings)"


def test_the_architecture_page_names_every_layer_folder():
    page = DOCS.read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([a-z_]+)(?:/|\.py)`", page, flags=re.M))
    assert rows >= set(ALLOWED) - {"__init__"}, f"docs/architecture.md, Layers: no row for {set(ALLOWED) - rows}"
