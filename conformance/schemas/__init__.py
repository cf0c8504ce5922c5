"""The JSON Schemas for editors, as `dana-uat schema NAME` prints them and this folder ships them
(``<name>.schema.json``; `make schemas` regenerates the files, tests/test_editor_schema.py compares them).

Generated from the models the loaders validate with: scenario files (scenarios/editorschema.py) and the merchant
profile (merchant/profile.py).
"""

from __future__ import annotations

import json
from pathlib import Path

NAMES = ("scenarios", "merchant-profile")
SHIPPED = Path(__file__).parent


def text(name: str) -> str:
    """The JSON Schema ``name`` (one of NAMES) as JSON text."""
    from conformance.merchant.profile import json_schema as profile_schema
    from conformance.scenarios import editorschema

    doc = editorschema.scenarios() if name == "scenarios" else profile_schema()
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
