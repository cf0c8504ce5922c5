"""DANA's five OAuth automations (dana-id/uat-script), replayed step for step with Playwright's async API.

Each function follows one language's helper: the same selectors, the same order, the same fixed waits and
the same way of reading the authCode, so what reaches the authCode here reaches it in their scripts:
  python  test/python/widget/automate_oauth.py        automate_oauth_simple (ci_mode off)
  go      test/go/widget/oauth_widget_util.go         automateOAuthFlow
  node    test/node/automate-oauth.js                 automateOAuth
  php     test/php/widget/Scripts/WebAutomation.php   automateOauth (Selenium executeScript -> page.evaluate)
  java    test/java/src/test/java-browser/id/dana/widget/OauthBrowser.java   getOauthViaView
Deviations, each forced by the test machine: Chromium for every script (Java launches WebKit, PHP drives
Chrome through Selenium), no retries (a first attempt must succeed), and the redirect goes to our loopback
receiver instead of https://google.com. The fixed waits are theirs, so this module does sleep: it replays.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qs, urlparse

PIN_SELECTOR = '.txt-input-pin-field, input[maxlength="6"][inputmode="numeric"], input[type="password"]'
IPHONE_13 = "iPhone 13"


async def _poll_code(page, seconds: float) -> str | None:
    """The step both the Python and the PHP script end with: read the page's URL every 0.5 s for an authCode
    until ``seconds`` pass (Python's wait_for_auth_code, PHP's getCurrentURL() loop)."""
    started = time.time()
    while time.time() - started < seconds:
        code = _code(page.url)
        if code:
            return code
        await asyncio.sleep(0.5)
    return None


def _code(url: str) -> str | None:
    query = parse_qs(urlparse(url).query)
    return (query.get("auth_code") or query.get("authCode") or [None])[0]


# --- python: test/python/widget/automate_oauth.py ------------------------------------------------------
async def python_flow(browser, playwright, url: str, phone: str, pin: str) -> str | None:
    context = await browser.new_context(viewport={"width": 1920, "height": 1080},
                                        user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36")
    page = await context.new_page()
    wait_timeout, oauth_timeout = 3000, 30
    try:
        await page.goto(url, wait_until="domcontentloaded", timeout=30000)
        await page.wait_for_timeout(wait_timeout)
        await _first_visible_fill(page, ["input[type='tel']", "input[placeholder*='phone']",
                                         "input[placeholder*='mobile']", "input[maxlength='13']",
                                         "input[class*='phone']", "input[class*='mobile']", "input:first-of-type"], phone)
        await page.wait_for_timeout(wait_timeout // 2)
        await _python_click_continue(page)
        await page.wait_for_timeout(wait_timeout)
        await _python_fill_pin(page, pin)
        await page.wait_for_timeout(wait_timeout // 2)
        await _python_click_continue(page)
        return await _poll_code(page, oauth_timeout)          # wait_for_auth_code
    finally:
        await context.close()


async def _first_visible_fill(page, selectors: list[str], value: str) -> bool:
    for selector in selectors:
        try:
            element = await page.query_selector(selector)
            if element and await element.is_visible():
                await element.fill(value)
                return True
        except Exception:
            continue
    return False


async def _python_fill_pin(page, pin: str) -> bool:
    for selector in ["input[maxlength='6']", "input[type='password']", "input[class*='pin']", "input[name*='pin']",
                     "input[maxlength='1']"]:
        try:
            elements = await page.query_selector_all(selector)
            if len(elements) == 1 and await elements[0].is_visible():
                await elements[0].fill(pin)
                return True
            if len(elements) >= 6:
                for element, digit in zip(elements, pin):
                    await element.fill(digit)
                return True
        except Exception:
            continue
    return False


async def _python_click_continue(page) -> bool:
    for selector in ["button[type='submit']", "button:has-text('Continue')", "button:has-text('Next')",
                     "button:has-text('Submit')", "button:has-text('Lanjutkan')", "button:has-text('Lanjut')",
                     "button[class*='continue']", "button[class*='submit']", "button[class*='btn-primary']"]:
        try:
            element = await page.query_selector(selector)
            if element and await element.is_visible() and await element.is_enabled():
                await element.click()
                return True
        except Exception:
            continue
    return False


# --- go and node: test/go/widget/oauth_widget_util.go, test/node/automate-oauth.js (the same steps) -----
async def go_flow(browser, playwright, url: str, phone: str, pin: str) -> str | None:
    return await _mobile_flow(browser, playwright, url, phone, pin)


async def node_flow(browser, playwright, url: str, phone: str, pin: str) -> str | None:
    return await _mobile_flow(browser, playwright, url, phone, pin)


async def _mobile_flow(browser, playwright, url: str, phone: str, pin: str) -> str | None:
    context = await browser.new_context(**playwright.devices[IPHONE_13], locale="id-ID",
                                        geolocation={"longitude": 106.8456, "latitude": -6.2088},
                                        permissions=["geolocation"])
    context.set_default_timeout(60000)
    page = await context.new_page()
    try:
        await page.goto(url, wait_until="domcontentloaded", timeout=60000)
        await page.wait_for_timeout(2000)
        if not await page.locator(PIN_SELECTOR).first.is_visible():
            filled = False
            for selector in ["input.txt-input-phone-number-field", "input[type='tel']",
                             "input[placeholder='12312345678']", "input[maxlength='13']", "input[maxlength='15']"]:
                loc = page.locator(selector).first
                if await loc.is_visible():
                    if await loc.input_value() != "":
                        filled = True                      # pre-filled from seamlessData: left alone
                    else:
                        await loc.fill(phone)
                        filled = True
                    break
            if not filled:
                label = page.locator("label.new-clearable-input.form-ipg-phonenumber").first
                if await label.is_visible():
                    await label.click()
                    await page.keyboard.type(phone)
            await page.wait_for_timeout(1000)
            submitted = False
            for text in ["LANJUTKAN", "Lanjutkan", "Next", "Continue"]:
                loc = page.get_by_role("button", name=text, exact=True).first
                if await loc.is_visible():
                    await loc.click()
                    submitted = True
                    break
            if not submitted:
                for selector in ["button[type='submit']", "button.btn-primary", "button.next-button", ".btn-continue",
                                 ".btn-submit"]:
                    loc = page.locator(selector).first
                    if await loc.is_visible():
                        await loc.click()
                        break
            await page.wait_for_timeout(3000)
            consent = page.locator("button.btn-continue.fs-unmask.btn.btn-primary").first
            if await consent.is_visible():                 # the consent click, only "if visible"
                await consent.click()
                await page.wait_for_timeout(1000)
            try:
                await page.wait_for_selector(PIN_SELECTOR, state="attached", timeout=15000)
            except Exception:
                pass
        pin_field = page.locator(PIN_SELECTOR).first
        if await pin_field.is_visible():
            await pin_field.click()
            await page.keyboard.type(pin)
        else:
            element = await page.wait_for_selector(PIN_SELECTOR, state="visible", timeout=10000)
            await element.click()
            await page.keyboard.type(pin)
        found: asyncio.Future = asyncio.get_running_loop().create_future()

        def on_navigated(frame) -> None:          # registered after the PIN, as in both scripts
            if frame == page.main_frame and _code(frame.url) and not found.done():
                found.set_result(_code(frame.url))

        page.on("framenavigated", on_navigated)
        try:
            return await asyncio.wait_for(found, 30)
        except asyncio.TimeoutError:
            return _code(page.url)                 # the scripts' fallback: the final URL
    finally:
        await context.close()


# --- php: test/php/widget/Scripts/WebAutomation.php (JavaScript through Selenium) ------------------------
PHP_FILL_PHONE = """(phone) => { for (const input of Array.from(document.querySelectorAll("input"))) {
  if (input.type === "tel" || input.placeholder === "12312345678" || input.maxLength === 13 ||
      input.className.includes("phone-number")) {
    input.value = phone; input.dispatchEvent(new Event("input", { bubbles: true })); return true; } }
  return false; }"""
PHP_SUBMIT = """() => { for (const button of Array.from(document.querySelectorAll("button"))) {
  if (button.innerText.includes("Next") || button.innerText.includes("Continue") ||
      button.innerText.includes("Submit") || button.innerText.includes("Lanjutkan")) { button.click(); return true; } }
  return false; }"""
PHP_CONSENT = """() => { const b = document.querySelector("button.btn-continue.fs-unmask.btn.btn-primary");
  if (b) { b.click(); return true; } return false; }"""
PHP_PIN = """(value) => {
  const selectors = ['input.txt-input-pin-field', 'input[class*="txt-input-pin-field"]',
    'input[type="text"][inputmode="numeric"]', 'input[type="text"][pattern="[0-9]*"]',
    'input[maxlength="6"][pattern="[0-9]*"]', 'input[data-v-3a4f5050]', 'input[autofocus="true"][maxlength="6"]',
    'input[type="password"]', 'input[name="pin"]', 'input[name="password"]', 'input[placeholder*="PIN"]',
    'input[placeholder*="pin"]', 'input[class*="pin"]', 'input[id*="pin"]', 'input[inputmode="numeric"]',
    'input[pattern*="[0-9]"]'];
  let element = null;
  for (const s of selectors) { const e = document.querySelector(s); if (e && e.offsetParent !== null) { element = e; break; } }
  if (!element) return false;
  element.value = '';
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(element, value);
  for (const type of ['input', 'change', 'blur']) element.dispatchEvent(new Event(type, { bubbles: true }));
  element.focus();
  for (const ch of value) {
    element.dispatchEvent(new KeyboardEvent('keydown', { key: ch, code: 'Digit' + ch, bubbles: true }));
    element.dispatchEvent(new KeyboardEvent('keyup', { key: ch, code: 'Digit' + ch, bubbles: true }));
  }
  element.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', code: 'Enter', bubbles: true }));
  element.dispatchEvent(new KeyboardEvent('keyup', { key: 'Enter', code: 'Enter', bubbles: true }));
  return true; }"""
PHP_AFTER_PIN = """() => {
  const selectors = ['button[type="submit"]', '.btn-submit', '.btn-primary', '.dana-button',
                     'button:contains("Submit")', 'button:contains("Confirm")', 'button:contains("Continue")'];
  for (const s of selectors) { const b = document.querySelector(s); if (b && b.offsetParent !== null) { b.click(); return true; } }
  for (const b of document.querySelectorAll('button')) {
    if (b.offsetParent !== null && b.textContent.trim()) { b.click(); return true; } }
  return false; }"""
PHP_FALLBACK_PIN = """(value) => { const e = document.querySelector(".txt-input-pin-field");
  if (e) { e.value = value; e.dispatchEvent(new Event("input", { bubbles: true }));
           e.dispatchEvent(new Event("change", { bubbles: true })); return true; } return false; }"""
PHP_CONTINUE = """() => { let found;
  document.querySelectorAll("button").forEach((button) => { const t = button.innerText.trim().toLowerCase();
    if (t.includes("lanjut") || t.includes("continue") || t.includes("submit") || t.includes("confirm") ||
        t.includes("next") || button.className.includes("btn-continue") || button.className.includes("btn-submit") ||
        button.className.includes("btn-confirm")) { found = button; } });
  if (found) { found.click(); return true; } return false; }"""


async def php_flow(browser, playwright, url: str, phone: str, pin: str) -> str | None:
    context = await browser.new_context(viewport={"width": 1920, "height": 1080})     # window()->maximize()
    page = await context.new_page()
    try:
        await page.goto(url)                                # WebDriver get(): waits for the load event
        await asyncio.sleep(2)
        await page.evaluate(PHP_FILL_PHONE, phone)
        await page.evaluate(PHP_SUBMIT)
        await asyncio.sleep(2)
        if await page.evaluate(PHP_CONSENT):
            await asyncio.sleep(1.5)
        try:                                                # handlePinWithJavaScript, its own try/catch
            entered = await page.evaluate(PHP_PIN, pin)
            if entered:
                await asyncio.sleep(2)
                await page.evaluate(PHP_AFTER_PIN)
        except Exception:
            entered = False
        if not entered:
            await page.evaluate(PHP_FALLBACK_PIN, pin)
        await page.evaluate(PHP_CONTINUE)
        return await _poll_code(page, 5)                    # poll getCurrentURL() for 5 s
    finally:
        await context.close()


# --- java: test/java/src/test/java-browser/id/dana/widget/OauthBrowser.java ------------------------------
async def java_flow(browser, playwright, url: str, phone: str, pin: str) -> str | None:
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(url)
        await asyncio.sleep(5)                              # Thread.sleep(5000)
        if await page.locator(".desktop-input>.txt-input-phone-number-field").is_visible():
            await page.locator(".desktop-input>.txt-input-phone-number-field").fill(phone)
        await page.locator(".agreement__button>.btn-continue").click()
        await page.locator(".txt-input-pin-field").fill(pin)
        await page.wait_for_url("**/**authCode**", timeout=15000)
        return page.url.split("authCode=")[1].split("&")[0]
    finally:
        await context.close()


FLOWS = {"python": python_flow, "go": go_flow, "node": node_flow, "php": php_flow, "java": java_flow}


async def run_all(executable: str, urls: dict[str, str], phone: str, pin: str) -> dict[str, object]:
    """Every flow at once, each in its own context of one Chromium; name -> authCode, None or the exception."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, headless=True,
                                                   args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            results = await asyncio.gather(*(FLOWS[name](browser, playwright, urls[name], phone, pin)
                                             for name in urls), return_exceptions=True)
        finally:
            await browser.close()
    return dict(zip(urls, results))
