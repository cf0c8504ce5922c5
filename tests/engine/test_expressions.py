from datetime import datetime

import pytest

from conformance.scenarios import expressions
from conformance.scenarios.expressions import Context, ExpressionError
from conformance.snap.timestamps import JAKARTA


def make() -> Context:
    fixed = datetime(2026, 1, 1, 10, 0, 0, tzinfo=JAKARTA)
    return Context(ref="ref-1", now=lambda: fixed, values={"merchant.id": lambda: "M1"},
                   saved={"order": {"web": "https://x/y", "items": [1, 2]}, "n": 5})


def test_ref_is_stable_within_a_context_and_fresh_across():
    ctx = make()
    assert ctx.render("${ref}") == ctx.render("${ref}") == "ref-1"
    a, b = Context(), Context()
    assert a.ref != b.ref and len(a.ref) == 36


def test_uuid_is_fresh_at_each_use():
    ctx = make()
    assert ctx.render("${uuid}") != ctx.render("${uuid}")


@pytest.mark.parametrize("text, expected", [
    ("${now}", "2026-01-01T10:00:00+07:00"),
    ("${now + 15m}", "2026-01-01T10:15:00+07:00"),
    ("${now - 1h}", "2026-01-01T09:00:00+07:00"),
    ("${now+30s}", "2026-01-01T10:00:30+07:00"),
    ("${now + 1d}", "2026-01-02T10:00:00+07:00"),
])
def test_now_shifts_in_jakarta_format(text, expected):
    assert make().render(text) == expected


def test_whole_expression_keeps_type_and_embedded_becomes_text():
    ctx = make()
    assert ctx.render("${order}") == {"web": "https://x/y", "items": [1, 2]}
    assert ctx.render("${n}") == 5
    assert ctx.render("${order.web}&ott=1") == "https://x/y&ott=1"
    assert ctx.render("${order.items.1}") == 2
    assert ctx.render({"a": ["${merchant.id}", "$${literal}"]}) == {"a": ["M1", "${literal}"]}


def test_render_does_not_change_its_input():
    data = {"a": {"b": "${ref}"}}
    make().render(data)
    assert data == {"a": {"b": "${ref}"}}


@pytest.mark.parametrize("inner, fragment", [
    ("merchant.code", "merchant.* has: id, partner_id"),
    ("nope", "unknown name ${nope}"),
    ("now + 15 minutes", "write the time as"),
    ("ref.x", "ref has no fields"),
    ("a b", "is not a name"),
])
def test_check_rejects_unknown_names(inner, fragment):
    with pytest.raises(ExpressionError, match=fragment.replace("$", r"\$").replace("{", r"\{").replace("*", r"\*")):
        expressions.check(inner, frozenset())


def test_check_accepts_builtins_namespaces_and_saved():
    for inner in ("ref", "uuid", "now", "now - 2h", "merchant.partner_id", "receiver.notify_url",
                  "settings.phone", "target.web_base", "order", "order.web"):
        expressions.check(inner, frozenset({"order"}))


def test_runtime_errors_are_clear():
    with pytest.raises(ExpressionError, match="has no 'zzz'"):
        make().render("${order.zzz}")
    with pytest.raises(ExpressionError, match="has no value for this target"):
        Context(values={"receiver.notify_url": lambda: None}).render("${receiver.notify_url}")
