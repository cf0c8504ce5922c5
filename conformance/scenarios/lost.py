"""An order whose answer was lost: asked about, and cancelled where it must be, before the scenario is run again.

When the answer to a call that creates an order never arrived whole (the connection was reset mid-response, or it
timed out) or was a 500/504 (SNAP: "query first"), DANA may hold the order all the same. Retrying the scenario
would post a new order under a new partnerReferenceNo and leave the first one open, which against production is
money in limbo. So before any retry (and when giving up), each such order is looked up with Query Payment by its
partnerReferenceNo; one still open (INIT or PAYING) is cancelled with Cancel Order. Every query, cancel and
decision is recorded in the attempt's evidence (a ``lost-answer`` event after the two exchanges).

The table ``CREATES_ORDER`` says which calls make orders and how to find them again (DANA's SNAP codes say
"Query the transaction before retrying" for a 504 and "Retry with the same reference; query first" for 500).
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.client.snap_client import DanaClient
from conformance.snap.orders import LATEST_TRANSACTION_STATUS, OPEN

LOST_STATUSES = (500, 504)        # answers that do not say whether the order was made
OPEN_CODES = {LATEST_TRANSACTION_STATUS[s] for s in OPEN}     # latestTransactionStatus of an order still open


@dataclass(frozen=True)
class Recovery:
    query: str            # the API that finds the order by its partnerReferenceNo
    query_service: str    # its serviceCode field: the service of the call that made the order
    cancel: str           # the API that closes an open order


CREATES_ORDER = {"widget_payment": Recovery("query_payment", "54", "cancel_order"),
                 "pg_create_order": Recovery("query_payment", "54", "cancel_order")}


def lost_orders(events: list[dict]) -> list[tuple[str, str, str]]:
    """(api, partnerReferenceNo, merchantId) of every order-creating call of ``events`` whose answer was lost."""
    found = []
    for e in events:
        if e.get("type") != "http" or e.get("api") not in CREATES_ORDER:
            continue
        response = e.get("response")
        if response is not None and response.get("status") not in LOST_STATUSES:
            continue
        body = ((e.get("request") or {}).get("body") or {}).get("json") or {}
        ref, merchant = body.get("partnerReferenceNo"), body.get("merchantId")
        if isinstance(ref, str) and ref and (e["api"], ref, merchant) not in found:
            found.append((e["api"], ref, merchant))
    return found


def recover(target, recorder) -> list[dict]:
    """Query (and where open, cancel) every order of ``recorder``'s attempt whose answer was lost; recorded."""
    lost = lost_orders(recorder.events)
    if not lost:
        return []
    done = []
    with DanaClient(target.merchant, target.api_base, recorder, clock=target.now,
                    verify=target.settings.tls_verify(target.api_base)) as client:
        for api, ref, merchant in lost:
            done.append(_settle(client, CREATES_ORDER[api], api, ref, merchant or target.merchant.merchant_id))
    for record in done:
        recorder.event("lost-answer", **record)
    return done


def _settle(client: DanaClient, how: Recovery, api: str, ref: str, merchant_id: str) -> dict:
    record = {"api": api, "partnerReferenceNo": ref}
    query = client.call(how.query, {"originalPartnerReferenceNo": ref, "serviceCode": how.query_service,
                                    "merchantId": merchant_id})
    body = query.json if isinstance(query.json, dict) else {}
    status = body.get("latestTransactionStatus")
    record["query"] = {"status": query.status, "responseCode": body.get("responseCode"),
                       "latestTransactionStatus": status, "error": query.error}
    if query.status != 200:
        found = "no such order at DANA" if query.status == 404 else "its fate is unknown (the query failed)"
        record["action"] = f"none: {found}"
        return record
    if status not in OPEN_CODES:
        record["action"] = f"none: the order is not open (latestTransactionStatus {status})"
        return record
    cancel = client.call(how.cancel, {"originalPartnerReferenceNo": ref, "merchantId": merchant_id,
                                      "reason": "the answer to its creation was lost; retrying with a new order"})
    answer = cancel.json if isinstance(cancel.json, dict) else {}
    record["cancel"] = {"status": cancel.status, "responseCode": answer.get("responseCode"), "error": cancel.error}
    record["action"] = "cancelled" if cancel.status == 200 else "cancel failed: the order may still be open"
    return record
