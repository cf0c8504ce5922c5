"""The JSON Schemas editors use (`dana-uat schema scenarios|merchant-profile`), checked with the `jsonschema`
package, an independent validator: every catalogue file and both example profiles pass, and what the loaders
refuse for its structure the schema refuses too."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from pydantic import ValidationError

from conformance import schemas
from conformance.cli import main as cli
from conformance.cli import scaffold
from conformance.merchant.profile import Profile
from conformance.scenarios import catalogue, schema
from conformance.scenarios.loader import ScenarioFileError, find_files, load_file
from conformance.scenarios.yamlsource import YamlSyntaxError, load_yaml
from tests.engine.malformed import MALFORMED

ROOT = Path(__file__).resolve().parents[1]


def _validator(name: str) -> jsonschema.protocols.Validator:
    doc = json.loads(schemas.text(name))
    jsonschema.Draft202012Validator.check_schema(doc)
    return jsonschema.Draft202012Validator(doc)


SCENARIOS = _validator("scenarios")
PROFILE = _validator("merchant-profile")


def _catalogue() -> dict[str, dict]:
    files = {}
    for path in find_files(catalogue.shipped()):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if any(k in data for k in ("api", "defaults", "scenarios")):       # not a data file (loader.is_data_file)
            files[path.relative_to(catalogue.shipped()).as_posix()] = data
    return files


CATALOGUE = _catalogue()


def _errors(validator, data) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(data)]


@pytest.mark.parametrize("name", schemas.NAMES)
def test_the_package_ships_the_schema_the_command_prints(name, capsys):
    """conformance/schemas/ holds what the models generate (regenerate: `make schemas`)."""
    assert cli.main(["schema", name]) == 0
    printed = capsys.readouterr().out
    assert (schemas.SHIPPED / f"{name}.schema.json").read_text(encoding="utf-8") == printed
    assert json.loads(printed)["$schema"].startswith("https://json-schema.org/")


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_catalogue_file_is_valid(name):
    assert _errors(SCENARIOS, CATALOGUE[name]) == []


def test_the_catalogue_is_all_there():
    assert len(CATALOGUE) >= 15 and "widget/payment.yaml" in CATALOGUE and "merchant/bind.yaml" in CATALOGUE


def _docs_profile() -> dict:
    """The profile docs/merchant-mode.md shows under "dana-uat.merchant.yaml"."""
    text = (ROOT / "docs" / "merchant-mode.md").read_text(encoding="utf-8")
    section = text[text.index("## 3. Describe your entry points: `dana-uat.merchant.yaml`"):]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    return yaml.safe_load(block)


def test_the_example_profiles_are_valid(monkeypatch):
    """examples/merchant's, the one docs/merchant-mode.md shows, and what `dana-uat init --merchant-profile` writes."""
    monkeypatch.setenv("MERCHANT_BASE_URL", "http://127.0.0.1:8000")
    for profile in (yaml.safe_load((ROOT / "examples/merchant/dana-uat.merchant.yaml").read_text()), _docs_profile(),
                    yaml.safe_load(scaffold.PROFILE_TEMPLATE)):
        Profile.model_validate(profile)                       # the loader takes it ...
        assert _errors(PROFILE, profile) == []               # ... and so does the schema


def _refused_by_the_models(data) -> bool:
    try:
        schema.ScenarioFile.model_validate(data)
    except ValidationError:
        return True
    return False


def test_malformed_files_the_models_refuse_are_refused_by_the_schema():
    """Each file of tests/engine/malformed.py that is YAML within the loader's bounds and whose structure the
    models refuse (not a rule of the whole file such as an unknown expression, which the loader alone checks)."""
    structural = []
    for name, (text, *_rest) in sorted(MALFORMED.items()):
        try:
            data = load_yaml(Path("case.yaml"), text).data
        except YamlSyntaxError:
            continue
        if isinstance(data, dict) and _refused_by_the_models(data):
            structural.append(name)
            assert not SCENARIOS.is_valid(data), name
    assert {"no_expect", "unknown_field", "no_action", "two_actions", "bad_tamper", "bad_clock", "unknown_api",
            "wrong_path"} <= set(structural)


