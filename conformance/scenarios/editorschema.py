"""The JSON Schema of scenario files, for editors and other tools (``dana-uat schema scenarios``).

Generated from what the loader validates with, never written by hand: pydantic's schema of
``schema.ScenarioFile`` with the registered step kinds (kinds.py), where each step variant requires the key
that names its kind (as ``kinds.kind_of`` decides), plus the matcher and request-template rules of
``loader._walk_matchers`` built from the same tables (``schema.MATCHERS``, ``schema.TYPE_NAMES``). Rules that
need the whole file (expressions, saved names, unique ids) stay the loader's.

With the YAML language server (VS Code's YAML extension and others), a first line
``# yaml-language-server: $schema=<the file dana-uat schema scenarios wrote>`` makes the editor complete step
kinds, matchers and fields and underline mistakes.
"""

from __future__ import annotations

from conformance.scenarios import kinds, schema

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_NOT_A_MATCHER = {"not": {"pattern": "^\\$"}}        # a key that starts with $ is a matcher
_SCALAR = {"type": ["string", "number", "boolean", "null"]}

# (model, field) whose value may hold matchers (kinds' ``matchers``) or is a request template (``templates``)
EXPECTED = ((schema.Expect, "body"), (schema.Expect, "headers"), (schema.Expect, "responseMessage"),
            (schema.NotifyOptions, "fields"))
TEMPLATES = ((schema.CallStep, "request"), (schema.CallDefaults, "request"), (schema.Defaults, "request"))


def _matcher_defs() -> dict:
    args = {name: {"description": text} for name, text in schema.MATCHERS.items()}
    args["$any"]["const"] = args["$absent"]["const"] = True
    args["$type"]["enum"] = list(schema.TYPE_NAMES)
    return {
        "Matcher": {"description": "A matcher: a one-key mapping.", "type": "object", "properties": args,
                    "additionalProperties": False, "minProperties": 1, "maxProperties": 1},
        "Expected": {"description": "A value compared exactly, an object listing the fields to check, or a matcher.",
                     "anyOf": [{"$ref": "#/$defs/Matcher"},
                               {"type": "object", "propertyNames": _NOT_A_MATCHER,
                                "additionalProperties": {"$ref": "#/$defs/Expected"}},
                               {"type": "array", "items": {"$ref": "#/$defs/Expected"}}, _SCALAR]},
        "Template": {"description": "Request fields; {$absent: true} removes a default field.",
                     "anyOf": [{"type": "object", "properties": {"$absent": {"const": True}}, "required": ["$absent"],
                                "additionalProperties": False},
                               {"type": "object", "propertyNames": _NOT_A_MATCHER,
                                "additionalProperties": {"$ref": "#/$defs/Template"}},
                               {"type": "array", "items": {"$ref": "#/$defs/Template"}}, _SCALAR]},
    }


def scenarios() -> dict:
    """The JSON Schema of a scenario file, with every registered step kind."""
    doc = schema.ScenarioFile.model_json_schema()
    defs = doc["$defs"]
    variants = defs["Scenario"]["properties"]["steps"]["items"]["oneOf"]
    for kind, variant in zip(kinds.ordered(), variants, strict=True):   # the union's order (use_step_models)
        model = defs[variant["$ref"].rsplit("/", 1)[1]]
        model["required"] = sorted({*model.get("required", ()), kind.name})
    for (model, name), ref in [(f, "Expected") for f in EXPECTED] + [(f, "Template") for f in TEMPLATES]:
        defs[model.__name__]["properties"][name]["allOf"] = [{"$ref": f"#/$defs/{ref}"}]
    defs.update(_matcher_defs())
    return {"$schema": DIALECT, "title": "dana-uat scenario file", **doc}
