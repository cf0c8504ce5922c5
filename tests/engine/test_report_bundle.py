"""The HTML report and the signed go-live bundle of real runs: counted against the catalogue, simulations and
incomplete runs marked, bundles refused or verified (duplicates, a re-signed bundle, a given public key)."""

import hashlib
import json
import zipfile

import pytest

from conformance.evidence.bundle import MANIFEST, PUBLIC_KEY, SIGNATURE, verify_bundle
from conformance.snap import keys, sign

from .test_plugin import _cli, pay_file


def _outputs(result) -> dict:
    return dict(line.split(": ", 1) for line in result.stdout.splitlines() if line.startswith(("report:", "bundle:",
                                                                                                "evidence:")))


def _summary(pytester, result) -> dict:
    return json.loads((pytester.path / _outputs(result)["evidence"].rstrip("/") / "summary.json").read_text())


def test_a_failing_embedded_run_keeps_its_report_marked_simulation_and_incomplete_and_makes_no_bundle(pytester):
    pytester.makefile(".yaml", **{"scenarios/widget/payment": pay_file(code="2005401")})
    result = _cli(pytester.path, "run", "--all")
    assert result.returncode == 1, result.stdout + result.stderr
    out = _outputs(result)
    report = (pytester.path / out["report"]).read_text()
    first_screen = report.split("<h2>")[0]             # before any section: what a reader sees first
    assert "SIMULATION: this run used the embedded sandbox" in first_screen
    assert "not UAT evidence for DANA" in first_screen and "INCOMPLETE" in first_screen
    assert '<meta name="viewport" content="width=device-width' in report
    assert "FAILED pay_ok" in report and "PASSED" in report
    assert "expected\n  <code>2005401</code>, received <code>2005400</code>" in report
    assert "Direct Debit Payment - Cashier Pay</th><td class=\"failed\">0 of 1" in report
    assert "1 of 2 passed" in report                      # mandatory, counted against the catalogue
    assert "bundle" not in out and "bundle refused, incomplete run" in result.stdout
    summary = _summary(pytester, result)
    assert (summary["complete"], summary["simulation"], summary["submittable"]) == (False, True, False)
    assert summary["notPassed"] == ["scenarios/widget/payment.yaml::pay_ok"]
    assert summary["meta"]["merchantKeyFingerprint"].startswith("SHA256:")
    assert summary["meta"]["catalogueHash"].startswith("sha256:") and summary["meta"]["toolVersion"]


def test_k_on_one_mandatory_scenario_is_incomplete_and_the_bundle_is_refused_naming_the_missing(pytester):
    pytester.makefile(".yaml", **{"scenarios/widget/payment": pay_file()})
    result = _cli(pytester.path, "run", "-k", "pay_bad_signature")
    assert result.returncode == 0, result.stdout + result.stderr        # the scenario itself passed
    summary = _summary(pytester, result)
    assert summary["complete"] is False and summary["mandatory"] == {"passed": 1, "total": 2}
    assert summary["missing"] == ["scenarios/widget/payment.yaml::pay_ok"]
    assert "INCOMPLETE" in (pytester.path / _outputs(result)["report"]).read_text()
    refused = _cli(pytester.path, "bundle", _outputs(result)["evidence"])
    assert refused.returncode == 1
    assert "not run: scenarios/widget/payment.yaml::pay_ok" in refused.stderr
    assert not list(pytester.path.rglob("dana-uat-bundle-*.zip"))
    assert (pytester.path / _outputs(result)["evidence"] / "evidence" / "pay_bad_signature.json").is_file()


def _complete_bundle(pytester):
    pytester.makefile(".yaml", **{"scenarios/widget/payment": pay_file()})
    result = _cli(pytester.path, "run")
    assert result.returncode == 0, result.stdout + result.stderr
    return pytester.path / _outputs(result)["bundle"]


def _rewrite(src, dst, edit, signer=None, prepend: dict | None = None):
    """Copy a bundle, editing files; with a signer, recompute the manifest (hashes, key fingerprint) and sign it
    with that key, putting its public key inside."""
    with zipfile.ZipFile(src) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    files = {n: edit(n, d) for n, d in files.items()}
    if signer is not None:
        manifest = json.loads(files[MANIFEST])
        manifest["files"] = {n: hashlib.sha256(files[n]).hexdigest() for n in manifest["files"]}
        manifest["merchantKeyFingerprint"] = keys.fingerprint(signer)      # a careful forger names its key
        files[MANIFEST] = json.dumps(manifest).encode()
        files[SIGNATURE] = sign(signer, files[MANIFEST]).encode()
        files[PUBLIC_KEY] = keys.public_key_pem(signer).encode()
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in (prepend or {}).items():
            zf.writestr(name, data)
        for name, data in files.items():
            zf.writestr(name, data)
    return dst


