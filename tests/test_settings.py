"""Settings: precedence, SDK variable names, zero-config embedded merchant, one-line errors."""

import pytest

from conformance.config.settings import ConfigError, load_settings
from conformance.snap import keys


@pytest.fixture()
def root(tmp_path):
    return tmp_path


def test_zero_configuration_gives_a_throwaway_embedded_merchant(root):
    s = load_settings({}, environ={}, root=root)
    assert s.target == "embedded" and s.is_embedded and s.merchant.throwaway
    assert len(s.merchant.partner_id) == 22 and s.merchant.partner_id.isdigit()
    assert len(s.merchant.merchant_id) == 21 and s.merchant.merchant_id.isdigit()
    assert s.merchant.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert (s.phone, s.pin, s.merchant.channel_id) == ("083811223355", "181818", "95221")


def test_precedence_cli_over_env_over_dotenv_over_pyproject(root):
    (root / "pyproject.toml").write_text('[tool.dana-uat]\nmerchant_id = "PYPROJECT"\norigin = "https://py.example"\n'
                                         'phone = "0811742234"\nreport_dir = "out-py"\n')
    (root / ".env").write_text("MERCHANT_ID=DOTENV\nORIGIN=https://dotenv.example\nDANA_UAT_PHONE=0811111111\n")
    environ = {"MERCHANT_ID": "ENVIRON", "ORIGIN": "https://env.example"}
    s = load_settings({"merchant_id": "CLI"}, environ=environ, root=root)
    assert s.merchant.merchant_id == "CLI" and s.sources["merchant_id"] == "command line"
    assert s.merchant.origin == "https://env.example" and s.sources["origin"] == "environment ORIGIN"
    assert s.phone == "0811111111" and s.sources["phone"] == ".env DANA_UAT_PHONE"
    assert str(s.report_dir) == "out-py" and s.sources["report_dir"] == "[tool.dana-uat] report_dir"


def test_sdk_variable_names_and_key_spellings(root):
    key = keys.generate_private_key()
    escaped = keys.private_key_pem(key, pkcs1=True).replace("\n", "\\n")
    s = load_settings({}, environ={"X_PARTNER_ID": "2025021714245533502768", "MERCHANT_ID": "216620010016033632482",
                                   "PRIVATE_KEY": escaped, "DANA_ENV": "sandbox"}, root=root)
    assert not s.merchant.throwaway
    assert s.merchant.private_key.private_numbers() == key.private_numbers()


def test_private_key_path_wins_over_private_key(root):
    key, other = keys.generate_private_key(), keys.generate_private_key()
    (root / "merchant.pem").write_text(keys.private_key_pem(key))
    s = load_settings({}, environ={"PRIVATE_KEY": keys.private_key_pem(other),
                                   "PRIVATE_KEY_PATH": str(root / "merchant.pem")}, root=root)
    assert s.merchant.private_key.private_numbers() == key.private_numbers()


def test_ENV_production_never_turns_the_sandbox_target_into_production(root):
    creds = {"X_PARTNER_ID": "P1", "MERCHANT_ID": "M1", "PRIVATE_KEY": keys.private_key_pem(keys.generate_private_key())}
    for environ in ({"ENV": "production"}, {"DANA_ENV": "production"}, {"ENV": "sandbox", "DANA_ENV": "production"}):
        s = load_settings({"target": "sandbox"}, environ={**creds, **environ}, root=root)
        assert (s.api_base, s.web_base, s.env) == ("https://api.sandbox.dana.id", "https://m.sandbox.dana.id", "sandbox")
    with pytest.raises(ConfigError, match="--confirm-production"):
        load_settings({"target": "production"}, environ=creds, root=root)
    s = load_settings({"target": "production", "confirm_production": True}, environ=creds, root=root)
    assert (s.api_base, s.web_base, s.env) == ("https://api.saas.dana.id", "https://m.dana.id", "production")


def test_real_sandbox_target_uses_dana_hosts_and_the_sandbox_gateway_key(root):
    key = keys.generate_private_key()
    s = load_settings({"target": "sandbox"}, environ={"X_PARTNER_ID": "P1", "MERCHANT_ID": "M1",
                                                      "PRIVATE_KEY": keys.private_key_pem(key)}, root=root)
    assert s.api_base == "https://api.sandbox.dana.id" and s.web_base == "https://m.sandbox.dana.id"
    assert s.dana_public_key is not None
    assert load_settings({"target": "http://127.0.0.1:9999/"}, environ={}, root=root).api_base == "http://127.0.0.1:9999"


