"""An in-memory VTEX Order Management API: Get order and Invoice notification, as VTEX answers them.

Used three ways: as the built-in sandbox store (through an httpx transport), as a real HTTP server
for `VTEX_BASE_URL`, and in tests and the benchmark, where faults and latency can be scripted.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from bot.contract import invoice_problems
from bot.doubles.http import LocalServer

_ORDER = re.compile(r"^/api/oms/pvt/orders/([^/]+)$")
_INVOICE = re.compile(r"^/api/oms/pvt/orders/([^/]+)/invoice$")
JSON = {"Content-Type": "application/json; charset=utf-8"}
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


@dataclass
class Fault:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    method: str | None = None
    delay: float = 0.0
    after: bool = False  # apply the request first, then answer with the fault (a lost response)
    # status 0: no fault, only the delay (a slow VTEX that still does the work and answers normally)


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class VtexDouble:
    def __init__(
        self,
        orders: list[dict[str, Any]] | None = None,
        *,
        latency: float = 0.0,
        app_key: str | None = None,
        app_token: str | None = None,
        enforce_schema: bool = True,
    ):
        self.orders: dict[str, dict[str, Any]] = {o["orderId"]: copy.deepcopy(o) for o in orders or []}
        self.latency = latency
        self.app_key = app_key
        self.app_token = app_token
        self.calls: list[Call] = []
        self.faults: deque[Fault] = deque()
        self.enforce_schema = enforce_schema
        self.schema_violations: list[list[str]] = []
        self._lock = threading.Lock()

    # -- scripting -------------------------------------------------------------------------------

    def add(self, order: dict[str, Any]) -> None:
        with self._lock:
            self.orders[order["orderId"]] = copy.deepcopy(order)

    def fail_next(
        self,
        status: int,
        body: bytes | str | dict[str, Any] = b"",
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        method: str | None = None,
        delay: float = 0.0,
        after: bool = False,
    ) -> None:
        raw = json.dumps(body).encode() if isinstance(body, dict) else body.encode() if isinstance(body, str) else body
        for _ in range(times):
            self.faults.append(Fault(status, raw, headers or {}, method, delay, after))

    def slow_next(self, seconds: float, *, method: str | None = "POST") -> None:
        """The next matching request takes `seconds`, then is handled and answered as usual."""
        self.faults.append(Fault(0, b"", {}, method, seconds))

    def stored_invoices(self, order_id: str) -> list[dict[str, Any]]:
        return list(((self.order(order_id).get("packageAttachment") or {}).get("packages")) or [])

    def invoice_posts(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and c.path.endswith("/invoice")]

    def order(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.orders[order_id])

    # -- the protocol ----------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        path = urlsplit(target).path
        self.calls.append(Call(method, path, headers, body))
        if self.latency:
            time.sleep(self.latency)
        fault = self._take_fault(method)
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.status and not fault.after:
            return fault.status, {**JSON, **fault.headers}, fault.body
        if self.app_key is not None and (
            headers.get("x-vtex-api-appkey") != self.app_key or headers.get("x-vtex-api-apptoken") != self.app_token
        ):
            return 401, JSON, _error("1", "Unauthorized access")
        result = self._route(method, path, body)
        if fault and fault.status:
            return fault.status, {**JSON, **fault.headers}, fault.body
        return result

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            for fault in list(self.faults):
                if fault.method is None or fault.method == method:
                    self.faults.remove(fault)
                    return fault
        return None

    def _route(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
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

    def _invoice(self, order_id: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
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

    # -- ways to reach it ------------------------------------------------------------------------

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

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> LocalServer:
        return LocalServer(self.handle, host, port).start()


def _index(order: dict[str, Any], item: dict[str, Any]) -> int:
    for index, candidate in enumerate(order.get("items") or []):
        if str(candidate.get("id")) == str(item.get("id")):
            return index
    return 0


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "exception": None}}).encode()
