"""Playwright side of the suite: find a Chromium, one browser per session, page objects and flows.

Public API (what the engine and the tests import): find_chromium, BrowserSession, ScenarioContext, bind, checkout, BindResult,
CheckoutResult, FlowError, navigation_on_click. Playwright itself is imported only when a session starts.
"""

from conformance.browser.discovery import BrowserNotFound, find_chromium, install_command, require_chromium
from conformance.browser.flows import BindResult, CheckoutResult, FlowError, bind, checkout, navigation_on_click
from conformance.browser.context import PageStep, ScenarioContext
from conformance.browser.session import BrowserSession

__all__ = ["BrowserNotFound", "find_chromium", "install_command", "require_chromium", "BindResult",
           "CheckoutResult", "FlowError", "bind", "checkout", "navigation_on_click", "BrowserSession", "PageStep", "ScenarioContext"]
