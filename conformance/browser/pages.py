"""Page objects for DANA's hosted pages, written against the selectors DANA's pages use (protocol ref 7).

The embedded sandbox's pages (conformance/sandbox/web.py) honour the same selectors, so this code drives
the real sandbox too. Every wait is on a selector or a URL, with a bound; nothing sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass

# 7.2 / 7.4 / 7.5. Descendant combinators where 7.5 says "inside", so DANA's deeper markup still matches.
PHONE = ".desktop-input input.txt-input-phone-number-field"
PHONE_SUBMIT = ".agreement__button .btn-continue"
CONSENT = "button.btn-continue.fs-unmask.btn.btn-primary"
PIN = ".input-pin input.txt-input-pin-field"
ERROR = ".error-message"
DANA_OPTION = ".bank-item.dana > .bank-title"
PAY = "button.btn.btn-primary.btn-pay"
SUCCESS = ".lbl-success"
FAILED = ".card-header-content__title.lbl-failed-payment"
BACK_TO_MERCHANT = ".btn-back-merchant"


class PageTimeout(AssertionError):
    """None of the awaited page states appeared in time."""


def wait_first(page, states: dict[str, str], timeout: float) -> str:
    """Name of the first of ``states`` (name -> selector) that is visible, waiting at most ``timeout`` s.

    DANA's real OAuth page may bounce through ``chrome-error://`` while trying the app deeplink (7.2 step 2);
    when the wait ends on such a page the browser goes back once and waits again within the same bound.
    """
    union = page.locator(", ".join(states.values())).first
    try:
        union.wait_for(state="visible", timeout=timeout * 1000)
    except Exception as exc:
        if page.url.startswith("chrome-error://"):
            page.go_back(wait_until="domcontentloaded")
            return wait_first(page, states, timeout)
        raise PageTimeout(f"waited {timeout}s on {page.url} for any of {sorted(states)}; none appeared") from exc
    for name, selector in states.items():
        if page.locator(selector).first.is_visible():
            return name
    return wait_first(page, states, timeout)      # the page changed between the two looks


def error_text(page) -> str:
    loc = page.locator(ERROR).first
    return loc.inner_text().strip() if loc.count() else ""


@dataclass
class LoginPage:
    """Phone entry (OAuth and checkout login): `.desktop-input > .txt-input-phone-number-field`."""
    page: object

    def enter_phone(self, phone: str) -> None:
        field = self.page.locator(PHONE).first
        # 7.2 step 4: a value pre-filled from seamlessData must be left alone (re-filling breaks DANA's state).
        if not field.input_value():
            field.fill(phone)

    def submit(self) -> None:
        self.page.locator(PHONE_SUBMIT).first.click()


@dataclass
class AgreementPage:
    page: object

    def agree(self) -> None:
        self.page.locator(CONSENT).first.click()


@dataclass
class PinPage:
    """Six-digit PIN that submits itself after the last digit (no button), so typing it navigates."""
    page: object

    def enter_pin(self, pin: str, timeout: float) -> None:
        field = self.page.locator(PIN).first
        # fill() sends one input event with all six digits; DANA's own Python checkout script fills the PIN
        # the same way ([uat-checkout]), so the real page accepts it.
        with self.page.expect_navigation(wait_until="commit", timeout=timeout * 1000):
            field.fill(pin)


@dataclass
class CheckoutPage:
    page: object

    def choose_dana(self) -> None:
        self.page.locator(DANA_OPTION).first.click()

    def pay(self) -> None:
        self.page.locator(PAY).first.click()

    def back_to_merchant(self) -> bool:
        link = self.page.locator(BACK_TO_MERCHANT).first
        if not link.count():
            return False
        link.click()
        return True
