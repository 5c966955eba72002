"""The built-in sandbox store: demo orders, one per diagnosis branch, behind the VTEX double.

Dates are relative to the moment the store is built, so "stuck for 3 days" stays true whenever the
sandbox runs. `sandbox_script` makes the store move over time for the stuck-order radar (two more
orders, RADAR_DEMOS, that enter a status, become stuck and get invoiced); the demo orders never move.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.order import parse_order
from bot.statuses import STATUSES
from bot.vtex_store import OrderStore

SANDBOX_ACCOUNT = "sandbox"
SANDBOX_URL = "https://sandbox.vtexcommercestable.com.br"

BRL = {
    "countryCode": "BRA",
    "currencyCode": "BRL",
    "currencySymbol": "R$",
    "currencyLocale": 1046,
    "timeZone": "E. South America Standard Time",
    "currencyFormatInfo": {
        "CurrencyDecimalDigits": 2,
        "CurrencyDecimalSeparator": ",",
        "CurrencyGroupSeparator": ".",
        "CurrencyGroupSize": 3,
        "StartsWithCurrencySymbol": True,
    },
}
USD = {
    "countryCode": "USA",
    "currencyCode": "USD",
    "currencySymbol": "$",
    "currencyLocale": 1033,
    "timeZone": "Eastern Standard Time",
    "currencyFormatInfo": {
        "CurrencyDecimalDigits": 2,
        "CurrencyDecimalSeparator": ".",
        "CurrencyGroupSeparator": ",",
        "CurrencyGroupSize": 3,
        "StartsWithCurrencySymbol": True,
    },
}
# Chilean pesos show no decimals, but VTEX still counts them in cents: 1898000 is CLP 18.980.
CLP = {
    "countryCode": "CHL",
    "currencyCode": "CLP",
    "currencySymbol": "$",
    "currencyLocale": 13322,
    "timeZone": "Pacific SA Standard Time",
    "currencyFormatInfo": {
        "CurrencyDecimalDigits": 0,
        "CurrencyDecimalSeparator": ",",
        "CurrencyGroupSeparator": ".",
        "CurrencyGroupSize": 3,
        "StartsWithCurrencySymbol": True,
    },
}


@dataclass(frozen=True)
class Demo:
    order_id: str
    shows: str


DEMOS = [
    Demo("1500000000001-01", "Handling shipping with a partial invoice: add the missing amount"),
    Demo("1500000000002-01", "Handling shipping, invoice covers the total: resend it"),
    Demo("1500000000003-01", "Handling shipping with no invoice: add one for the full value"),
    Demo("1500000000004-01", "Ready for handling: start handling, then invoice (two readings)"),
    Demo("1500000000005-01", "Verifying invoice with a partial invoice"),
    Demo("1500000000006-01", "Invoiced (US dollars): nothing to fix"),
    Demo("1500000000007-01", "Canceled: no invoice can help"),
    Demo("1500000000008-01", "Payment pending for days: check the transaction"),
    Demo("1500000000009-01", "Workflow error: what to quote to VTEX support"),
    Demo("1500000000010-01", "Over-invoiced: invoices exceed the order value"),
    Demo("1500000000011-01", "Marketplace order (affiliate GHB) with a partial invoice"),
    Demo("1500000000012-01", "A status the bot does not know yet"),
    Demo("1500000000013-01", "Cancellation window, 10 minutes old: not stuck"),
    Demo("1500000000014-01", "Only a return (Input) invoice: it does not count"),
    Demo("1500000000015-01", "Items sold by another seller: invoice on the seller's order"),
    Demo("1500000000016-01", "Chilean pesos (no decimals) with a partial invoice: add the missing amount"),
    Demo("1500000000017-01", "Three candles for R$ 100,00: VTEX splits the price 33,33 + 33,33 + 33,34"),
]


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _order(
    order_id: str,
    status: str,
    now: datetime,
    ago: timedelta,
    *,
    items: list[tuple[str, str, int, int]],
    shipping: int,
    packages: list[dict[str, Any]] | None = None,
    currency: dict[str, Any] = BRL,
    **extra: Any,
) -> dict[str, Any]:
    items_total = sum(price * qty for _, _, price, qty in items)
    group = order_id.split("-")[0]
    created = now - ago - timedelta(hours=2)
    order = {
        "orderId": order_id,
        "sequence": str(500000 + int(group[-3:])),
        "orderGroup": group,
        "status": status,
        "statusDescription": "",
        "workflowIsInError": False,
        "value": items_total + shipping,
        "origin": "Marketplace",
        "affiliateId": "",
        "salesChannel": "1",
        "hostname": SANDBOX_ACCOUNT,
        "isCompleted": True,
        "marketplaceOrderId": "",
        "sellerOrderId": f"00-{order_id}",
        "creationDate": _iso(created),
        "lastChange": _iso(now - ago),
        "authorizedDate": _iso(created),
        "invoicedDate": None,
        "cancelReason": None,
        "allowCancellation": True,
        "totals": [
            {"id": "Items", "name": "Total dos Itens", "value": items_total},
            {"id": "Discounts", "name": "Total dos Descontos", "value": 0},
            {"id": "Shipping", "name": "Total do Frete", "value": shipping},
            {"id": "Tax", "name": "Total da Taxa", "value": 0},
        ],
        "items": [
            {
                "uniqueId": f"U{i}",
                "id": sku,
                "productId": sku,
                "name": name,
                "quantity": qty,
                "seller": "1",
                "price": price,
                "listPrice": price,
                "sellingPrice": price,
            }
            for i, (sku, name, price, qty) in enumerate(items)
        ],
        "sellers": [{"id": "1", "name": "Sandbox Store", "logo": ""}],
        "packageAttachment": {"packages": packages or []},
        "storePreferencesData": currency,
        "changesAttachment": None,
    }
    order.update(extra)
    return order


def _invoice(
    number: str, value: int, when: datetime, *, kind: str = "Output", items: list[tuple[int, int, int]] | None = None
) -> dict[str, Any]:
    return {
        "type": kind,
        "invoiceNumber": number,
        "invoiceValue": value,
        "issuanceDate": _iso(when),
        "invoiceKey": None,
        "invoiceUrl": f"https://erp.example.com/nf/{number}.pdf",
        "courier": "",
        "trackingNumber": "",
        "trackingUrl": "",
        "items": [{"itemIndex": i, "quantity": q, "price": p} for i, q, p in items or []],
    }


def demo_orders(now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or datetime.now(UTC)
    shirt, mug, shoes = (
        ("2001", "T-shirt M", 11995, 2),
        ("3001", "Coffee mug", 4990, 1),
        ("4001", "Running shoes", 39990, 1),
    )
    d = timedelta(days=1)
    return [
        _order(
            "1500000000001-01",
            "handling",
            now,
            3 * d,
            items=[shirt],
            shipping=2000,
            packages=[_invoice("NF10001", 13000, now - 3 * d, items=[(0, 1, 11995)])],
        ),
        _order(
            "1500000000002-01",
            "handling",
            now,
            4 * d,
            items=[shirt, mug],
            shipping=1500,
            packages=[_invoice("NF20001", 30480, now - 4 * d, items=[(0, 2, 11995), (1, 1, 4990)])],
        ),
        _order("1500000000003-01", "handling", now, 5 * d, items=[shoes], shipping=2500),
        _order(
            "1500000000004-01",
            "ready-for-handling",
            now,
            2 * d,
            items=[mug],
            shipping=1200,
            statusDescription="Pronto para o manuseio",
        ),
        _order(
            "1500000000005-01",
            "invoice",
            now,
            2 * d,
            items=[shoes, mug],
            shipping=0,
            packages=[_invoice("NF50001", 39990, now - 2 * d, items=[(0, 1, 39990)])],
        ),
        _order(
            "1500000000006-01",
            "invoiced",
            now,
            6 * d,
            items=[mug],
            shipping=500,
            currency=USD,
            packages=[_invoice("INV-6001", 5490, now - 6 * d, items=[(0, 1, 4990)])],
            invoicedDate=_iso(now - 6 * d),
        ),
        _order(
            "1500000000007-01",
            "canceled",
            now,
            8 * d,
            items=[shirt],
            shipping=2000,
            cancelReason="Customer gave up",
            allowCancellation=False,
        ),
        _order(
            "1500000000008-01",
            "payment-pending",
            now,
            4 * d,
            items=[shoes],
            shipping=0,
            paymentData={
                "transactions": [
                    {"payments": [{"paymentSystemName": "Boleto Bancário", "group": "bankInvoice", "value": 39990}]}
                ]
            },
        ),
        _order("1500000000009-01", "handling", now, 6 * d, items=[shirt], shipping=2000, workflowIsInError=True),
        _order(
            "1500000000010-01",
            "handling",
            now,
            3 * d,
            items=[mug],
            shipping=1000,
            packages=[_invoice("NF100001", 5990, now - 3 * d), _invoice("NF100002", 3000, now - 2 * d)],
        ),
        _order(
            "1500000000011-01",
            "handling",
            now,
            3 * d,
            items=[shirt],
            shipping=2000,
            affiliateId="GHB",
            marketplaceOrderId="GHB-7700112233",
            packages=[_invoice("NF110001", 20000, now - 3 * d, items=[(0, 1, 11995)])],
        ),
        _order("1500000000012-01", "waiting-for-quantum-approval", now, 2 * d, items=[mug], shipping=0),
        _order("1500000000013-01", "window-to-cancel", now, 10 * timedelta(minutes=1), items=[shoes], shipping=0),
        _order(
            "1500000000014-01",
            "handling",
            now,
            3 * d,
            items=[shoes],
            shipping=1500,
            packages=[_invoice("RET-1401", 39990, now - 2 * d, kind="Input")],
        ),
        _order(
            "1500000000015-01",
            "handling",
            now,
            3 * d,
            items=[("5001", "Sofa", 189900, 1)],
            shipping=9900,
            sellers=[{"id": "1", "name": "Sandbox Store"}, {"id": "furniturehub", "name": "Furniture Hub"}],
            sellerOrderId="FHB-1500000000015-01",
        ),
        _order(
            "1500000000016-01",
            "handling",
            now,
            3 * d,
            items=[("6001", "Parka", 4990000, 1), ("6002", "Gorro", 899000, 2)],
            shipping=350000,
            currency=CLP,
            packages=[_invoice("F-16001", 4990000, now - 3 * d, items=[(0, 1, 4990000)])],
        ),
        _split_price(
            _order("1500000000017-01", "handling", now, 2 * d, items=[("7001", "Candle", 3333, 3)], shipping=0)
        ),
    ]


def _split_price(order: dict[str, Any]) -> dict[str, Any]:
    """R$ 100,00 for three units does not divide evenly: VTEX prices two at 33,33 and one at 33,34."""
    item = order["items"][0]
    item["priceDefinition"] = {
        "sellingPrices": [{"value": 3333, "quantity": 2}, {"value": 3334, "quantity": 1}],
        "calculatedSellingPrice": 3333,
        "total": 10000,
        "reason": None,
    }
    order["value"] = order["totals"][0]["value"] = 10000
    return order


def sandbox_store(now: datetime | None = None) -> OrderStore:
    """The demo orders in VTEX's API, in memory: what `--sandbox` and the playground answer from."""
    return OrderStore(demo_orders(now))


