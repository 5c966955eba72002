"""VTEX's Order Management API in memory, as VTEX answers it: Get order, Order invoice notification,
List orders and Orders Feed v3.

The built-in sandbox store (`unstuck why --sandbox`, `serve --sandbox`, the playground) runs on it, and
the test double (bot/doubles/vtex.py) adds scripted faults, latency and a record of calls on top. It
enforces the request schemas of VTEX's published OpenAPI document, so a body VTEX would refuse is refused.

Time comes from `clock` (now by default), so tests move it. Orders change status through the invoice
route or `set_status`, and changes can be scheduled (`schedule`, run by `advance`, which every request
calls first): that is how the sandbox moves orders over time. Each status change becomes a feed item when
a feed is configured and its `FromWorkflow` filter lists the new status.

What VTEX documents and this store follows:
- List orders (`GET /api/oms/pvt/orders`): `f_status` (comma-separated), `f_creationDate`
  (`creationDate:[2022-10-01T03:00:00.000Z TO 2022-11-01T02:59:59.999Z]`, vtexdocs/dev-portal-content
  `using-orders-management-filters-in-api.md`), `page`, `per_page` (default 15, at most 100), `orderBy`
  (`creationDate,asc`), and "the limit of information retrieval is 30 pages" (VTEX - Orders API.json).
  What VTEX answers for page 31 is not documented: this store answers 400 with a message saying so.
  `paging.pages` and `paging.total` count the whole query, past the 30 readable pages.
- Feed v3: `GET /api/orders/feed` "will return 404 Not Found if there is no Feed Configuration available"
  and `maxlot` is at most 10 (VTEX - Orders API.json); the config routes list 404 "Value not found", so a
  missing configuration answers 404 on `GET /api/orders/feed/config` too. A new feed's queue holds the
  changes made after it was configured (vtexdocs `orders-feed.md`); an item handed out is invisible for
  `visibilityTimeoutInSeconds` and comes back with a new handle unless committed; items older than
  `MessageRetentionPeriodInSeconds` are dropped; FromWorkflow and FromOrders fields together answer 409.
  FromOrders' JSONata expression is not evaluated here: every status change passes it.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import json
import math
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from bot.contract import problems
from bot.order import parse_date

_ORDER = re.compile(r"^/api/oms/pvt/orders/([^/]+)$")
_INVOICE = re.compile(r"^/api/oms/pvt/orders/([^/]+)/invoice$")
_RANGE = re.compile(r"^creationDate:\[(\S+) TO (\S+)\]$")
LIST = "/api/oms/pvt/orders"
FEED = "/api/orders/feed"
FEED_CONFIG = "/api/orders/feed/config"
MAX_PAGES = 30
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 15
MAX_LOT = 10
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


@dataclass
class FeedEvent:
    """One queued feed item. `handles` are the handles it was handed out with (any of them commits it)."""

    event_id: str
    order_id: str
    domain: str
    state: str
    last_state: str
    last_change: str
    current_change: str
    queued: datetime
    visible_at: datetime
    handles: list[str] = field(default_factory=list)

    def body(self, handle: str) -> dict[str, str]:
        return {
            "eventId": self.event_id,
            "handle": handle,
            "domain": self.domain,
            "state": self.state,
            "lastState": self.last_state,
            "orderId": self.order_id,
            "lastChange": self.last_change,
            "currentChange": self.current_change,
        }


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OrderStore:
    def __init__(
        self,
        orders: list[dict[str, Any]] | None = None,
        *,
        enforce_schema: bool = True,
        clock: Callable[[], datetime] | None = None,
    ):
        self.orders: dict[str, dict[str, Any]] = {o["orderId"]: copy.deepcopy(o) for o in orders or []}
        self.enforce_schema = enforce_schema
        self.schema_violations: list[list[str]] = []
        self.clock: Callable[[], datetime] = clock or _utc_now
        self._lock = threading.Lock()
        self._feed_config: dict[str, Any] | None = None
        self._feed: dict[str, FeedEvent] = {}  # event id -> event, oldest first
        self._handles: dict[str, str] = {}  # handle -> event id
        self._scheduled: list[tuple[datetime, int, Callable[[], None]]] = []
        self._sequence = 0
        self._version = 0  # bumped on every change List orders can see
        self._stats_for: tuple[Any, dict[str, Any]] | None = None
        self._index: list[tuple[datetime, str]] | None = None  # List orders' creation-date index
        self._indexed: set[str] = set()

    def add(self, *orders: dict[str, Any], copied: bool = True) -> None:
        """Store these orders (`copied=False`: as given, for a benchmark's millions of orders)."""
        with self._lock:
            for order in orders:
                self.orders[order["orderId"]] = copy.deepcopy(order) if copied else order
            self._index = None
            self._version += 1

    def order(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.orders[order_id])

    def stored_invoices(self, order_id: str) -> list[dict[str, Any]]:
        return list(((self.order(order_id).get("packageAttachment") or {}).get("packages")) or [])

    # -- moving orders ---------------------------------------------------------------------------

    def set_status(self, order_id: str, status: str, when: datetime | None = None) -> None:
        """Move an order to `status` as VTEX's workflow would: `lastChange` becomes `when` (now by default)
        and the change is queued in the feed. KeyError for an unknown order."""
        with self._lock:
            self._set_status(self.orders[order_id], status, when or self.clock())

    def schedule(self, at: datetime, action: Callable[[], None]) -> None:
        """Run `action` once the clock reaches `at` (at the next `advance`, which every request calls)."""
        with self._lock:
            self._sequence += 1
            self._scheduled.append((at, self._sequence, action))
            self._scheduled.sort(key=lambda entry: (entry[0], entry[1]))

    def advance(self, now: datetime | None = None) -> int:
        """Run the scheduled changes due by `now` (the clock by default), oldest first; return how many ran."""
        now = now or self.clock()
        with self._lock:
            due = [entry for entry in self._scheduled if entry[0] <= now]
            self._scheduled = [entry for entry in self._scheduled if entry[0] > now]
        for _, _, action in due:
            action()
        return len(due)

    def pending(self) -> int:
        """How many scheduled changes have not run yet."""
        with self._lock:
            return len(self._scheduled)

    def post_invoice(self, order_id: str, body: dict[str, Any]) -> Reply:
        """The invoice route, called from inside (the sandbox's script): same checks, same effects."""
        return self._invoice(order_id, json.dumps(body).encode())

    # -- the feed, seen from the test side -------------------------------------------------------------

    def feed_config(self) -> dict[str, Any] | None:
        """The feed configuration as stored (`filter`, `queue`), or None when there is none."""
        with self._lock:
            return copy.deepcopy(self._feed_config)

    def set_feed_config_json(self, config: dict[str, Any] | None) -> None:
        """Set (or with None, delete) the feed configuration directly, as another integration would have."""
        with self._lock:
            self._feed_config = copy.deepcopy(config)

    def feed_items_left(self) -> int:
        """Items still queued, visible or not (retention applied)."""
        with self._lock:
            self._expire(self.clock())
            return len(self._feed)

    def feed_events(self) -> list[FeedEvent]:
        with self._lock:
            self._expire(self.clock())
            return copy.deepcopy(list(self._feed.values()))

    # -- HTTP ------------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        parts = urlsplit(target)
        return self._route(method, parts.path, body, parts.query)

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

    def _route(self, method: str, path: str, body: bytes, query: str = "") -> Reply:
        self.advance()
        if path == LIST:
            return self._list(parse_qs(query)) if method == "GET" else (405, JSON, _error("405", "Method Not Allowed"))
        if path == FEED_CONFIG:
            if method == "GET":
                return self._get_feed_config()
            if method == "POST":
                return self._post_feed_config(body)
            if method == "DELETE":
                return self._delete_feed_config()
        if path == FEED:
            if method == "GET":
                return self._feed_items(parse_qs(query))
            if method == "POST":
                return self._commit(body)
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

    def _request(self, body: bytes, schema: str, invalid: str) -> dict[str, Any] | str:
        """The JSON object a request carries, or why VTEX refuses it.

        VTEX's published request schema is enforced (unless turned off), so tests post nothing else.
        """
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return "Invalid JSON body"
        if not isinstance(data, dict):
            return "Invalid body"
        broken = problems(schema, data) if self.enforce_schema else []
        if broken:
            self.schema_violations.append(broken)
            return f"{invalid}: {broken[0]}"
        return data

    def _invoice(self, order_id: str, body: bytes) -> Reply:
        data = self._request(body, "invoice_notification_request", "Invalid invoice")
        if isinstance(data, str):
            return 400, JSON, _error("OMS001", data)
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
            moment = self.clock()
            now = moment.isoformat()
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
                self._set_status(order, "invoiced", moment)
            order["lastChange"] = now
        return 200, JSON, json.dumps({"date": now, "orderId": order_id, "receipt": uuid.uuid4().hex}).encode()

    # -- status changes and the feed queue (callers hold the lock) ----------------------------------

    def _set_status(self, order: dict[str, Any], status: str, when: datetime) -> None:
        before, before_change = order.get("status"), order.get("lastChange")
        self._version += 1
        order["status"] = status
        order["statusDescription"] = "Faturado" if status == "invoiced" else ""
        order["lastChange"] = when.isoformat()
        if status == "invoiced":
            order["invoicedDate"] = when.isoformat()
        if before != status:
            self._queue(order, str(before or ""), str(before_change or ""), when)

    def _queue(self, order: dict[str, Any], last_state: str, last_change: str, when: datetime) -> None:
        config = self._feed_config
        if config is None:
            return  # a feed holds the changes made after it was configured
        wanted = (
            (config.get("filter") or {}).get("status")
            if (config.get("filter") or {}).get("type") != "FromOrders"
            else None
        )
        if wanted and order.get("status") not in wanted:
            return
        now = self.clock()
        event = FeedEvent(
            event_id=uuid.uuid4().hex,
            order_id=str(order["orderId"]),
            domain="Fulfillment" if order.get("origin") == "Fulfillment" else "Marketplace",
            state=str(order.get("status") or ""),
            last_state=last_state,
            last_change=last_change or when.isoformat(),
            current_change=when.isoformat(),
            queued=now,
            visible_at=now,
        )
        self._feed[event.event_id] = event

    def _queue_setting(self, name: str, default: int) -> int:
        queue = (self._feed_config or {}).get("queue") or {}
        value = queue.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default

    def _expire(self, now: datetime) -> None:
        retention = timedelta(seconds=self._queue_setting("MessageRetentionPeriodInSeconds", 345600))
        expired = []
        for event in self._feed.values():  # queued oldest first: stop at the first one still kept
            if now - event.queued < retention:
                break
            expired.append(event)
        for event in expired:
            self._drop(event)

    def _drop(self, event: FeedEvent) -> None:
        self._feed.pop(event.event_id, None)
        for handle in event.handles:
            self._handles.pop(handle, None)

    # -- List orders -----------------------------------------------------------------------------

    def _list(self, query: dict[str, list[str]]) -> Reply:
        def one(name: str) -> str | None:
            values = query.get(name)
            return values[0].strip() if values else None

        try:
            page = int(one("page") or 1)
            per_page = int(one("per_page") or DEFAULT_PER_PAGE)
        except ValueError:
            return 400, JSON, _error("OMS001", "page and per_page must be integers")
        if per_page < 1 or per_page > MAX_PER_PAGE:
            return 400, JSON, _error("OMS001", f"per_page must be between 1 and {MAX_PER_PAGE}")
        if page < 1:
            return 400, JSON, _error("OMS001", "page must be 1 or more")
        if page > MAX_PAGES:
            return (
                400,
                JSON,
                _error(
                    "OMS001",
                    f"List orders reads at most {MAX_PAGES} pages; page {page} was asked. "
                    "Narrow the query (f_creationDate) to read the rest.",
                ),
            )
        statuses = {s.strip() for s in (one("f_status") or "").split(",") if s.strip()}
        low = high = None
        if (dates := one("f_creationDate")) is not None:
            match = _RANGE.match(dates)
            low, high = (parse_date(match.group(1)), parse_date(match.group(2))) if match else (None, None)
            if not match or (low is None and match.group(1) != "*") or (high is None and match.group(2) != "*"):
                return 400, JSON, _error("OMS001", "f_creationDate must read creationDate:[FROM TO TO]")
        field_name, _, direction = (one("orderBy") or "creationDate,desc").partition(",")
        if field_name not in ("creationDate", "orderId") or direction.lower() not in ("asc", "desc"):
            return 400, JSON, _error("OMS001", "orderBy must be creationDate or orderId, then asc or desc")
        with self._lock:
            index = self._creation_index()
            lo = 0 if low is None else bisect.bisect_left(index, (low, ""))
            hi = len(index) if high is None else bisect.bisect_right(index, (high, "\uffff"))
            picked = (self.orders.get(oid) for _, oid in index[lo:hi])
            matches = [o for o in picked if o is not None and (not statuses or o.get("status") in statuses)]
            if low is None and high is None:  # orders without a readable creation date are listed too
                matches += [
                    o
                    for oid, o in self.orders.items()
                    if oid not in self._indexed and (not statuses or o.get("status") in statuses)
                ]
            if field_name == "orderId":
                matches.sort(key=lambda o: str(o["orderId"]))
            if direction.lower() == "desc":
                matches.reverse()
            shown = [_list_row(o) for o in matches[(page - 1) * per_page : page * per_page]]
            # the same query's pages share their stats: computed once per query and store version
            key = (frozenset(statuses), low, high, self._version, len(matches))
            if self._stats_for is None or self._stats_for[0] != key:
                self._stats_for = (key, _stats(matches))
            stats = self._stats_for[1]
        body = {
            "list": shown,
            "facets": [],
            "paging": {
                "total": len(matches),
                "pages": math.ceil(len(matches) / per_page),
                "currentPage": page,
                "perPage": per_page,
            },
            "stats": stats,
        }
        return 200, JSON, json.dumps(body).encode()

    def _creation_index(self) -> list[tuple[datetime, str]]:
        """(creationDate, orderId) of every order, sorted; rebuilt after `add` (creation dates never change)."""
        if self._index is None:
            pairs = [(parse_date(o.get("creationDate")), oid) for oid, o in self.orders.items()]
            self._index = sorted((m, oid) for m, oid in pairs if m is not None)
            self._indexed = {oid for _, oid in self._index}
        return self._index

    # -- Feed v3 ---------------------------------------------------------------------------------

    def _get_feed_config(self) -> Reply:
        with self._lock:
            if self._feed_config is None:
                return 404, JSON, _error("404", "Value not found")
            now = self.clock()
            self._expire(now)
            oldest = min((e.queued for e in self._feed.values()), default=now)
            body = {
                **copy.deepcopy(self._feed_config),
                "quantity": len(self._feed),
                "approximateAgeOfOldestMessageInSeconds": (now - oldest).total_seconds(),
            }
        return 200, JSON, json.dumps(body).encode()

    def _post_feed_config(self, body: bytes) -> Reply:
        data = self._request(body, "feed_config_request", "Invalid feed configuration")
        if isinstance(data, str):
            return 400, JSON, _error("400", data)
        kind = (data.get("filter") or {}).get("type")
        if kind not in ("FromWorkflow", "FromOrders"):
            return 400, JSON, _error("400", "filter.type must be FromWorkflow or FromOrders")
        given = set(data.get("filter") or {})
        if (kind == "FromWorkflow" and given & {"expression", "disableSingleFire"}) or (
            kind == "FromOrders" and "status" in given
        ):
            return 409, JSON, _error("409", "FromWorkflow and FromOrders filters are mutually exclusive")
        with self._lock:
            self._feed_config = {"filter": copy.deepcopy(data["filter"]), "queue": copy.deepcopy(data["queue"])}
        return 200, {}, b""

    def _delete_feed_config(self) -> Reply:
        with self._lock:
            if self._feed_config is None:
                return 404, JSON, _error("404", "Value not found")
            self._feed_config = None
        return 200, {}, b""

    def _feed_items(self, query: dict[str, list[str]]) -> Reply:
        raw = (query.get("maxlot") or [str(MAX_LOT)])[0].strip()
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LOT:
            return 400, JSON, _error("400", f"maxlot must be between 1 and {MAX_LOT}")
        with self._lock:
            if self._feed_config is None:
                return 404, JSON, _error("404", "Feed configuration not found for this appKey")
            now = self.clock()
            self._expire(now)
            hidden_for = timedelta(seconds=self._queue_setting("visibilityTimeoutInSeconds", 240))
            items = []
            visible = (e for e in self._feed.values() if e.visible_at <= now)
            for event in list(itertools.islice(visible, int(raw))):
                handle = uuid.uuid4().hex
                event.handles.append(handle)
                self._handles[handle] = event.event_id
                event.visible_at = now + hidden_for
                items.append(event.body(handle))
        return 200, JSON, json.dumps(items).encode()

    def _commit(self, body: bytes) -> Reply:
        data = self._request(body, "feed_commit_request", "Invalid commit")
        if isinstance(data, str):
            return 400, JSON, _error("400", data)
        handles = data.get("handles")
        if not isinstance(handles, list):
            return 400, JSON, _error("400", "handles must be a list")
        with self._lock:
            if self._feed_config is None:
                return 404, JSON, _error("404", "Feed configuration not found for this appKey")
            for handle in handles:
                event_id = self._handles.get(str(handle))
                if event_id is not None and event_id in self._feed:
                    self._drop(self._feed[event_id])
        return 200, {}, b""


def _list_row(order: dict[str, Any]) -> dict[str, Any]:
    """One row of List orders, with the fields VTEX's schema requires (several are null in VTEX's answers)."""
    profile = order.get("clientProfileData") or {}
    client = " ".join(str(profile.get(k) or "") for k in ("firstName", "lastName")).strip()
    payments = [
        str(p.get("paymentSystemName"))
        for t in (order.get("paymentData") or {}).get("transactions") or []
        for p in t.get("payments") or []
        if p.get("paymentSystemName")
    ]
    return {
        "orderId": order["orderId"],
        "creationDate": str(order.get("creationDate") or ""),
        "clientName": client,
        "items": None,
        "totalValue": int(order.get("value") or 0),
        "paymentNames": ", ".join(payments),
        "status": str(order.get("status") or ""),
        "statusDescription": str(order.get("statusDescription") or ""),
        "marketPlaceOrderId": order.get("marketplaceOrderId") or None,
        "sequence": str(order.get("sequence") or ""),
        "salesChannel": str(order.get("salesChannel") or ""),
        "affiliateId": str(order.get("affiliateId") or ""),
        "origin": str(order.get("origin") or "Marketplace"),
        "workflowInErrorState": bool(order.get("workflowIsInError")),
        "workflowInRetry": False,
        "lastMessageUnread": None,
        "ShippingEstimatedDate": None,
        "ShippingEstimatedDateMax": None,
        "ShippingEstimatedDateMin": None,
        "orderIsComplete": bool(order.get("isCompleted", True)),
        "listId": None,
        "listType": None,
        "authorizedDate": order.get("authorizedDate") or None,
        "callCenterOperatorName": None,
        "totalItems": sum(int(i.get("quantity") or 0) for i in order.get("items") or []),
        "currencyCode": str((order.get("storePreferencesData") or {}).get("currencyCode") or "BRL"),
    }


def _stat(values: list[int], whole: bool = False) -> dict[str, Any]:
    count = len(values)
    mean = sum(values) / count if count else 0.0
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / count) if count else 0.0
    return {
        "Count": count,
        "Max": max(values, default=0),
        "Mean": round(mean) if whole else mean,
        "Min": min(values, default=0),
        "Missing": 0,
        "StdDev": round(spread) if whole else spread,
        "Sum": sum(values),
        "SumOfSquares": sum(v * v for v in values),
        "Facets": None,
    }


