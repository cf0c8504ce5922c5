"""`--target production`: explicit, confirmed, and only the scenarios marked production_safe.

Nothing here reaches DANA: the unconfirmed run stops at configuration, the confirmed one only collects.
"""

from conformance.snap import keys

from .test_plugin import _cli, pay_file


def _safe_file() -> str:
    text = pay_file()
    marker = "  - id: pay_bad_signature\n"
    return text.replace(marker, marker + "    marks: [production_safe]\n")


def test_production_needs_the_confirmation_flag(pytester):
    pytester.makefile(".yaml", **{"scenarios/widget/payment": _safe_file()})
    result = _cli(pytester.path, "run", "--target", "production")
    assert result.returncode == 2
    assert "--confirm-production" in result.stderr and "DANA's production" in result.stderr


def test_a_confirmed_production_run_selects_only_production_safe_scenarios(pytester, monkeypatch):
    pytester.makefile(".yaml", **{"scenarios/widget/payment": _safe_file()})
    for name, value in (("X_PARTNER_ID", "2026000000000000000001"), ("MERCHANT_ID", "216600000000000000001"),
                        ("PRIVATE_KEY", keys.private_key_pem(keys.generate_private_key()))):
        monkeypatch.setenv(name, value)
    result = pytester.runpytest("--dana-target", "production", "--dana-confirm-production", "--collect-only", "-q",
                                "-p", "no:cacheprovider")
    collected = [line for line in result.outlines if "::" in line]
    assert collected == ["scenarios/widget/payment.yaml::pay_bad_signature"]
    assert "2 deselected" in result.stdout.str()
