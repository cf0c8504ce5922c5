"""Order statuses: the states of a Direct Debit order, and the latestTransactionStatus code of each.

``OrderStatus`` is a ``str`` enum, so a status compares equal to its plain text (``"SUCCESS"``) in stored
data and JSON. The codes are the SNAP ``latestTransactionStatus`` values DANA reports in Query Payment
and Finish Notify (refs: docs/references.md, [sdk-models] (query_payment_response.py) and [doc-finish-notify]).
"""

from __future__ import annotations

from enum import Enum


class OrderStatus(str, Enum):
    INIT = "INIT"              # created, not yet opened at the checkout
    PAYING = "PAYING"          # the payer is at the checkout
    SUCCESS = "SUCCESS"        # paid
    CANCELLED = "CANCELLED"    # cancelled by the merchant (Cancel Order)
    CLOSED = "CLOSED"          # expired (validUpTo passed) or closed by DANA

    def __str__(self) -> str:
        return self.value


OPEN = (OrderStatus.INIT, OrderStatus.PAYING)           # an order that can still be paid or cancelled

# latestTransactionStatus (Query Payment, Finish Notify) for each order status
LATEST_TRANSACTION_STATUS = {OrderStatus.SUCCESS: "00", OrderStatus.INIT: "01", OrderStatus.PAYING: "02",
                             OrderStatus.CANCELLED: "05", OrderStatus.CLOSED: "05"}

# Transaction History List's status of a payment, per order status (an open order is INIT)
HISTORY_STATUS = {OrderStatus.SUCCESS: "SUCCESS", OrderStatus.CANCELLED: "CLOSED", OrderStatus.CLOSED: "CLOSED"}
