"""Step models of merchant mode: the suite plays DANA and drives the merchant's backend via its profile.

Each step names the one behaviour it proves (model: the OpenID Foundation's relying-party tests).
docs/merchant-mode.md describes them for authors and merchants.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


_STEP_NAME = Field(None, description="What the step does, for the report.")


def _step(kind: str, options: type[_Strict], description: str) -> type[_Strict]:
    """The model of a merchant step kind: a field named after the kind with its options (required when an
    option is), then ``name``, as the core step models have them. ``merchant_pay`` -> ``MerchantPayStep``."""
    required = any(f.is_required() for f in options.model_fields.values())
    action = Field(..., description=description) if required else Field(default_factory=options,
                                                                        description=description)
    return create_model("".join(w.title() for w in kind.split("_")) + "Step", __base__=_Strict,
                        __module__=__name__, **{kind: (options, action), "name": (str | None, _STEP_NAME)})


class MerchantBindOptions(_Strict):
    browser: bool = Field(True, description="Bind in Chromium at the sandbox, which redirects to the merchant's "
                          "callback; false: the suite delivers that redirect itself (faster set-up).")
    complete: bool = Field(True, description="false: only start the binding and lint its URL (no code issued).")
    phone: str | None = Field(None, description="DANA test user (default: profile phone, then settings.phone).")
    pin: str | None = Field(None, description="Its PIN (default: settings.pin).")


class MerchantCallbackOptions(_Strict):
    kind: Literal["forged", "replayed"] = Field(..., description="forged: a valid code with a state the merchant "
                                                "never issued; replayed: the bound code and state again.")


class MerchantPayOptions(_Strict):
    amount: str = Field("10000.00", description="Amount the merchant is asked to charge (magic amounts work).")


class MerchantNotifiedOptions(_Strict):
    partnerReferenceNo: str = Field("${merchantRef}", description="The order DANA notified.")
    timeout: float = Field(15, gt=0, le=120, description="Seconds to wait for the delivery at most.")


Forge = Literal["tampered_body", "other_key", "missing_signature", "missing_timestamp", "stale_timestamp",
                "malformed_json", "duplicate"]


class MerchantNotifyOptions(_Strict):
    partnerReferenceNo: str = Field("${merchantRef}", description="The order the notification is about.")
    status: Literal["00", "05"] = Field("00", description="latestTransactionStatus sent.")
    forge: Forge | None = Field(None, description="What is wrong with the delivery (none: a valid one; "
                                "duplicate: the previous delivery again, byte for byte).")


class MerchantStatusOptions(_Strict):
    partnerReferenceNo: str = Field("${merchantRef}", description="The order to read.")
    paid: bool = Field(True, description="The merchant's status endpoint must show the order paid.")


class MerchantTriggerOptions(_Strict):
    action: Literal["refund", "cancel"] = Field(..., description="Which of the profile's triggers to use.")
    partnerReferenceNo: str = Field("${merchantRef}", description="The order.")
    amount: str = Field("10000.00", description="refund: the amount to refund.")


# kind -> its options and the one behaviour the step proves; each becomes a model by _step
_KINDS = {
    "merchant_bind": (MerchantBindOptions,
        "Start a binding at the merchant, lint the bind URL it produced, bind, and check that the merchant "
        "made exactly one Apply Token for the code (answered 2007400, no traffic violation)."),
    "merchant_callback": (MerchantCallbackOptions,
        "Deliver an OAuth callback to the merchant's redirect URL: a forged one must get no success answer "
        "and no Apply Token; a replayed one must not be exchanged a second time."),
    "merchant_pay": (MerchantPayOptions,
        "Start a payment at the merchant: the sandbox must see a Direct Debit Payment (2005400) with "
        "NOTIFICATION and PAY_RETURN urlParams and an Apply OTT (2004900), none with a traffic violation; "
        "saves merchantRef, checkoutUrl and merchantNotifyUrl."),
    "merchant_notified": (MerchantNotifiedOptions,
        "The sandbox's own Finish Notify reached the merchant's notify URL and was answered HTTP 200 with "
        "responseCode 2005600 on the first attempt."),
    "merchant_notify": (MerchantNotifyOptions,
        "Sign a Finish Notify as DANA (or forge one) and post it to the merchant's notify URL: valid and "
        "duplicate ones must get HTTP 200 + 2005600, forged ones must not; the order read through the status "
        "endpoint changes only on the first valid one."),
    "merchant_status": (MerchantStatusOptions,
        "Read the merchant's own view of the order (profile status endpoint); WARN when the profile has none."),
    "merchant_trigger": (MerchantTriggerOptions,
        "Ask the merchant to refund or cancel an order (profile refund/cancel): the sandbox must see a graded "
        "Refund Order (2005800) or Cancel Order (2005700) for it; skipped when the profile has no such "
        "trigger."),
}
MERCHANT_STEPS = {kind: _step(kind, options, description) for kind, (options, description) in _KINDS.items()}
AUTO_SAVED = {"merchant_bind": ("authCode", "bindState", "merchantRedirectUrl"),
              "merchant_pay": ("merchantRef", "checkoutUrl", "merchantNotifyUrl")}
# Steps that grade an answer (the merchant's or DANA's as seen in the journal): a scenario needs one.
GRADING = frozenset({"merchant_bind", "merchant_callback", "merchant_pay", "merchant_notified", "merchant_notify",
                     "merchant_trigger"})


def is_merchant_scenario(scenario) -> bool:
    """A scenario that drives the merchant's backend: it runs only with a merchant profile."""
    return any(type(step) in MERCHANT_STEPS.values() for step in scenario.steps)
