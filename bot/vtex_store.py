"""VTEX's Order Management API in memory: Get order and Order invoice notification, as VTEX answers them.

The built-in sandbox store (`unstuck why --sandbox`, `serve --sandbox`, the playground) runs on it, and
the test double (bot/doubles/vtex.py) adds scripted faults, latency and a record of calls on top. It
enforces the request schema of VTEX's published OpenAPI document, so a body VTEX would refuse is refused.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from bot.contract import invoice_problems

_ORDER = re.compile(r"^/api/oms/pvt/orders/([^/]+)$")
_INVOICE = re.compile(r"^/api/oms/pvt/orders/([^/]+)/invoice$")
JSON = {"Content-Type": "application/json; charset=utf-8"}
Reply = tuple[int, dict[str, str], bytes]
INVOICEABLE = {
    "handling",
    "ready-for-handling",
    "invoice",
    "payment-approved",
    "ready-for-invoicing",
    "invoice-after-cancellation-deny",
    "request-cancel",
    "cancellation-requested",
}


class OrderStore:
    def __init__(self, orders: list[dict[str, Any]] | None = None, *, enforce_schema: bool = True):
        self.orders: dict[str, dict[str, Any]] = {o["orderId"]: copy.deepcopy(o) for o in orders or []}
        self.enforce_schema = enforce_schema
        self.schema_violations: list[list[str]] = []
        self._lock = threading.Lock()

    def add(self, order: dict[str, Any]) -> None:
        with self._lock:
            self.orders[order["orderId"]] = copy.deepcopy(order)

    def order(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.orders[order_id])

    def stored_invoices(self, order_id: str) -> list[dict[str, Any]]:
        return list(((self.order(order_id).get("packageAttachment") or {}).get("packages")) or [])

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        return self._route(method, urlsplit(target).path, body)

    def transport(self) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            status, headers, body = self.handle(
                request.method,
                request.url.raw_path.decode(),
                {k.lower(): v for k, v in request.headers.items()},
                request.content,
            )
            return httpx.Response(status, headers=headers, content=body)

        return httpx.MockTransport(handler)

    def _route(self, method: str, path: str, body: bytes) -> Reply:
        if method == "GET" and (m := _ORDER.match(path)):
            order = self._find(unquote(m.group(1)))
            if order is None:
                return 404, JSON, _error("OMS007", "Order Not Found")
            return 200, JSON, json.dumps(order).encode()
        if method == "POST" and (m := _INVOICE.match(path)):
            return self._invoice(unquote(m.group(1)), body)
        return 404, {"Content-Type": "text/plain"}, b"Not Found"

    def _find(self, order_id: str) -> dict[str, Any] | None:
        with self._lock:
            if order_id in self.orders:
                return copy.deepcopy(self.orders[order_id])
            if order_id.startswith("seq"):
                for order in self.orders.values():
                    if f"seq{order.get('sequence')}" == order_id:
                        return copy.deepcopy(order)
        return None

    def _invoice(self, order_id: str, body: bytes) -> Reply:
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return 400, JSON, _error("OMS001", "Invalid JSON body")
        if not isinstance(data, dict):
            return 400, JSON, _error("OMS001", "Invalid body")
        broken = invoice_problems(data) if self.enforce_schema else []
        if broken:  # VTEX's published request schema, enforced: the tests then post nothing else
            self.schema_violations.append(broken)
            return 400, JSON, _error("OMS001", f"Invalid invoice: {broken[0]}")
        missing = [k for k in ("type", "issuanceDate", "invoiceNumber", "invoiceValue", "items") if k not in data]
        if missing:
            return 400, JSON, _error("OMS001", f"Missing required field {missing[0]}")
        try:
            value = int(data["invoiceValue"])
        except (TypeError, ValueError):
            return 400, JSON, _error("OMS001", "invoiceValue must be an integer in cents")
        if value <= 0 or data["type"] not in ("Output", "Input") or not isinstance(data["items"], list):
            return 400, JSON, _error("OMS001", "Invalid invoice")
        with self._lock:
            order = self.orders.get(order_id)
            if order is None:
                return 404, JSON, _error("OMS007", "Order Not Found")
            if order.get("status") in ("canceled", "cancel"):
                return 400, JSON, _error("OMS010", "Order is canceled")
            now = datetime.now(UTC).isoformat()
            packages = (order.setdefault("packageAttachment", {}) or {}).setdefault("packages", []) or []
            order["packageAttachment"]["packages"] = packages
            existing = next((p for p in packages if p.get("invoiceNumber") == data["invoiceNumber"]), None)
            if existing is None:
                packages.append(
                    {
                        "type": data["type"],
                        "invoiceNumber": data["invoiceNumber"],
                        "invoiceValue": value,
                        "issuanceDate": data["issuanceDate"],
                        "invoiceKey": data.get("invoiceKey"),
                        "invoiceUrl": data.get("invoiceUrl"),
                        "courier": data.get("courier") or "",
                        "trackingNumber": data.get("trackingNumber") or "",
                        "trackingUrl": data.get("trackingUrl") or "",
                        "items": [
                            {
                                "itemIndex": _index(order, i),
                                "quantity": i.get("quantity", 0),
                                "price": i.get("price", 0),
                            }
                            for i in data["items"]
                            if isinstance(i, dict)
                        ],
                    }
                )
            output = sum(int(p.get("invoiceValue") or 0) for p in packages if p.get("type") == "Output")
            if order.get("status") in INVOICEABLE and output >= int(order.get("value") or 0):
                order["status"] = "invoiced"
                order["statusDescription"] = "Faturado"
                order["invoicedDate"] = now
            order["lastChange"] = now
        return 200, JSON, json.dumps({"date": now, "orderId": order_id, "receipt": uuid.uuid4().hex}).encode()


def _index(order: dict[str, Any], item: dict[str, Any]) -> int:
    for index, candidate in enumerate(order.get("items") or []):
        if str(candidate.get("id")) == str(item.get("id")):
            return index
    return 0


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "exception": None}}).encode()