def _first_call(data: dict) -> dict:
    return next(st for sc in data["scenarios"] for st in sc["steps"] if "call" in st)


WITH_CALLS = sorted(name for name, data in CATALOGUE.items()
                    if any("call" in st for sc in data["scenarios"] for st in sc["steps"]))


def _set(key, value):
    return lambda step: step.__setitem__(key, value)


# name -> how to break a file's first call step; the loader refuses each
BREAKS = {
    "responseCode missing": lambda step: step["expect"].pop("responseCode"),
    "status missing": lambda step: step["expect"].pop("status"),
    "responseCode of 5 digits": lambda step: step["expect"].__setitem__("responseCode", "20054"),
    "an unknown field": _set("expct", {"status": 200}),
    "an unknown API": _set("call", "widget_paymnt"),
    "a second action": _set("clock", "5m"),
    "a tamper value that does not exist": _set("tamper", {"signature": "broken"}),
    "a misspelled matcher": lambda step: step["expect"].__setitem__("body", {"x": {"$regexp": "a"}}),
    "a matcher with two keys": lambda step: step["expect"].__setitem__("body", {"x": {"$any": True, "$ci": "a"}}),
    "an unknown $type": lambda step: step["expect"].__setitem__("body", {"x": {"$type": "text"}}),
    "a matcher in a request": lambda step: step.__setitem__("request", {"x": {"$any": True}}),
}


@pytest.mark.parametrize("what", sorted(BREAKS))
def test_a_broken_catalogue_file_is_refused_by_the_loader_and_by_the_schema(what, tmp_path):
    """Each break of every catalogue file that has a call step: the schema refuses it; the loader refuses it too
    (checked on the first such file: the loader's parse is what costs)."""
    for i, name in enumerate(WITH_CALLS):
        data = copy.deepcopy(CATALOGUE[name])
        BREAKS[what](_first_call(data))
        assert not SCENARIOS.is_valid(data), (name, what)
        if i == 0:
            path = tmp_path / "broken.yaml"
            path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
            with pytest.raises(ScenarioFileError):
                load_file(path)


GOOD_PROFILE = {"base_url": "http://127.0.0.1:8000", "bind": {"request": {"path": "/bind"}},
                "pay": {"request": {"method": "POST", "path": "/pay", "json": {"amount": "{amount}"}}}}


@pytest.mark.parametrize("what, change", [
    ("an unknown field", lambda p: p["bind"].update(reqest=p["bind"].pop("request"))),
    ("neither request nor page", lambda p: p["bind"].pop("request")),
    ("both request and page", lambda p: p["bind"].update(page={"url": "/", "click": "a"})),
    ("a relative path", lambda p: p["bind"]["request"].update(path="bind")),
    ("a base_url that is no URL", lambda p: p.update(base_url="shop.example")),
    ("timeout 0", lambda p: p.update(timeout=0)),
    ("an unknown method", lambda p: p["pay"]["request"].update(method="PUT")),
    ("pay missing", lambda p: p.pop("pay")),
])
def test_a_broken_profile_is_refused_by_the_model_and_by_the_schema(what, change):
    assert _errors(PROFILE, GOOD_PROFILE) == []
    Profile.model_validate(GOOD_PROFILE)
    broken = copy.deepcopy(GOOD_PROFILE)
    change(broken)
    with pytest.raises(ValidationError):
        Profile.model_validate(broken)
    assert not PROFILE.is_valid(broken), what


def test_the_schema_guides_an_editor_to_step_kinds_and_matchers():
    """What an editor completes: each step variant names its kind, matchers come from schema.MATCHERS."""
    doc = json.loads(schemas.text("scenarios"))
    variants = doc["$defs"]["Scenario"]["properties"]["steps"]["items"]["oneOf"]
    names = {req for v in variants for req in doc["$defs"][v["$ref"].rsplit("/", 1)[1]]["required"]}
    assert {"call", "bind", "checkout", "notify", "clock", "pay", "save", "token"} <= names
    assert set(doc["$defs"]["Matcher"]["properties"]) == set(schema.MATCHERS)
