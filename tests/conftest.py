"""Shared test setup."""

import atexit
import importlib
import os
import shutil
import sys
import tempfile

import pytest

# The suite starts many Python processes (`dana-uat run`, xdist workers, the example merchant) and many
# pytest sessions. Where PYTHONDONTWRITEBYTECODE is set, none of them may keep a compiled module, so each
# one compiled the project again, and pytest rewrote the asserts of every pytest11 plugin package
# (conformance, hypothesis) again: about a CPU-second per session. The test session lets Python write its
# caches (__pycache__ is ignored by git), for itself and for every process it starts.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

# Parsed scenario files are cached between processes (conformance/scenarios/parsecache.py). The suite's
# processes share one cache of their own, made by the first (xdist's controller, or a plain pytest) and
# inherited by every worker and `dana-uat run` it starts; the developer's own cache is never written.
if "DANA_UAT_CACHE_DIR" not in os.environ:
    os.environ["DANA_UAT_CACHE_DIR"] = tempfile.mkdtemp(prefix="dana-uat-test-cache-")
    atexit.register(shutil.rmtree, os.environ["DANA_UAT_CACHE_DIR"], True)

# httpx imports httpcore (and h11) lazily, on the first request. If that first request happens inside
# one of pytester's in-process runs, pytester's sys.modules snapshot drops those modules afterwards and a
# second copy is imported later, whose exceptions httpx no longer maps (a raw httpcore.ConnectError
# escaped once). Importing them here, before any pytester run, keeps one copy for the whole session.
import h11  # noqa: F401, E402
import httpcore  # noqa: F401, E402
import httpcore._sync.connection_pool  # noqa: F401, E402

# What every in-process pytester run imports (and its snapshot drops again afterwards), imported once
# here instead of once per run: hypothesis (its pytest plugin imports it at each session's terminal
# summary: over a CPU-second each time, under assertion rewriting), the embedded sandbox and the uvicorn
# parts it loads by name, the target, the runner and the report.
PRELOAD = (
    "hypothesis",
    "conformance.dana.target", "conformance.client.snap_client", "conformance.scenarios.runner",
    "conformance.sandbox.server", "conformance.sandbox.binding_pages", "conformance.sandbox.checkout_pages",
    "conformance.evidence.report", "conformance.evidence.bundle", "conformance.evidence.htmlextras",
    "uvicorn.loops.auto", "uvicorn.protocols.http.auto", "uvicorn.protocols.websockets.auto", "uvicorn.lifespan.on",
)
for _name in PRELOAD:
    importlib.import_module(_name)


# `-n N --dist loadfile` runs a file on one worker. xdist queues the files by their number of tests, most
# first, so the few long files (one test that bootstraps a copy, nine merchant processes) started last and
# one worker ran on alone for a minute. They are queued first instead, longest first, so the short files
# fill in around them; the rest keep their order.
LONGEST_FIRST = (
    "tests/test_readme.py",
    "tests/twin/test_twin_runs.py",
    "tests/twin/test_twin_catalogue.py",
    "tests/twin/test_twin_faults.py",
    "tests/twin/test_twin_production.py",
    "tests/merchant/test_merchant_defects.py",
    "tests/merchant/test_merchant_mode.py",
    "tests/test_catalogue_runs.py",
    "tests/engine/test_plugin.py",
    "tests/browser/test_dana_scripts.py",
    "tests/browser/test_flows.py",
    "tests/merchant/test_merchant_urls.py",
    "tests/test_first_hour.py",
)