def _stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """`stats` as List orders sends it: totals by origin and currency (the schema asks for BRL always)."""
    values = [int(o.get("value") or 0) for o in rows]
    units = [sum(int(i.get("quantity") or 0) for i in o.get("items") or []) for o in rows]
    fulfillment = [o.get("origin") == "Fulfillment" for o in rows]
    currency = [str((o.get("storePreferencesData") or {}).get("currencyCode") or "BRL") for o in rows]

    def block(measure: list[int], whole_fulfillment: bool) -> dict[str, Any]:
        return {
            **_stat(measure),
            "Facets": {
                "origin": {
                    "Fulfillment": _stat(
                        [m for m, f in zip(measure, fulfillment, strict=True) if f], whole_fulfillment
                    ),
                    "Marketplace": _stat([m for m, f in zip(measure, fulfillment, strict=True) if not f]),
                },
                "currencyCode": {
                    code: _stat([m for m, c in zip(measure, currency, strict=True) if c == code])
                    for code in sorted({"BRL", *currency})
                },
            },
        }

    # VTEX's schema types totalItems' Fulfillment mean and deviation as integers
    return {"stats": {"totalValue": block(values, False), "totalItems": block(units, True)}}


def _index(order: dict[str, Any], item: dict[str, Any]) -> int:
    for index, candidate in enumerate(order.get("items") or []):
        if str(candidate.get("id")) == str(item.get("id")):
            return index
    return 0


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "exception": None}}).encode()
