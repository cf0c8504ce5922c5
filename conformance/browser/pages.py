"""Page objects for DANA's hosted pages, written against the selectors DANA's pages use (protocol ref 7).

The embedded sandbox's pages (conformance/sandbox/binding_pages.py, checkout_pages.py) honour the same selectors, so this code drives
the real sandbox too. Every wait is on a selector or a URL, with a bound; nothing sleeps. Async: they run on the
browser session's thread (session.py), so scenarios side by side share one Chromium.
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


async def wait_first(page, states: dict[str, str], timeout: float) -> str:
    """Name of the first of ``states`` (name -> selector) that is visible, waiting at most ``timeout`` s.

    DANA's real OAuth page may bounce through ``chrome-error://`` while trying the app deeplink ([uat-oauth]);
    when the wait ends on such a page the browser goes back once and waits again within the same bound.
    """
    union = page.locator(", ".join(states.values())).first
    try:
        await union.wait_for(state="visible", timeout=timeout * 1000)
    except Exception as exc:
        if page.url.startswith("chrome-error://"):
            await page.go_back(wait_until="domcontentloaded")
            return await wait_first(page, states, timeout)
        raise PageTimeout(f"waited {timeout}s on {page.url} for any of {sorted(states)}; none appeared") from exc
    for name, selector in states.items():
        if await page.locator(selector).first.is_visible():
            return name
    return await wait_first(page, states, timeout)      # the page changed between the two looks


async def error_text(page) -> str:
    loc = page.locator(ERROR).first
    return (await loc.inner_text()).strip() if await loc.count() else ""


@dataclass
class LoginPage:
    """Phone entry (OAuth and checkout login): `.desktop-input > .txt-input-phone-number-field`."""
    page: object

    async def enter_phone(self, phone: str) -> None:
        field = self.page.locator(PHONE).first
        # [uat-oauth]: a value pre-filled from seamlessData must be left alone (re-filling breaks DANA's state).
        if not await field.input_value():
            await field.fill(phone)

    async def submit(self) -> None:
        await self.page.locator(PHONE_SUBMIT).first.click()


@dataclass
class AgreementPage:
    """The optional consent button DANA's Go and Node scripts click between phone and PIN if visible."""
    page: object

    async def agree(self) -> None:
        await self.page.locator(CONSENT).first.click()


@dataclass
class PinPage:
    """Six-digit PIN that submits itself after the last digit (no button), so typing it navigates."""
    page: object

    async def enter_pin(self, pin: str, timeout: float) -> None:
        field = self.page.locator(PIN).first
        # fill() sends one input event with all six digits; DANA's own Python checkout script fills the PIN
        # the same way ([uat-checkout]), so the real page accepts it.
        async with self.page.expect_navigation(wait_until="commit", timeout=timeout * 1000):
            await field.fill(pin)


@dataclass
class CheckoutPage:
    page: object

    async def choose_dana(self) -> None:
        await self.page.locator(DANA_OPTION).first.click()

    async def pay(self) -> None:
        await self.page.locator(PAY).first.click()

    async def back_to_merchant(self) -> bool:
        link = self.page.locator(BACK_TO_MERCHANT).first
        if not await link.count():
            return False
        await link.click()
        return True