@pytest.mark.parametrize("cli, environ, names", [
    ({"target": "sandbox"}, {}, "X_PARTNER_ID"),
    ({"target": "sandbox"}, {"X_PARTNER_ID": "P"}, "MERCHANT_ID"),
    ({"target": "sandbox"}, {"X_PARTNER_ID": "P", "MERCHANT_ID": "M"}, "PRIVATE_KEY"),
    ({}, {"PRIVATE_KEY": "not a key"}, "PRIVATE_KEY"),
    ({}, {"PRIVATE_KEY_PATH": "/nonexistent/merchant.pem"}, "PRIVATE_KEY_PATH"),
    ({}, {"X_PARTNER_ID": "has spaces in it"}, "X_PARTNER_ID"),
    ({}, {"ORIGIN": "merchant.example"}, "ORIGIN"),
    ({}, {"DANA_ENV": "staging"}, "DANA_ENV"),
    ({"target": "localhost"}, {}, "DANA_UAT_TARGET"),
    ({}, {"DANA_UAT_PIN": "12"}, "DANA_UAT_PIN"),
    ({}, {"DANA_UAT_CONCURRENCY": "0"}, "DANA_UAT_CONCURRENCY"),
    ({}, {"DANA_UAT_CONCURRENCY": "four"}, "DANA_UAT_CONCURRENCY"),
    ({}, {"DANA_UAT_RETRY_BACKOFF": "soon"}, "DANA_UAT_RETRY_BACKOFF"),
    ({}, {"DANA_UAT_RETRY_BACKOFF": "60"}, "DANA_UAT_RETRY_BACKOFF"),
    ({}, {"DANA_UAT_PAGE_TIMEOUT": "0"}, "DANA_UAT_PAGE_TIMEOUT"),
    ({}, {"DANA_PUBLIC_KEY": "QUJD"}, "DANA_PUBLIC_KEY"),
])
def test_unusable_values_give_one_line_naming_the_variable(root, cli, environ, names):
    with pytest.raises(ConfigError) as err:
        load_settings(cli, environ=environ, root=root)
    text = str(err.value)
    assert text.startswith(names) and ";" in text.splitlines()[0]   # name: problem; fix
    assert len(text.splitlines()) == len(err.value.problems)


def test_every_problem_is_reported_at_once(root):
    """Issue 14: X_PARTNER_ID, then MERCHANT_ID, then PRIVATE_KEY took three runs."""
    with pytest.raises(ConfigError) as err:
        load_settings({"target": "sandbox"}, environ={"ORIGIN": "shop", "DANA_UAT_PIN": "1"}, root=root)
    assert [name for name, _problem, _fix in err.value.problems] == [
        "X_PARTNER_ID", "MERCHANT_ID", "PRIVATE_KEY", "ORIGIN", "DANA_UAT_PIN"]
    assert all(line.count(": ") >= 1 and "; " in line for line in str(err.value).splitlines())
    with pytest.raises(ConfigError) as err:      # a broken key file is one problem, not also "PRIVATE_KEY not set"
        load_settings({"target": "sandbox"}, environ={"PRIVATE_KEY_PATH": "/nonexistent.pem"}, root=root)
    assert [n for n, *_ in err.value.problems] == ["PRIVATE_KEY_PATH", "X_PARTNER_ID", "MERCHANT_ID"]


def test_unknown_pyproject_key_and_missing_env_file_are_errors(root):
    (root / "pyproject.toml").write_text('[tool.dana-uat]\nmerchnt_id = "x"\n')
    with pytest.raises(ConfigError, match="merchnt_id.*not a known setting"):
        load_settings({}, environ={}, root=root)
    (root / "pyproject.toml").write_text("")
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({}, environ={}, env_file="missing.env", root=root)


def test_a_plain_http_client_gets_a_tls_context_that_trusts_nothing_and_https_keeps_httpx_verification():
    import ssl

    from conformance.config.tls import tls_verify

    https = tls_verify("https://api.sandbox.dana.id/")
    assert https is tls_verify("HTTPS://example.com")       # one context per process, built once
    assert https.verify_mode == ssl.CERT_REQUIRED and https.check_hostname and https.cert_store_stats()["x509_ca"] > 0
    context = tls_verify("http://127.0.0.1:8600/sandbox-admin")
    assert isinstance(context, ssl.SSLContext)      # loads no CA bundle; never used for plain HTTP
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname    # TLS through it fails closed
    assert context.cert_store_stats()["x509_ca"] == 0


def test_the_ca_bundle_is_trusted_beside_the_usual_cas_and_a_bad_one_names_the_setting(tmp_path):
    from conformance.config.tls import tls_verify
    from conformance.sandbox.twin import issue_certificates

    ca, _chain, _key = issue_certificates(tmp_path / "tls", ["api.sandbox.dana.id"])
    settings = load_settings({"ca_bundle": str(ca)}, environ={}, env_file=None, root=tmp_path)
    usual = tls_verify("https://api.sandbox.dana.id/").cert_store_stats()["x509_ca"]
    assert settings.tls_verify("https://api.sandbox.dana.id/").cert_store_stats()["x509_ca"] == usual + 1
    (tmp_path / "not-a-ca.pem").write_text("hello")
    with pytest.raises(ConfigError) as caught:
        load_settings({"ca_bundle": str(tmp_path / "not-a-ca.pem")}, environ={}, env_file=None, root=tmp_path)
    assert caught.value.name == "DANA_UAT_CA_BUNDLE" and "not-a-ca.pem" in str(caught.value)


def test_the_receiver_listen_address_is_host_and_port():
    assert load_settings({"receiver_listen": "0.0.0.0:8780"}, environ={}, env_file=None).receiver_listen == \
        ("0.0.0.0", 8780)
    with pytest.raises(ConfigError, match="DANA_UAT_RECEIVER_LISTEN"):
        load_settings({"receiver_listen": "8780x"}, environ={}, env_file=None)
