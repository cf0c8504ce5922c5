"""Shared test setup."""

import atexit
import importlib
import os
import shutil
import sys
import tempfile

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
    "conformance.target", "conformance.client", "conformance.scenarios.runner",
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


def pytest_configure(config):
    if hasattr(config.option, "loadscopereorder"):      # xdist's reordering by number of tests
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items):
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
