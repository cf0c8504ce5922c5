"""The step-kind registry: a kind registered through the registry alone loads, runs, saves and fails."""

import json

import pytest
from pydantic import Field

from conformance.findings import Finding
from conformance.scenarios import kinds, schema, steps
from conformance.scenarios.loader import ScenarioFileError, load_file


class EchoStep(schema.Strict):
    echo: str = Field(..., description="A text to render.")
    equals: str = Field(..., description="What the rendered text must be.")
    name: str | None = None
    save: dict[str, str] = Field(default_factory=dict)


def run_echo(run, step, where):
    value = run.expr.render(step.echo)
    run.recorder.event("echo", value=value)
    run.expr.saved["echoed"] = value
    found = steps.save(run, step.save, {"value": value}, where)
    if value != run.expr.render(step.equals):
        found.append(Finding("FAIL", "echo", step.equals, value, where=where))
    return found


@pytest.fixture
def echo_kind():
    kind = kinds.register(kinds.StepKind("echo", EchoStep, run_echo, saves=("value",), auto_saved=("echoed",),
                                         label=lambda s: "toy", asserts=lambda s: True))
    yield kind
    kinds.unregister("echo")


FLOW = """\
api: apply_token
scenarios:
  - id: toy_kind_runs
    title: a kind registered by a test runs like a built-in one
    steps:
      - echo: "hello ${merchant.id}"
        equals: "hello ${merchant.id}"
        save: {said: value}
      - echo: "${said}|${echoed}"
        equals: "EXPECTED"
"""


def test_a_registered_kind_loads_runs_and_saves(pytester, echo_kind):
    pytester.makefile(".yaml", **{"scenarios/toy": FLOW.replace("EXPECTED", "${said}|${said}")})
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    evidence = json.loads((pytester.path / "reports/latest/evidence/toy_kind_runs.json").read_text())
    assert [s["name"] for s in evidence["steps"]] == ["step 1 echo toy", "step 2 echo toy"]
    echoed = [e["value"] for e in evidence["exchanges"] if e["type"] == "echo"]
    assert echoed[1] == f"{echoed[0]}|{echoed[0]}" and echoed[0].startswith("hello ")


def test_a_registered_kind_can_fail(pytester, echo_kind):
    pytester.makefile(".yaml", **{"scenarios/toy": FLOW.replace("EXPECTED", "something else")})
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*failed at step 2 echo toy*"])


def test_the_loader_knows_its_sources_and_saved_names(tmp_path, echo_kind):
    bad = tmp_path / "toy.yaml"
    bad.write_text(FLOW.replace("{said: value}", "{said: nope}"))
    with pytest.raises(ScenarioFileError, match="'nope' is not a source of echo steps; use one of value"):
        load_file(bad)


def test_an_unregistered_kind_is_unknown(tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text(FLOW)
    with pytest.raises(ScenarioFileError, match="a step needs one action: call, bind"):
        load_file(path)


def test_every_builtin_kind_is_registered_once_with_its_model():
    assert [k.name for k in kinds.BUILTIN] == ["call", "bind", "token", "checkout", "notify", "clock", "pay", "save"]
    for kind in kinds.BUILTIN:
        assert kinds.KINDS[kind.name] is kind and kind.name in kind.model.model_fields
    # "save" is also a field of other kinds: a call step that saves is a call step
    assert kinds.kind_of({"call": "apply_token", "save": {}}) == "call"