def test_a_complete_simulated_run_bundle_verifies_but_says_it_is_a_simulation_and_what_key_it_used(pytester):
    bundle = _complete_bundle(pytester)
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        assert {"report.html", "summary.json", "evidence/pay_ok.json"} <= set(zf.namelist())
        assert "PRIVATE KEY" not in str([zf.read(n) for n in zf.namelist()])
    assert (manifest["complete"], manifest["simulation"], manifest["submittable"]) == (True, True, False)
    assert verify_bundle(bundle) == []
    ok = _cli(pytester.path, "verify-bundle", str(bundle))     # no trusted key: intact, origin unknown
    assert ok.returncode == 5 and "SIMULATION" in ok.stdout, ok.stdout + ok.stderr
    assert "checked only against the public key carried inside the bundle" in ok.stdout
    assert "integrity verified, origin NOT verified" in ok.stdout
    again = _cli(pytester.path, "bundle", str(bundle.parent))    # only a run against DANA is submittable
    assert again.returncode == 1 and "bundle refused, a simulation" in again.stderr


def test_verify_bundle_rejects_duplicate_entries_tampering_and_a_re_signed_bundle_given_the_key(pytester, tmp_path):
    bundle = _complete_bundle(pytester)
    with zipfile.ZipFile(bundle) as zf:
        registered = zf.read(PUBLIC_KEY)
    (tmp_path / "merchant.pem").write_bytes(registered)
    given = ["--public-key", str(tmp_path / "merchant.pem")]
    assert _cli(pytester.path, "verify-bundle", str(bundle), *given).returncode == 0

    forged = b'{"complete": true, "scenarios": []}'
    with pytest.warns(UserWarning, match="Duplicate name"):   # zipfile itself warns: we build it on purpose
        dup = _rewrite(bundle, tmp_path / "dup.zip", lambda n, d: d, prepend={"summary.json": forged})
    assert verify_bundle(dup) == ["summary.json: appears 2 times in the zip"]
    result = _cli(pytester.path, "verify-bundle", str(dup))
    assert result.returncode == 1 and "appears 2 times" in result.stdout

    edit = lambda n, d: d.replace(b"pay_ok", b"pay_OK") if n == "summary.json" else d   # noqa: E731
    tampered = _rewrite(bundle, tmp_path / "tampered.zip", edit)
    assert verify_bundle(tampered) == ["summary.json: SHA-256 differs from the manifest"]

    attacker = keys.generate_private_key()
    resigned = _rewrite(bundle, tmp_path / "resigned.zip", edit, signer=attacker)
    assert verify_bundle(resigned) == []                      # against its own key only, it verifies...
    alone = _cli(pytester.path, "verify-bundle", str(resigned))
    assert alone.returncode == 5 and "checked only against the public key carried inside" in alone.stdout
    caught = _cli(pytester.path, "verify-bundle", str(resigned), *given)   # ...not against the registered key
    assert caught.returncode == 1
    assert f"FAIL the bundle carries key {keys.fingerprint(attacker)}, not the trusted key" in caught.stdout
    assert "FAIL manifest signature does not verify with the trusted public key" in caught.stdout


def test_verify_bundle_command_errors(pytester, tmp_path):
    (tmp_path / "x.zip").write_text("not a zip")
    bad = _cli(pytester.path, "verify-bundle", str(tmp_path / "x.zip"))
    assert bad.returncode == 2 and "not a dana-uat bundle" in bad.stderr
    (tmp_path / "k.pem").write_text("no key")
    nokey = _cli(pytester.path, "verify-bundle", str(tmp_path / "x.zip"), "--public-key", str(tmp_path / "k.pem"))
    assert nokey.returncode == 2 and "--public-key" in nokey.stderr


