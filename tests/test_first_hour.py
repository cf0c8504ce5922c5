"""Issue 14, a merchant engineer's first hour: from an empty folder outside the checkout, `dana-uat init`,
`doctor` listing every missing piece at once, then `run` with the generated key, reports landing there."""

import os
import stat
import subprocess
import sys

import pytest

IDS = "X_PARTNER_ID=2025021714245533502768\nMERCHANT_ID=216620010016033632482\n"


def dana_uat(folder, *args, env=None):
    environ = {k: v for k, v in os.environ.items()        # the suite's parse cache stays (tests/conftest.py)
               if not k.startswith(("DANA_UAT_", "X_PARTNER", "MERCHANT", "PRIVATE_KEY")) or k == "DANA_UAT_CACHE_DIR"}
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args], cwd=folder, capture_output=True,
                          text=True, timeout=300, env={**environ, **(env or {})})


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "empty").mkdir()
    return tmp_path / "empty"


def test_init_doctor_and_run_from_an_empty_folder(folder):
    first = dana_uat(folder, "init", "--keys")
    assert first.returncode == 0, first.stderr
    private = (folder / "keys/merchant-private.pem").read_text()
    assert private.startswith("-----BEGIN PRIVATE KEY-----")                       # PKCS#8
    assert stat.S_IMODE((folder / "keys/merchant-private.pem").stat().st_mode) == 0o600
    assert "PRIVATE KEY" not in first.stdout + first.stderr                        # never printed
    template = (folder / ".env").read_text()
    for name in ("X_PARTNER_ID", "MERCHANT_ID", "PRIVATE_KEY", "ORIGIN", "DANA_ENV", "CLIENT_SECRET"):
        assert f"\n{name}=" in template or f"\n# {name}=" in template, name

    again = dana_uat(folder, "init", "--keys")                                      # never overwrites
    assert again.returncode == 2 and "never overwrites" in again.stderr
    assert (folder / "keys/merchant-private.pem").read_text() == private

    doctor = dana_uat(folder, "doctor")
    assert doctor.returncode == 2
    failing = [line.split()[2].rstrip(":") for line in doctor.stdout.splitlines() if line.startswith("FAIL")]
    assert failing == ["X_PARTNER_ID", "MERCHANT_ID"], doctor.stdout                # every missing piece, at once
    assert "ok    key pair  keys/merchant-public.pem matches the private key" in doctor.stdout

    with open(folder / ".env", "a") as env:
        env.write(IDS)
    assert dana_uat(folder, "doctor").returncode == 0

    run = dana_uat(folder, "run", "--mandatory", "-k", "payment_success")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "[1/1] PASS  scenarios/widget/payment.yaml::payment_success" in run.stdout
    assert run.stdout.strip().splitlines()[-1].startswith("evidence: reports/")
    (summary,) = {p.resolve() for p in folder.glob("reports/*/summary.json")}     # reports land here
    assert "216620010016033632482" in (summary.parent / "report.html").read_text()  # the .env's merchant ran


def test_k_selects_from_the_whole_catalogue_and_pytest_options_pass_through(folder):
    run = dana_uat(folder, "run", "-k", "refund_order_success", "--maxfail=1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "[1/1] PASS  scenarios/widget/refund_order.yaml::refund_order_success" in run.stdout   # not mandatory
    assert dana_uat(folder, "list", "--maxfail=1").returncode == 2     # only `run` passes options on


def test_a_listing_cut_short_by_its_reader_ends_without_a_traceback(folder):
    listing = subprocess.Popen([sys.executable, "-m", "conformance.cli", "list"], cwd=folder,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    listing.stdout.close()                  # the reader is gone before the first line, as `| head -0`
    assert listing.wait(timeout=60) == 1
    assert listing.stderr.read() == b""


@pytest.mark.parametrize("args, env, names", [
    (["--target", "http://dana-uat-test.invalid:8100"], {}, ["DANA_UAT_TARGET"]),        # DNS failure
    ([], {"DANA_UAT_CHROMIUM": "/nope"}, ["DANA_UAT_CHROMIUM"]),
    ([], {"X_PARTNER_ID": "P1", "DANA_UAT_PIN": "12"}, ["DANA_UAT_PIN", "MERCHANT_ID", "PRIVATE_KEY_PATH"]),
])
def test_configuration_problems_stop_the_run_before_it_starts(folder, args, env, names):
    run = dana_uat(folder, "run", *args, env=env)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.startswith("dana-uat: configuration error:")
    assert [n for n in names if n + ":" in run.stderr] == names
    assert "PASS" not in run.stdout and not (folder / "reports").exists()


def test_version():
    out = dana_uat(".", "--version")
    assert out.returncode == 0 and out.stdout.strip() == "dana-uat 0.1.0"
