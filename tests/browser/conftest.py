"""Real parts for the browser tests: a SandboxServer on loopback, the suite's receiver, one Chromium."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from conformance.browser import BrowserSession, find_chromium
from conformance.client.receiver import CallbackReceiver
from conformance.client.snap_client import DanaClient
from conformance.config.settings import MerchantCredentials
from conformance.sandbox.server import SandboxServer
from conformance.snap import keys, timestamps


def pytest_collection_modifyitems(items):
    if find_chromium() is None:       # the flows need a real browser; say how to get one instead of failing
        from conformance.browser import install_command
        skip = pytest.mark.skip(reason=f"no Chromium; install one with: {install_command()}")
        for item in items:
            if "needs_browser" in item.fixturenames:
                item.add_marker(skip)


@pytest.fixture(scope="module")
def merchant():
    return MerchantCredentials(partner_id="2026" + uuid.uuid4().hex[:18], merchant_id="2166" + uuid.uuid4().hex[:17],
                    private_key=keys.generate_private_key())


@pytest.fixture(scope="module")
def sandbox(merchant):
    with SandboxServer() as server:
        server.register_merchant(merchant.partner_id, merchant.merchant_id, merchant.public_key_pem)
        yield server


@pytest.fixture(scope="module")
def receiver():
    with CallbackReceiver() as r:
        yield r


@pytest.fixture(scope="module")
def client(merchant, sandbox):
    with DanaClient(merchant, sandbox.base_url) as c:
        yield c


@pytest.fixture(scope="module")
def needs_browser():
    return True


@pytest.fixture(scope="module")
def browser(needs_browser, tmp_path_factory):
    with BrowserSession(artifacts_dir=tmp_path_factory.mktemp("browser-evidence"), timeout=15) as session:
        yield session


@pytest.fixture
def ctx(browser, request):
    context = browser.new_context(request.node.name)
    yield context
    context.close(failed=False)


@pytest.fixture(scope="module")
def payment_body(merchant, receiver):
    return lambda **kw: _payment_body(merchant, receiver, **kw)


def _payment_body(merchant, receiver, ref: str | None = None, amount: str = "1.00") -> dict:
    """DANA's PaymentSuccess fixture ([uat-fixtures]), returning to and notifying the receiver."""
    valid_up_to = timestamps.format_timestamp(timestamps.now() + timedelta(minutes=15))
    return {
        "partnerReferenceNo": ref or uuid.uuid4().hex, "merchantId": merchant.merchant_id,
        "amount": {"value": amount, "currency": "IDR"}, "validUpTo": valid_up_to,
        "urlParams": [{"url": receiver.pay_return_url, "type": "PAY_RETURN", "isDeeplink": "N"},
                      {"url": receiver.notify_url, "type": "NOTIFICATION", "isDeeplink": "N"}],
        "additionalInfo": {
            "productCode": "51051000100000000001", "mcc": "5732",
            "order": {"orderTitle": "dana-uat browser test", "createdTime": timestamps.format_timestamp()},
            "envInfo": {"sourcePlatform": "IPG", "terminalType": "SYSTEM", "orderTerminalType": "SYSTEM"}},
    }