def test_a_complete_run_against_dana_makes_a_submittable_bundle_and_an_incomplete_one_none(tmp_path):
    from conformance.config.settings import MerchantCredentials as Merchant
    from conformance.evidence.bundle import BundleRefused, check_bundle, make_bundle

    merchant = Merchant("P1", "M1", keys.generate_private_key())
    run = tmp_path / "20261130-000000-abcd"
    (run / "evidence").mkdir(parents=True)
    (run / "evidence" / "pay_ok.json").write_text("{}")
    (run / "report.html").write_text("<p>report</p>")
    (run / "artifacts" / "pay_ok").mkdir(parents=True)
    (run / "artifacts" / "pay_ok" / "trace.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    summary = {"target": "sandbox", "complete": False, "simulation": False, "submittable": False,
               "incompleteReasons": ["1 mandatory scenario(s) not run"], "missing": ["payment.yaml::pay_ok"]}
    (run / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(BundleRefused, match="not run: payment.yaml::pay_ok"):
        make_bundle(run, merchant)
    summary.update(complete=True, submittable=True, incompleteReasons=[], missing=[], evidenceFor="DANA sandbox UAT")
    (run / "summary.json").write_text(json.dumps(summary))
    bundle = make_bundle(run, merchant)
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        assert "artifacts/pay_ok/trace.zip" not in zf.namelist()          # traces stay out, with a note
    assert (manifest["submittable"], manifest["simulation"]) == (True, False)
    assert manifest["notes"] and "left out of this bundle" in manifest["notes"][0]
    result = check_bundle(bundle, merchant.public_key)
    assert result.problems == [] and not any("SIMULATION" in n for n in result.notes)


# --- verify-bundle against a trusted key (issue 22): one test per case -----------------------------------
def _signed_run(tmp_path, merchant, name="20261201-000000-beef"):
    """A complete run against DANA, bundled with ``merchant``'s key: the bundle a merchant hands DANA."""
    from conformance.evidence.bundle import make_bundle

    run = tmp_path / name
    (run / "evidence").mkdir(parents=True)
    (run / "evidence" / "pay_ok.json").write_text('{"passed": true}')
    (run / "report.html").write_text("<p>report</p>")
    (run / "summary.json").write_text(json.dumps({"target": "sandbox", "complete": True, "simulation": False,
                                                  "submittable": True, "evidenceFor": "DANA sandbox UAT"}))
    return make_bundle(run, merchant)


def _verify(tmp_path, bundle, *args, env: dict | None = None):
    """`dana-uat verify-bundle` in a folder of its own, with no merchant settings but those given."""
    import os
    import subprocess
    import sys

    cwd = tmp_path / "verifier"
    cwd.mkdir(exist_ok=True)
    environ = {k: v for k, v in os.environ.items() if k not in ("MERCHANT_PUBLIC_KEY_PATH", "X_PARTNER_ID",
                                                                "MERCHANT_ID")}
    return subprocess.run([sys.executable, "-m", "conformance.cli", "verify-bundle", str(bundle), *args], cwd=cwd,
                          env=environ | (env or {}), capture_output=True, text=True, timeout=60)


@pytest.fixture
def registered(tmp_path):
    """The merchant (partner P-REAL) and the public key it registered with DANA, as a PEM file."""
    from conformance.config.settings import MerchantCredentials as Merchant

    merchant = Merchant("2025000000000000000001", "216620000000000000001", keys.generate_private_key())
    pem = tmp_path / "merchant-public.pem"
    pem.write_text(keys.public_key_pem(merchant.private_key))
    return merchant, pem


def test_verify_bundle_with_the_merchants_own_key_exits_0_and_prints_whose_it_is(tmp_path, registered):
    merchant, pem = registered
    bundle = _signed_run(tmp_path, merchant)
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read(MANIFEST))
    assert manifest["merchantKeyFingerprint"] == keys.fingerprint(merchant.private_key)
    result = _verify(tmp_path, bundle, "--public-key", str(pem))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"partnerId: {merchant.partner_id}" in result.stdout
    assert f"merchantId: {merchant.merchant_id}" in result.stdout
    assert f"merchantKeyFingerprint: {keys.fingerprint(merchant.private_key)}" in result.stdout
    assert "origin and integrity verified" in result.stdout and "FAIL" not in result.stdout
    # the same key named by the settings (MERCHANT_PUBLIC_KEY_PATH, as doctor reads it) is trusted by default
    (tmp_path / "verifier" / ".env").write_text(f"MERCHANT_PUBLIC_KEY_PATH={pem}\nX_PARTNER_ID={merchant.partner_id}\n")
    by_settings = _verify(tmp_path, bundle)
    assert by_settings.returncode == 0, by_settings.stdout + by_settings.stderr
    assert f"trusted key: {keys.fingerprint(merchant.private_key)} from MERCHANT_PUBLIC_KEY_PATH" in by_settings.stdout


