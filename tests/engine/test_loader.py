import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.scenarios import catalogue, yamlsource
from conformance.scenarios.loader import ScenarioFileError, find_files, load_file
from conformance.scenarios.yamlsource import load_yaml

from .malformed import GOOD_CALL, MALFORMED, scenario_file


def load_text(tmp_path: Path, text: str):
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    return load_file(path, "scenarios/case.yaml")


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_file_names_line_field_and_problem(tmp_path, name):
    text, line, field, fragment = MALFORMED[name]
    with pytest.raises(ScenarioFileError) as info:
        load_text(tmp_path, text)
    first = info.value.errors[0]
    assert (first.line, first.field) == (line, field), str(info.value)
    assert fragment in first.message, str(info.value)
    rendered = str(info.value)
    assert rendered.startswith(f"scenarios/case.yaml:{line}: ")
    if text:
        assert f"> {line} |" in rendered.replace(f">  {line} |", f"> {line} |"), rendered  # snippet marks the line
        assert "^" in rendered


def test_all_problems_of_a_file_are_reported(tmp_path):
    text = scenario_file("      - call: widget_payment\n        expect: {status: 200}\n"
                         "      - clock: soon\n")
    with pytest.raises(ScenarioFileError) as info:
        load_text(tmp_path, text)
    assert [e.field for e in info.value.errors] == ["scenarios[0].steps[0].expect.responseCode",
                                                   "scenarios[0].steps[1].clock"]


def test_valid_file_loads_with_lines_and_saved_names(tmp_path):
    text = ("api: widget_payment\n"
            "defaults:\n  request:\n    merchantId: ${merchant.id}\n    partnerReferenceNo: ${ref}\n"
            "scenarios:\n"
            "  - id: pay_and_query\n    title: t\n    mandatory: true\n    marks: [slow]\n    steps:\n"
            "      - call: widget_payment\n"
            "        expect: {status: 200, responseCode: 2005400, body: {webRedirectUrl: {$type: url}}}\n"
            "        save: {web: body.webRedirectUrl}\n"
            "      - save: {paymentUrl: \"${web}&ott=x\"}\n"
            "      - call: query_payment\n        request: {originalPartnerReferenceNo: \"${ref}\", note: \"${paymentUrl}\"}\n"
            "        expect: {status: 200, responseCode: \"2005500\"}\n")
    loaded = load_text(tmp_path, text)
    (sc,) = loaded.scenarios
    assert sc.id == "pay_and_query" and sc.line == 7 and sc.scenario.mandatory
    assert sc.scenario.steps[0].expect.responseCode == "2005400"   # an unquoted code is accepted as text
    assert loaded.model.defaults.request["merchantId"] == "${merchant.id}"


def test_saved_name_is_known_only_after_the_step_that_saves_it(tmp_path):
    steps = ("      - call: widget_payment\n        request: {x: \"${web}\"}\n"
             "        expect: {status: 200, responseCode: \"2005400\"}\n        save: {web: body.webRedirectUrl}\n")
    with pytest.raises(ScenarioFileError, match=r"unknown name \$\{web\}"):
        load_text(tmp_path, scenario_file(steps))


def test_quoted_timestamps_are_text(tmp_path):
    text = scenario_file(GOOD_CALL + "        request: {validUpTo: \"2026-01-01T10:00:00+07:00\"}\n")
    loaded = load_text(tmp_path, text)
    assert loaded.scenarios[0].scenario.steps[0].request["validUpTo"] == "2026-01-01T10:00:00+07:00"


@settings(max_examples=60, deadline=None)
@given(depth=st.integers(1, 3000), fan=st.integers(1, 12), levels=st.integers(0, 12), flow=st.booleans())
def test_nested_and_aliased_files_are_bounded(tmp_path_factory, depth, fan, levels, flow):
    """Deep nesting and alias fan-out fail with a file:line error naming the bound exactly when they pass it (so
    nothing deeper or larger is ever built), never with a traceback."""
    if flow:
        text = "api: " + "[" * depth + "]" * depth + "\n"
        deepest, text_values = depth + 1, 1 + depth         # the root mapping, then `depth` sequences
    else:
        text = "".join("  " * i + "k:\n" for i in range(min(depth, 400)))
        deepest, text_values = min(depth, 400) + 1, 2 * min(depth, 400)   # mappings, then the innermost null
    anchors, previous = ["a0: &a0 [x]"], "a0"
    sizes = [2]                                             # values of each anchor once its aliases are copied out
    for level in range(1, levels + 1):
        anchors.append(f"a{level}: &a{level} [{', '.join(['*' + previous] * fan)}]")
        previous = f"a{level}"
        sizes.append(1 + fan * sizes[-1])
    expanded = 1 + sum(1 + size for size in sizes) + text_values     # the root mapping's, the largest
    try:
        load_text(tmp_path_factory.mktemp("fuzz"), "\n".join(anchors) + "\n" + text)
        error = ""
    except ScenarioFileError as exc:
        error = str(exc)
        assert error.startswith("scenarios/case.yaml:") and "Traceback" not in error
    too_deep = deepest > yamlsource.MAX_DEPTH
    assert (f"nested deeper than {yamlsource.MAX_DEPTH} levels" in error) == too_deep, (deepest, error[:300])
    if not too_deep:
        assert (f"aliases expand to more than {yamlsource.MAX_NODES} values" in error) == \
            (expanded > yamlsource.MAX_NODES), (expanded, error[:300])


def _shipped_yaml() -> list[Path]:
    return find_files(catalogue.shipped())


@pytest.mark.parametrize("path", _shipped_yaml(), ids=lambda p: p.relative_to(catalogue.shipped()).as_posix())
def test_catalogue_file_loads_as_yaml_safe_load_reads_it(path):
    """Scenario files are standard YAML: the located loader's data is yaml.safe_load's, to the type (JSON tells
    1 from True and 1.0), so an editor, yamllint or a merchant's pre-commit hook reads what the suite runs."""
    text = path.read_text(encoding="utf-8")
    ours, standard = load_yaml(path, text).data, yaml.safe_load(text)
    assert standard is not None
    assert json.dumps(ours, sort_keys=True) == json.dumps(standard, sort_keys=True)


def test_catalogue_is_found():
    assert len(_shipped_yaml()) >= 15     # the test above is not vacuous
