"""Every scenario named in DANA's UAT material has a YAML scenario, or a written reason why not.

scenarios/reference-index.yaml maps each DANA case name to a scenario id of the catalogue (or a reason);
docs/references.md names the public sources those case names come from.
"""

from pathlib import Path

import pytest
import yaml

from conformance.scenarios.loader import load_file

ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT / "scenarios" / "reference-index.yaml"


def catalogue() -> dict[str, dict]:
    """scenario id -> {file, mandatory, api} for every scenario file under scenarios/."""
    found = {}
    for path in sorted((ROOT / "scenarios").rglob("*.yaml")):
        loaded = load_file(path, str(path.relative_to(ROOT)))
        if loaded is None:               # a data file such as the index itself
            continue
        for scenario in loaded.scenarios:
            assert scenario.id not in found, f"duplicate scenario id {scenario.id} in {path}"
            found[scenario.id] = {"file": path.name, "mandatory": scenario.scenario.mandatory}
    return found


@pytest.fixture(scope="module")
def index() -> dict:
    return yaml.safe_load(INDEX.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def scenarios() -> dict:
    return catalogue()


def _entry(value) -> tuple[str | None, str | None]:
    if isinstance(value, str):
        return value, None
    assert isinstance(value, dict), f"entry must be an id or a mapping, got {value!r}"
    return value.get("scenario"), value.get("reason")


def test_every_index_entry_names_an_existing_scenario_or_gives_a_reason(index, scenarios):
    problems = []
    for name, value in index.items():
        scenario, reason = _entry(value)
        if scenario and scenario not in scenarios:
            problems.append(f"{name}: scenario {scenario!r} is not in the catalogue")
        if not scenario and not (reason and len(reason.split()) >= 5):
            problems.append(f"{name}: neither a scenario nor a written reason")
    assert not problems, "\n".join(problems)


def test_the_mandatory_thirteen(scenarios):
    mandatory = {sid for sid, s in scenarios.items() if s["mandatory"]}
    notify = {"transaction_success_notify", "internal_server_error_notify", "expired_notify"}
    payment = {sid for sid in mandatory if scenarios[sid]["file"] == "payment.yaml"}
    assert len(payment) == 10 and notify <= mandatory and len(mandatory) == 13, sorted(mandatory)