def test_a_bundle_re_signed_with_an_outsiders_key_fails_against_the_trusted_key(tmp_path, registered):
    merchant, pem = registered
    bundle = _signed_run(tmp_path, merchant)
    outsider = keys.generate_private_key()

    def edit(name, data):
        if name == "summary.json":
            return data.replace(b'"complete": true', b'"complete": true, "edited": true')
        return data
    resigned = _rewrite(bundle, tmp_path / "resigned.zip", edit, signer=outsider)
    assert _verify(tmp_path, resigned).returncode == 5         # self-consistent against the key inside
    result = _verify(tmp_path, resigned, "--public-key", str(pem))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"FAIL the bundle carries key {keys.fingerprint(outsider)}, not the trusted key " \
           f"{keys.fingerprint(merchant.private_key)}" in result.stdout
    assert "FAIL manifest signature does not verify with the trusted public key" in result.stdout
    assert "origin and integrity verified" not in result.stdout


def test_an_outsiders_bundle_with_a_forged_partner_id_fails_against_the_settings_key(tmp_path, registered):
    from conformance.config.settings import MerchantCredentials as Merchant

    merchant, pem = registered
    outsider = Merchant(merchant.partner_id, merchant.merchant_id, keys.generate_private_key())   # forged ids
    forged = _signed_run(tmp_path, outsider, name="20261201-000000-f00d")
    assert _verify(tmp_path, forged).returncode == 5           # self-consistent: only a trusted key can tell
    (tmp_path / "verifier" / ".env").write_text(f"MERCHANT_PUBLIC_KEY_PATH={pem}\n"
                                                f"X_PARTNER_ID={merchant.partner_id}\nMERCHANT_ID={merchant.merchant_id}\n")
    result = _verify(tmp_path, forged)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"partnerId: {merchant.partner_id}" in result.stdout           # what it claims, printed...
    assert f"merchantKeyFingerprint: {keys.fingerprint(outsider.private_key)}" in result.stdout
    assert f"FAIL the manifest was made for key {keys.fingerprint(outsider.private_key)}" in result.stdout
    assert "FAIL manifest signature does not verify with the trusted public key" in result.stdout
    # the merchant's own bundle under another partner's settings fails on the partnerId it names
    own = _signed_run(tmp_path, merchant, name="20261201-000000-0c0c")
    (tmp_path / "verifier" / ".env").write_text(f"MERCHANT_PUBLIC_KEY_PATH={pem}\nX_PARTNER_ID=2025999\n")
    other = _verify(tmp_path, own)
    assert other.returncode == 1 and f"FAIL the manifest names partnerId '{merchant.partner_id}', the settings " \
                                      "'2025999'" in other.stdout


def test_verify_bundle_without_a_trusted_key_exits_5_integrity_verified_origin_not_verified(tmp_path, registered):
    merchant, _pem = registered
    bundle = _signed_run(tmp_path, merchant)
    result = _verify(tmp_path, bundle)
    assert result.returncode == 5, result.stdout + result.stderr
    assert "integrity verified, origin NOT verified" in result.stdout
    assert "trusted key: none (no --public-key, MERCHANT_PUBLIC_KEY_PATH not set)" in result.stdout
    assert f"partnerId: {merchant.partner_id}" in result.stdout and "FAIL" not in result.stdout
    tampered = _rewrite(bundle, tmp_path / "t.zip", lambda n, d: d + b" " if n == "report.html" else d)
    broken = _verify(tmp_path, tampered)                       # without a key, tampering still fails (exit 1)
    assert broken.returncode == 1 and "report.html: SHA-256 differs from the manifest" in broken.stdout
    (tmp_path / "verifier" / ".env").write_text(f"MERCHANT_PUBLIC_KEY_PATH={tmp_path / 'none.pem'}\n")
    unusable = _verify(tmp_path, bundle)
    assert unusable.returncode == 2 and "MERCHANT_PUBLIC_KEY_PATH" in unusable.stderr
