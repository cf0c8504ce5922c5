"""Step models of merchant mode: the suite plays DANA and drives the merchant's backend via its profile.

Each step names the one behaviour it proves (model: the OpenID Foundation's relying-party tests).
docs/merchant-mode.md describes them for authors and merchants.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class MerchantBindOptions(_Strict):
    browser: bool = Field(True, description="Bind in Chromium at the sandbox, which redirects to the merchant's "
                          "callback; false: the suite delivers that redirect itself (faster set-up).")
    complete: bool = Field(True, description="false: only start the binding and lint its URL (no code issued).")
    phone: str | None = Field(None, description="DANA test user (default: profile phone, then settings.phone).")
    pin: str | None = Field(None, description="Its PIN (default: settings.pin).")


class MerchantBindStep(_Strict):
    merchant_bind: MerchantBindOptions = Field(default_factory=MerchantBindOptions, description=(
        "Start a binding at the merchant, lint the bind URL it produced, bind, and check that the merchant "
        "made exactly one Apply Token for the code (answered 2007400, no traffic violation)."))
    name: str | None = Field(None, description="What the step does, for the report.")


class MerchantCallbackOptions(_Strict):
    kind: Literal["forged", "replayed"] = Field(..., description="forged: a valid code with a state the merchant "
                                                "never issued; replayed: the bound code and state again.")


class MerchantCallbackStep(_Strict):
    merchant_callback: MerchantCallbackOptions = Field(..., description=(
        "Deliver an OAuth callback to the merchant's redirect URL: a forged one must get no success answer and "
        "no Apply Token; a replayed one must not be exchanged a second time."))
    name: str | None = Field(None, description="What the step does, for the report.")


class MerchantPayOptions(_Strict):
    amount: str = Field("10000.00", description="Amount the merchant is asked to charge (magic amounts work).")


class MerchantPayStep(_Strict):
    merchant_pay: MerchantPayOptions = Field(default_factory=MerchantPayOptions, description=(
        "Start a payment at the merchant: the sandbox must see a Direct Debit Payment (2005400) with "
        "NOTIFICATION and PAY_RETURN urlParams and an Apply OTT (2004900), none with a traffic violation; "
        "saves merchantRef, checkoutUrl and merchantNotifyUrl."))
    name: str | None = Field(None, description="What the step does, for the report.")


class MerchantNotifiedOptions(_Strict):
    partnerReferenceNo: str = Field("${merchantRef}", description="The order DANA notified.")
    timeout: float = Field(15, gt=0, le=120, description="Seconds to wait for the delivery at most.")


class MerchantNotifiedStep(_Strict):
    merchant_notified: MerchantNotifiedOptions = Field(default_factory=MerchantNotifiedOptions, description=(
        "The sandbox's own Finish Notify reached the merchant's notify URL and was answered HTTP 200 with "
        "responseCode 2005600 on the first attempt."))
    name: str | None = Field(None, description="What the step does, for the report.")


Forge = Literal["tampered_body", "other_key", "missing_signature", "missing_timestamp", "stale_timestamp",
                "malformed_json", "duplicate"]


class MerchantNotifyOptions(_Strict):
    partnerReferenceNo: str = Field("${merchantRef}", description="The order the notification is about.")
    status: Literal["00", "05"] = Field("00", description="latestTransactionStatus sent.")
    forge: Forge | None = Field(None, description="What is wrong with the delivery (none: a valid one; "
                                "duplicate: the previous delivery again, byte for byte).")


class MerchantNotifyStep(_Strict):
    merchant_notify: MerchantNotifyOptions = Field(default_factory=MerchantNotifyOptions, description=(
        "Sign a Finish Notify as DANA (or forge one) and post it to the merchant's notify URL: valid and "
        "duplicate ones must get HTTP 200 + 2005600, forged ones must not; the order read through the status "
        "endpoint changes only on the first valid one."))
    name: str | None = Field(None, description="What the step does, for the report.")


class MerchantStatusOptions(_Strict):
    partnerReferenceNo: str = Field("${merchantRef}", description="The order to read.")
    paid: bool = Field(True, description="The merchant's status endpoint must show the order paid.")


class MerchantStatusStep(_Strict):
    merchant_status: MerchantStatusOptions = Field(default_factory=MerchantStatusOptions, description=(
        "Read the merchant's own view of the order (profile status endpoint); WARN when the profile has none."))
    name: str | None = Field(None, description="What the step does, for the report.")


class MerchantTriggerOptions(_Strict):
    action: Literal["refund", "cancel"] = Field(..., description="Which of the profile's triggers to use.")
    partnerReferenceNo: str = Field("${merchantRef}", description="The order.")
    amount: str = Field("10000.00", description="refund: the amount to refund.")


class MerchantTriggerStep(_Strict):
    merchant_trigger: MerchantTriggerOptions = Field(..., description=(
        "Ask the merchant to refund or cancel an order (profile refund/cancel): the sandbox must see a graded "
        "Refund Order (2005800) or Cancel Order (2005700) for it; skipped when the profile has no such trigger."))
    name: str | None = Field(None, description="What the step does, for the report.")


MERCHANT_STEPS = {"merchant_bind": MerchantBindStep, "merchant_callback": MerchantCallbackStep,
                  "merchant_pay": MerchantPayStep, "merchant_notified": MerchantNotifiedStep,
                  "merchant_notify": MerchantNotifyStep, "merchant_status": MerchantStatusStep,
                  "merchant_trigger": MerchantTriggerStep}
AUTO_SAVED = {"merchant_bind": ("authCode", "bindState", "merchantRedirectUrl"),
              "merchant_pay": ("merchantRef", "checkoutUrl", "merchantNotifyUrl")}
# Steps that grade an answer (the merchant's or DANA's as seen in the journal): a scenario needs one.
GRADING = frozenset({"merchant_bind", "merchant_callback", "merchant_pay", "merchant_notified", "merchant_notify",
                     "merchant_trigger"})


def is_merchant_scenario(scenario) -> bool:
    """A scenario that drives the merchant's backend: it runs only with a merchant profile."""
    return any(type(step) in MERCHANT_STEPS.values() for step in scenario.steps)
