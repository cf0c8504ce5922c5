"""Malformed scenario files, each with the line and message the loader must report.

Shared by the loader unit tests and the pytester collection tests.
"""

GOOD_CALL = """\
      - call: widget_payment
        expect: {status: 200, responseCode: "2005400"}
"""


def _alias_bomb() -> str:
    """Nine levels of nine aliases, about 340 bytes: 9**9 values once expanded."""
    lines, previous = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'], "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]")
        previous = name
    return "\n".join(lines) + "\nscenarios: *i\n"


def scenario_file(steps: str = GOOD_CALL, head: str = "api: widget_payment\n", extra: str = "") -> str:
    return head + "scenarios:\n  - id: s1\n    title: a title\n" + extra + "    steps:\n" + steps


# name -> (file text, expected line, expected field, expected message fragment)
MALFORMED = {
    "yaml_syntax": ("api: widget_payment\nscenarios: [\n  - id: x\n", 3, "", "not valid YAML"),
    "empty_file": ("", 1, "", "the file is empty"),
    "not_a_mapping": ("- just\n- a list\n", 1, "", "a scenario file is a mapping"),
    "unknown_api": (scenario_file(head="api: widget_paymnt\n"), 1, "api", "unknown API 'widget_paymnt'"),
    "no_scenarios": ("api: widget_payment\n", 1, "scenarios", "is required"),
    "bad_id": (scenario_file().replace("id: s1", "id: Bad-Id"), 3, "scenarios[0].id", "must be lower case"),
    "missing_title": ("api: widget_payment\nscenarios:\n  - id: s1\n    steps:\n" + GOOD_CALL, 3,
                      "scenarios[0].title", "is required"),
    "no_expect": (scenario_file("      - call: widget_payment\n        request: {a: 1}\n"), 6,
                  "scenarios[0].steps[0].expect", "a call step needs expect with at least status and responseCode"),
    "no_response_code": (scenario_file("      - call: widget_payment\n        expect: {status: 200}\n"), 7,
                         "scenarios[0].steps[0].expect.responseCode", "every call step asserts status and responseCode"),
    "bad_response_code": (scenario_file(GOOD_CALL.replace('"2005400"', '"200540"')), 7,
                          "scenarios[0].steps[0].expect.responseCode", "must be a 7-digit SNAP code"),
    "unknown_field": (scenario_file(GOOD_CALL + "        expct: {status: 200}\n"), 8,
                      "scenarios[0].steps[0].expct", "is not a known field (known: call, name, request"),
    "no_action": (scenario_file("      - wait: 5s\n"), 6, "scenarios[0].steps[0]", "a step needs one action"),
    "two_actions": (scenario_file("      - clock: 5m\n        bind: {}\n"), 6, "scenarios[0].steps[0].clock",
                    "a step has exactly one action"),
    "bad_tamper": (scenario_file(GOOD_CALL + "        tamper: {signature: broken}\n"), 8,
                   "scenarios[0].steps[0].tamper.signature", "input should be 'invalid'"),
    "bad_clock": (scenario_file("      - clock: soon\n"), 6, "scenarios[0].steps[0].clock", "must be a duration"),
    "unknown_expression": (scenario_file(GOOD_CALL + "        request: {merchantId: \"${merchant.code}\"}\n"), 8,
                           "scenarios[0].steps[0].request.merchantId", "unknown name ${merchant.code}"),
    "unsaved_name": (scenario_file(GOOD_CALL + "        request: {x: \"${webUrl}\"}\n"), 8,
                     "scenarios[0].steps[0].request.x", "unknown name ${webUrl}"),
    "bad_now": (scenario_file(GOOD_CALL + "        request: {validUpTo: \"${now + 15 minutes}\"}\n"), 8,
                "scenarios[0].steps[0].request.validUpTo", "write the time as ${now}"),
    "bad_matcher": (scenario_file(GOOD_CALL.replace("}", ", body: {referenceNo: {$regexp: x}}}")), 7,
                    "scenarios[0].steps[0].expect.body.referenceNo", "a matcher has exactly one of"),
    "bad_regex": (scenario_file(GOOD_CALL.replace("}", ", body: {referenceNo: {$regex: '(x'}}}")), 7,
                  "scenarios[0].steps[0].expect.body.referenceNo.$regex", "is not a valid regular expression"),
    "duplicate_id": (scenario_file(GOOD_CALL) + "  - id: s1\n    title: again\n    steps:\n" + GOOD_CALL, 8,
                     "scenarios[1].id", "duplicate id 's1'"),
    "bad_save_source": (scenario_file(GOOD_CALL + "        save: {url: webRedirectUrl}\n"), 8,
                        "scenarios[0].steps[0].save.url", "is not a source"),
    "nothing_asserted": (scenario_file("      - clock: 1m\n      - save: {x: 1}\n"), 5, "scenarios[0].steps",
                         "no step asserts an HTTP status and responseCode"),
    "wrong_path": (scenario_file(GOOD_CALL + "        path: /v1.0/debit/status.htm\n"), 8,
                   "scenarios[0].steps[0].path", "is not a path of widget_payment"),
    "duplicate_key": (scenario_file(GOOD_CALL).replace("title: a title\n", "title: a\n    title: b\n"), 5, "",
                      "duplicate key 'title'"),
    # Bounded, not a hang or a RecursionError: the node past 20000 expanded values (e: 9**5), and
    # the first level past 64 of a 5000-deep file.
    "alias_bomb": (_alias_bomb(), 5, "", "aliases expand to more than 20000 values"),
    # Standard YAML reads these differently from what the author meant: the error says how to quote them.
    "unquoted_expression": (scenario_file(GOOD_CALL + "        request: {note: a, x: ${ref}}\n"
                                          "        save: {y: body.x}\n      - save: {z: [${y}]}\n"), 8, "",
                            'must be quoted in YAML: write "${ref}" (unquoted, YAML ends the value at "{"); '
                            "the same on line 10"),
    "unquoted_timestamp": (scenario_file(GOOD_CALL + "        request: {validUpTo: 2026-01-01T10:00:00+07:00}\n"), 8,
                           "", 'is a YAML timestamp; a scenario sends text: quote it, "2026-01-01T10:00:00+07:00"'),
    "deep_nesting": ("api: " + "[" * 5000 + "]" * 5000 + "\n", 1, "", "nested deeper than 64 levels"),
}
