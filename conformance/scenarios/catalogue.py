"""Where the shipped scenario catalogue is: the package ``conformance_catalogue`` of an installed wheel
(setup.py copies the repository's ``scenarios/`` into it), else ``scenarios/`` of this checkout."""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from pathlib import Path

from conformance.evidence.runinfo import PRODUCTION_SAFE, CatalogueEntry
from conformance.scenarios.loader import ScenarioFileError, find_files, load_file

LABEL = "scenarios"     # shown for the shipped catalogue in node ids, whatever folder it is installed in


def shipped() -> Path:
    """The catalogue folder of this installation (an editable install uses the checkout's scenarios/)."""
    spec = importlib.util.find_spec("conformance_catalogue")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).resolve()
    return (Path(__file__).resolve().parents[2] / "scenarios").resolve()   # a checkout, editable or not


def label(path: Path) -> str | None:
    """``scenarios/<relative path>`` for a file of the shipped catalogue (as in the source tree), else None."""
    try:
        return f"{LABEL}/{Path(path).resolve().relative_to(shipped()).as_posix()}"
    except ValueError:
        return None


def shown(path: Path, here: Path) -> str:
    """How the console and the evidence name ``path``: the shipped catalogue by its label, else relative to
    ``here`` when below it, else as it is."""
    resolved = Path(path).resolve()
    if resolved == shipped():
        return LABEL
    try:
        return label(resolved) or resolved.relative_to(Path(here).resolve()).as_posix()
    except ValueError:
        return str(path)


def load_catalogue(scenario_dir: Path, display: Callable[[Path], str]) -> tuple[list[CatalogueEntry], str]:
    """Every scenario of the catalogue (broken files skipped: they are reported as broken) and its hash."""
    root = Path(scenario_dir)
    files = [root] if root.is_file() else find_files(root) if root.is_dir() else []
    digest, entries = hashlib.sha256(), []
    for path in files:
        shown = display(path)
        digest.update(shown.encode() + b"\0" + path.read_bytes() + b"\0")
        try:
            loaded = load_file(path, shown)
        except ScenarioFileError:
            continue
        for sc in [] if loaded is None else loaded.scenarios:
            s = sc.scenario
            entries.append(CatalogueEntry(f"{shown}::{sc.id}", sc.id, s.title or "", s.portal or "(no portal group)",
                                          bool(s.mandatory), PRODUCTION_SAFE in s.marks))
    return entries, "sha256:" + digest.hexdigest()
