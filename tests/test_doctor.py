"""The preflight's checks one by one, on real files and a real sandbox server."""

from conformance.cli import doctor
from conformance.sandbox.server import SandboxServer
from conformance.snap import keys


def test_a_public_key_that_is_not_the_private_keys_pair_is_reported(tmp_path):
    mine, other = keys.generate_private_key(), keys.generate_private_key()
    (tmp_path / "private.pem").write_text(keys.private_key_pem(mine))
    (tmp_path / "public.pem").write_text(keys.public_key_pem(other))
    values = {"private_key_path": str(tmp_path / "private.pem"), "merchant_public_key_path": str(tmp_path / "public.pem")}
    (problem,) = doctor.check_key_pair(values, require=True).problems
    assert problem.name == "MERCHANT_PUBLIC_KEY_PATH" and "does not match" in problem.problem
    (tmp_path / "public.pem").write_text(keys.public_key_pem(mine))
    assert doctor.check_key_pair(values, require=True).problems == []
    assert doctor.check_key_pair({}, require=False).problems == []          # the run does not ask for it
    assert [p.name for p in doctor.check_key_pair({}, require=True).problems] == ["MERCHANT_PUBLIC_KEY_PATH"]


def test_a_url_target_must_be_a_running_dana_uat_sandbox():
    server = SandboxServer().start()
    try:
        assert doctor.check_target({"target": server.base_url}).problems == []
        (wrong,) = doctor.check_target({"target": server.base_url + "/not-here"}).problems
        assert "answered HTTP 404" in wrong.problem
    finally:
        server.stop()
    (gone,) = doctor.check_target({"target": server.base_url}).problems      # stopped: nothing listens
    assert gone.name == "DANA_UAT_TARGET" and "cannot reach" in gone.problem


def test_the_whole_report_lists_every_check(tmp_path):
    report = doctor.preflight({}, root=tmp_path, require_merchant=True)
    assert [c.name for c in report.checks] == ["settings", "merchant", "key pair", "browser", "target"]
    assert [p.name for p in report.problems] == ["X_PARTNER_ID", "MERCHANT_ID", "PRIVATE_KEY_PATH",
                                                 "MERCHANT_PUBLIC_KEY_PATH"]
    assert any(line.startswith("FAIL  merchant  X_PARTNER_ID: is not set; ") for line in report.lines())


def test_a_probe_cut_off_mid_answer_is_tried_again_within_its_bound():
    waits: list[float] = []
    with SandboxServer(faults=[{"match": "/sandbox-admin/info", "kind": "reset", "first": 2}]) as server:
        check = doctor.check_target({"target": server.base_url}, sleep=waits.append)
        assert check.problems == [] and waits == list(doctor.PROBE_WAITS)       # two resets, two waits
        assert "reachable (HTTP 200) at probe 3 (before: RemoteProtocolError" in check.detail
        assert len(server.faults.injected("reset")) == 2
    with SandboxServer(faults=[{"match": "/sandbox-admin/info", "kind": "reset", "first": 3}]) as server:
        (problem,) = doctor.check_target({"target": server.base_url}, sleep=waits.append).problems
        assert problem.name == "DANA_UAT_TARGET" and "RemoteProtocolError" in problem.problem   # past the bound