# -- the radar's demo: orders that move ----------------------------------------------------------------

RADAR_DEMOS = [
    Demo("1500000000018-01", "Radar: a new order enters Handling shipping, becomes stuck, then is invoiced"),
    Demo("1500000000019-01", "Radar: stuck in Handling shipping from the start, then invoiced"),
]
ENTERS, STUCK_THEN_INVOICED = (d.order_id for d in RADAR_DEMOS)


@dataclass(frozen=True)
class Move:
    """One scheduled change of the sandbox script: at `start + after`, `order_id` moves to `status`
    (`invoiced` goes through the invoice route, for the missing amount, as a fix from the bot would)."""

    after: timedelta
    order_id: str
    status: str
    shows: str


def radar_orders(start: datetime) -> list[dict[str, Any]]:
    """The two orders the script moves. They are not in DEMOS (one demo per diagnosis branch)."""
    mug, shoes = ("3001", "Coffee mug", 4990, 2), ("4001", "Running shoes", 39990, 1)
    return [
        _order(ENTERS, "ready-for-handling", start, timedelta(0), items=[mug], shipping=1000),
        _order(STUCK_THEN_INVOICED, "handling", start, timedelta(days=3), items=[shoes], shipping=1500),
    ]


def sandbox_script(
    store: OrderStore,
    start: datetime | None = None,
    *,
    enter_after: timedelta = timedelta(seconds=20),
    stuck_after: timedelta = timedelta(minutes=2),
    normal: timedelta | None = None,
) -> list[Move]:
    """Make the sandbox store move, so the playground shows radar alerts appear and then resolve.

    Adds the two RADAR_DEMOS orders (unless present) and schedules, from `start` (the store's clock by
    default); the store runs each change at the first request (or `store.advance()`) after its time:

    - at once: 1500000000019-01 has been in Handling shipping for 3 days with no invoice: stuck, alerted
      at the radar's first look; 1500000000018-01 is in Ready for handling, changed just now: not stuck;
    - `enter_after` (20 s): 1500000000018-01 enters Handling shipping. Its lastChange is set
      `normal - stuck_after` in the past, so it becomes stuck `stuck_after` (2 min) later for a radar
      whose handling threshold is `normal` (by default the status knowledge's, 2 days; pass the
      playground's UNSTUCK_RADAR_AFTER value for handling instead when it sets one);
    - `enter_after + stuck_after / 2`: 1500000000019-01 is invoiced for its whole value: its alert resolves;
    - `enter_after + stuck_after`: 1500000000018-01 crosses the threshold (no change in the store);
    - `enter_after + 2 * stuck_after`: 1500000000018-01 is invoiced: its alert resolves.

    Every status change is queued in the store's orders feed (when one is configured). Deterministic: the
    same start gives the same moves. Returns them, in order.
    """
    start = start or store.clock()
    threshold = normal if normal is not None else (STATUSES["handling"].expect or timedelta(days=2))
    for order in radar_orders(start):
        if order["orderId"] not in store.orders:
            store.add(order)
    moves = [
        Move(enter_after, ENTERS, "handling", "a new order enters Handling shipping"),
        Move(enter_after + stuck_after / 2, STUCK_THEN_INVOICED, "invoiced", "the stuck order is invoiced"),
        Move(enter_after + 2 * stuck_after, ENTERS, "invoiced", "the order that became stuck is invoiced"),
    ]
    backdate = max(threshold - stuck_after, timedelta(0))
    for move in moves:
        store.schedule(start + move.after, _mover(store, move, backdate))
    return moves


def _mover(store: OrderStore, move: Move, backdate: timedelta) -> Callable[[], None]:
    def run() -> None:
        now = store.clock()
        if move.status == "invoiced":
            _invoice_in_full(store, move.order_id, now)
        else:
            store.set_status(move.order_id, move.status, now - backdate)

    return run


def _invoice_in_full(store: OrderStore, order_id: str, now: datetime) -> None:
    order = store.order(order_id)
    missing = parse_order(order).missing
    if missing <= 0:
        return
    body = {
        "type": "Output",
        "issuanceDate": _iso(now),
        "invoiceNumber": f"NF{order_id.split('-')[0][-4:]}R",
        "invoiceValue": str(missing),
        "courier": "",
        "trackingNumber": "",
        "trackingUrl": "",
        "items": [
            {"id": str(i["id"]), "price": int(i["price"]), "quantity": int(i["quantity"])} for i in order["items"]
        ],
    }
    store.post_invoice(order_id, body)


def moving_sandbox_store(now: datetime | None = None, **script: Any) -> OrderStore:
    """The sandbox store with the radar's script running from `now` (see `sandbox_script`)."""
    store = sandbox_store(now)
    sandbox_script(store, now, **script)
    return store