# What `make check` (the edit-test loop, `-m "not slow"`) leaves to `make test`: the tests marked `slow` here, by
# reason and node id prefix. The loop keeps what runs in this process without a browser. Under `-m "not slow"` a
# test that starts Chromium in this process fails, naming this table.
SLOW = {
    "drives a real Chromium": (
        "tests/browser/test_bind_scopes.py", "tests/browser/test_dana_scripts.py", "tests/browser/test_flows.py",
        "tests/browser/test_page_faults.py", "tests/engine/test_bind_lint.py::test_a_clean_bind_url_binds",
        "tests/engine/test_flow_e2e.py::test_bind_checkout_and_notify_in_a_real_browser",
        "tests/engine/test_tokens.py::test_a_test_user_binds_once_per_run"),
    "builds a venv": ("tests/test_readme.py",),
    "runs the suite end to end in other processes (dana-uat run, xdist, the example merchants, the twin)": (
        "tests/browser/test_evidence_secrets.py", "tests/browser/test_merchant_report.py",
        "tests/browser/test_report_phone.py", "tests/merchant/test_merchant_defects.py",
        "tests/merchant/test_merchant_mode.py", "tests/merchant/test_merchant_urls.py",
        "tests/merchant/test_merchant_answers.py", "tests/merchant/test_merchant_node.py", "tests/twin/",
        "tests/test_catalogue_runs.py", "tests/test_first_hour.py", "tests/engine/test_fault_runs.py",
        "tests/engine/test_embedded_only.py", "tests/engine/test_interrupted_run.py",
        "tests/engine/test_plugin.py::test_dana_uat_run_exit_codes",
        "tests/engine/test_plugin.py::test_xdist_two_workers",
        "tests/engine/test_report_bundle.py", "tests/engine/test_target_hosts.py"),
    "starts dana-uat, the sandbox or Python in a process of its own": (
        "tests/engine/test_parsecache.py::test_a_second_process_loads_from_the_cache_what_the_first_parsed",
        "tests/engine/test_plugin.py::test_dana_uat_list",
        "tests/engine/test_plugin.py::test_dana_uat_run_collect_only",
        "tests/engine/test_production_target.py::test_production_needs_the_confirmation_flag",
        "tests/engine/test_step_kind_plugins.py",
        "tests/merchant/test_profile.py::test_init_writes_a_commented_profile_template",
        "tests/merchant/test_sandbox_env.py",
        "tests/sandbox/test_admin_access.py::test_probe_covers_every_admin_route",     # these four share one
        "tests/sandbox/test_admin_access.py::test_off_loopback_every_admin_route",      # probe in a network
        "tests/sandbox/test_admin_access.py::test_without_the_token_nothing_changes",   # namespace
        "tests/sandbox/test_admin_access.py::test_snap_apis_pages_and_health_stay_open",
        "tests/sandbox/test_admin_access.py::test_run_without_the_right_token",
        "tests/sandbox/test_faults.py::test_dana_uat_sandbox_refuses_a_broken_plan",
        "tests/sandbox/test_state.py::test_cli_", "tests/sandbox/test_state_file.py::test_a_corrupt_file",
        "tests/sandbox/test_state_file.py::test_a_file_of_another_version",
        "tests/sandbox/test_state_file.py::test_sigkill_mid_loop",
        "tests/sandbox/test_traffic_cli.py::test_sandbox_", "tests/sandbox/test_traffic_cli.py::test_unusable_key_file"),
    "loads on purpose (Hypothesis, concurrency)": (
        "tests/engine/test_loader.py::test_nested_and_aliased_files_are_bounded", "tests/sandbox/test_concurrency.py",
        "tests/sandbox/test_fuzz.py::test_fuzzed_requests_get_snap_answers"),
}


def pytest_configure(config):
    if hasattr(config.option, "loadscopereorder"):      # xdist's reordering by number of tests
        config.option.loadscopereorder = False
    config.addinivalue_line("markers", "slow: left to `make test` by `make check` (tests/conftest.py SLOW)")
    if "not slow" in (config.option.markexpr or ""):
        _no_browser_in_this_process()


def _no_browser_in_this_process() -> None:
    from conformance.browser import session

    def start(self, *args, **kwargs):
        pytest.fail("this test starts Chromium: add it to SLOW in tests/conftest.py (`make check` runs no browser)")

    session.BrowserSession.start = start


def pytest_collection_modifyitems(items):
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
    for item in items:
        if any(item.nodeid.startswith(prefix) for prefixes in SLOW.values() for prefix in prefixes):
            item.add_marker(pytest.mark.slow)
