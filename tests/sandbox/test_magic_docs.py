"""docs/sandbox.md's magic-value table is a copy of magic.yaml, the table the sandbox reads; they agree."""

from pathlib import Path

from conformance.sandbox.rules import Rules

DOC = Path(__file__).parent.parent.parent / "docs" / "sandbox.md"
HEADING = "## Magic values"


def row(entry: dict) -> str:
    outcome = entry["code"] or f"success, effect: {entry['effect']}"
    return f"| {entry['api']} | {entry['field']} | `{entry['value']}` | {outcome} | {entry['note']} |"


def test_the_documented_magic_values_are_the_sandboxs_table():
    section = DOC.read_text(encoding="utf-8").split(HEADING, 1)[1].split("\n## ", 1)[0]
    documented = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| API ")]
    assert documented == [row(e) for e in Rules.load().table()]
