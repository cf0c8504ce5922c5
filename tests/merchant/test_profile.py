"""The merchant profile: the example's loads; every mistake is named with file, line and field."""

from __future__ import annotations

import pytest

from conformance.merchant.profile import ProfileError, fill, load_profile
from tests.merchant.harness import PROFILE

GOOD = """base_url: http://127.0.0.1:8000
bind:
  request: {path: /bind}
pay:
  request: {method: POST, path: /pay, json: {amount: "{amount}"}}
"""


def _load(tmp_path, text: str):
    path = tmp_path / "dana-uat.merchant.yaml"
    path.write_text(text)
    return load_profile(path, "dana-uat.merchant.yaml")


def test_the_examples_profile_loads_with_the_environment(monkeypatch):
    monkeypatch.setenv("MERCHANT_BASE_URL", "http://127.0.0.1:8123/")
    profile = load_profile(PROFILE)
    assert profile.base_url == "http://127.0.0.1:8123"
    assert profile.url("/orders/1") == "http://127.0.0.1:8123/orders/1"
    assert profile.status.paid == "PAID" and profile.pay.url_field == "checkoutUrl"


def test_placeholders_are_filled_in_paths_and_bodies():
    assert fill({"amount": "{amount}", "x": ["{phone}", 1]}, {"amount": "10.00", "phone": "0838"}) == {
        "amount": "10.00", "x": ["0838", 1]}
    assert fill("/orders/{partnerReferenceNo}", {"partnerReferenceNo": "A1"}) == "/orders/A1"


@pytest.mark.parametrize("text, where, message", [
    (GOOD.replace("{amount}", "100"), "dana-uat.merchant.yaml:5: field 'pay.request'", "must carry {amount}"),
    (GOOD.replace("request: {path: /bind}", "reqest: {path: /bind}"), "dana-uat.merchant.yaml:3: field "
     "'bind.reqest'", "is not a known field"),
    (GOOD.replace("{path: /bind}", "{path: bind}"), "dana-uat.merchant.yaml:3: field 'bind.request.path'",
     "must start with '/'"),
    (GOOD.replace("http://127.0.0.1:8000", "${NO_SUCH_VARIABLE_SET}"), "dana-uat.merchant.yaml:1: field 'base_url'",
     "environment variable NO_SUCH_VARIABLE_SET is not set"),
    (GOOD + "timeout: 0\n", "dana-uat.merchant.yaml:6: field 'timeout'", "greater than 0"),
    (GOOD.replace("  request: {path: /bind}", "  request: {path: /bind}\n  page: {url: /, click: a}"),
     "dana-uat.merchant.yaml:2: field 'bind'", "exactly one of request or page"),
    ("bind: [\n", "dana-uat.merchant.yaml:2", "not valid YAML"),
])
def test_a_wrong_profile_names_file_line_and_field(tmp_path, text, where, message):
    with pytest.raises(ProfileError) as err:
        _load(tmp_path, text)
    assert where in str(err.value) and message in str(err.value), str(err.value)


def test_a_missing_profile_says_so(tmp_path):
    with pytest.raises(ProfileError, match="cannot be read"):
        load_profile(tmp_path / "absent.yaml", "absent.yaml")


def test_which_merchant_scenarios_will_use_the_browser_depends_on_their_options_and_the_profile(tmp_path):
    """The run starts Chromium ahead only for scenarios that will drive it (run/state.run_ahead): a bind through
    the merchant does, a bind whose redirect the suite delivers does not, unless the profile's bind is a page."""
    from conformance.scenarios import kinds
    from conformance.scenarios.loader import load_file
    from tests.merchant.harness import ROOT

    request = _load(tmp_path, GOOD)
    page = _load(tmp_path, GOOD.replace("request: {path: /bind}", 'page: {url: /account, click: "#link-dana"}'))
    loaded = {sc.scenario.id: sc.scenario.steps for name in ("bind", "pay", "webhook")
              for sc in load_file(ROOT / "scenarios" / "merchant" / f"{name}.yaml").scenarios}
    uses = {sid for sid, steps in loaded.items() if kinds.will_use_browser(steps, request)}
    assert uses == {"merchant_bind_through_merchant", "merchant_pay_through_merchant"}   # bind in, checkout
    assert all(kinds.needs_browser(steps) for steps in loaded.values())                # the mark: they may
    assert all(kinds.will_use_browser(steps, page) for steps in loaded.values())
    assert not kinds.will_use_browser(loaded["merchant_forged_callback"], None)          # complete: false


def test_init_writes_a_commented_profile_template_that_loads_and_is_never_overwritten(tmp_path, monkeypatch):
    import subprocess
    import sys

    from conformance.merchant.profile import load_profile

    run = lambda: subprocess.run([sys.executable, "-m", "conformance.cli", "init", "--merchant-profile"],  # noqa: E731
                                 cwd=tmp_path, capture_output=True, text=True, timeout=60)
    first = run()
    assert first.returncode == 0, first.stderr
    written = tmp_path / "dana-uat.merchant.yaml"
    assert "wrote dana-uat.merchant.yaml" in first.stdout
    text = written.read_text()
    assert text.count("\n#") >= 10                       # commented for a merchant who has not read the docs
    monkeypatch.setenv("MERCHANT_BASE_URL", "http://127.0.0.1:8000")
    profile = load_profile(written)
    assert (profile.base_url, profile.bind.request.path, profile.status.paid) == (
        "http://127.0.0.1:8000", "/bind?phone={phone}", "PAID")
    assert profile.refund is None and profile.cancel is None    # optional triggers stay commented out
    written.write_text("base_url: mine\n")
    second = run()
    assert second.returncode == 2 and "never overwrites" in second.stderr + second.stdout
    assert written.read_text() == "base_url: mine\n"
