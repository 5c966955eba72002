"""VTEX Order Management client: one keep-alive httpx.Client, typed errors, bounded retries.

Reads are retried (429 honouring Retry-After, 502/503/504 and connection errors with exponential
backoff and jitter) inside a total time budget. The invoice POST is never retried here: after a
timeout or 5xx nobody knows whether VTEX stored the invoice, so the caller re-reads the order.
A circuit breaker stops hammering VTEX during an outage.

The stuck-order radar's reads live here too: List orders (`list_orders`, one page of order ids per call)
and Orders Feed v3 (`feed_config`, `set_feed_config`, `feed_items`, `commit_feed`). Every request of a
client, the answers' reads and invoices included, can pass through a shared `RateLimiter`.
"""

from __future__ import annotations

import email.utils
import json
import math
import random
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr, ValidationError

from bot.contract import problems
from bot.errors import (
    BadResponse,
    Forbidden,
    OrderNotFound,
    RateLimited,
    RequestRejected,
    Unauthorized,
    Unavailable,
    VtexError,
    WrongOrder,
)
from bot.i18n import _, ngettext
from bot.invoices import INVOICE_NUMBER, InvalidInvoice, InvoiceReceipt, InvoiceRequest
from bot.order import Order, parse_date, parse_order
from bot.order_ids import validate_order_id

RETRY_STATUSES = {502, 503, 504}
VIEW_PERMISSION = "OMS › View order"
INVOICE_PERMISSION = "OMS › Notify invoice"
LIST_PERMISSION = "OMS › List orders"  # License Manager key ListOrders (split from View order in 2023)
FEED_PERMISSION = "Feed v3 and Hook Admin"

LIST_PATH = "/api/oms/pvt/orders"
FEED_PATH = "/api/orders/feed"
FEED_CONFIG_PATH = "/api/orders/feed/config"
MAX_PAGES = 30  # List orders answers at most 30 pages of a query: split it by creation date beyond that
MAX_PER_PAGE = 100
MAX_LOT = 10  # Retrieve feed items: "Maximum accepted value is 10"
# A creation range given by one end only starts here, or ends a day from now.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class OrderSummary:
    """One row of List orders. The list index lags behind the order (KI 577103): diagnose from Get order."""

    order_id: str
    status: str
    creation_date: datetime | None


@dataclass(frozen=True)
class OrderPage:
    orders: list[OrderSummary]
    page: int  # VTEX's paging.currentPage
    pages: int  # how many pages the whole query has, even past the 30 that can be read
    total: int  # how many orders match the query


@dataclass(frozen=True)
class FeedItem:
    """One Feed v3 event: the order's status went from `last_state` to `state` at `current_change`."""

    event_id: str
    handle: str  # what commit_feed takes; a new one each time the item is handed out
    domain: str
    state: str
    last_state: str
    order_id: str
    current_change: datetime | None


class RateLimiter:
    """A token bucket: at most `per_minute` requests a minute, in bursts of up to `burst` (one second's worth
    by default). Thread-safe: each caller reserves its slot under a lock and sleeps outside it, so waiting
    callers are served in order. `hold(seconds)` gives nobody a slot for that long (VTEX's Retry-After).
    """

    def __init__(
        self,
        per_minute: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        burst: float | None = None,
    ):
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0  # tokens per second
        self.capacity = burst if burst is not None else max(1.0, self.rate)
        self.clock = clock
        self.sleep = sleep
        self.granted = 0  # requests let through
        self._tokens = self.capacity
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + max(now - self._stamp, 0.0) * self.rate)
        self._stamp = now

    def reserve(self) -> float:
        """Take the next slot; return how many seconds the caller must wait before using it."""
        with self._lock:
            self._refill(self.clock())
            self._tokens -= 1
            self.granted += 1
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
            return wait

    def acquire(self) -> float:
        """Wait for a slot (sleeping through the injected `sleep`); return the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self.sleep(wait)
        return wait

    def hold(self, seconds: float) -> None:
        """No slot for anyone for the next `seconds` (slots already reserved are kept)."""
        with self._lock:
            self._refill(self.clock())
            self._tokens = min(self._tokens, 1.0 - seconds * self.rate)


class CircuitBreaker:
    """Stops calling VTEX while it fails for many different orders, not for one broken order.

    Failures are counted per order id: the retries of one question, or one order that VTEX answers with
    503 every time, count once. The circuit opens when `threshold` different orders failed within
    `window` seconds with no success in between; after `cooldown` seconds it is half-open and lets exactly
    one call through as a probe (a probe that never reports is replaced after `probe_timeout`). The probe's
    success closes the circuit, its failure opens it for another cooldown.
    """

    def __init__(
        self,
        threshold: int = 3,
        cooldown: float = 30.0,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        probe_timeout: float = 20.0,
    ):
        self.threshold = threshold
        self.cooldown = cooldown
        self.window = window
        self.clock = clock
        self.probe_timeout = probe_timeout
        self.failed: dict[str, float] = {}  # order id -> when it last failed
        self.opened_at: float | None = None
        self.opened_for = 0  # how many different orders had failed when it opened
        self.probe_since: float | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            if self.opened_at is None:
                return "closed"
            if self.probe_since is not None or self.clock() >= self.opened_at + self.cooldown:
                return "half-open"
            return "open"

    def before_call(self, order_id: str | None) -> None:
        """Raise Unavailable while the circuit is open, or while another call is the half-open probe."""
        with self._lock:
            if self.opened_at is None:
                return
            now = self.clock()
            remaining = self.opened_at + self.cooldown - now
            if remaining > 0:
                raise self._error(
                    order_id,
                    _(
                        "VTEX failed for {orders} different orders in the last {window} seconds, so the bot paused its "
                        "calls to VTEX for {cooldown} s and then tries one ({left} s are left). status.vtex.com shows "
                        "incidents."
                    ),
                    remaining,
                    left=f"{remaining:.0f}",
                )
            if self.probe_since is not None and now - self.probe_since < self.probe_timeout:
                raise self._error(
                    order_id,
                    _(
                        "VTEX failed for {orders} different orders in the last {window} seconds, so the bot paused its "
                        "calls to VTEX for {cooldown} s and then tries one (that call is under way). status.vtex.com "
                        "shows incidents."
                    ),
                    5.0,
                )
            self.probe_since = now  # half-open: this call is the probe

    def blocked(self) -> bool:
        """True while calls would be refused (a retry loop stops waiting then)."""
        with self._lock:
            return self.opened_at is not None and self.opened_at + self.cooldown > self.clock()

    def record(self, ok: bool, order_id: str | None = None) -> None:
        with self._lock:
            now = self.clock()
            if ok:
                self.failed.clear()
                self.opened_at = self.probe_since = None
                return
            self.failed[order_id or "?"] = now
            self.failed = {k: t for k, t in self.failed.items() if now - t <= self.window}
            probe_failed = self.probe_since is not None
            if probe_failed or (self.opened_at is None and len(self.failed) >= self.threshold):
                self.opened_for = max(len(self.failed), self.opened_for) if probe_failed else len(self.failed)
                self.opened_at, self.probe_since = now, None

    def _error(self, order_id: str | None, message: str, retry_after: float, left: str = "") -> Unavailable:
        """`message`: the whole sentence, with {orders}, {window}, {cooldown} (and {left}) to fill in."""
        return Unavailable(
            message.format(
                orders=self.opened_for, window=f"{self.window:.0f}", cooldown=f"{self.cooldown:.0f}", left=left
            ),
            order_id=order_id,
            retry_after=retry_after,
        )


class VtexClient:
    def __init__(
        self,
        base_url: str,
        app_key: SecretStr | None = None,
        app_token: SecretStr | None = None,
        *,
        account: str = "",
        transport: httpx.BaseTransport | None = None,
        timeout: float = 5.0,
        budget: float = 10.0,
        max_attempts: int = 5,
        backoff: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        breaker: CircuitBreaker | None = None,
        limiter: RateLimiter | None = None,
    ):
        headers = {"Accept": "application/json", "Content-Type": "application/json", "User-Agent": "unstuck"}
        if app_key is not None:
            headers["X-VTEX-API-AppKey"] = app_key.get_secret_value()
        if app_token is not None:
            headers["X-VTEX-API-AppToken"] = app_token.get_secret_value()
        self.account = account
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(3.0, timeout)),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            follow_redirects=False,
        )
        self.timeout = timeout
        self.budget = budget
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter
        self.breaker = breaker or CircuitBreaker(clock=clock)
        self.limiter = limiter  # None: no client-side limit

    def __repr__(self) -> str:
        return f"VtexClient(base_url={self.base_url!r})"

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> VtexClient:
        return cls(
            settings.vtex_url,
            settings.vtex_app_key,
            settings.vtex_app_token,
            account=settings.vtex_account or "",
            **kwargs,
        )

    def close(self) -> None:
        self._http.close()

    # -- reads ---------------------------------------------------------------------------------

    def get_order_json(self, order_id: str) -> dict[str, Any]:
        order_id = validate_order_id(order_id)
        response = self._get_with_retries(f"/api/oms/pvt/orders/{quote(order_id, safe='')}", order_id)
        data = self._json(response, order_id)
        if not isinstance(data, dict) or not isinstance(data.get("orderId"), str):
            raise BadResponse(
                _("VTEX answered for {order_id} without order data. Check VTEX_BASE_URL points at the OMS API.").format(
                    order_id=order_id
                ),
                order_id=order_id,
                status_code=response.status_code,
            )
        if not _same_order(order_id, data):
            raise WrongOrder(
                _(
                    "Asked about {order_id}, VTEX answered for another order ({other_order_id}), so nothing is shown "
                    "or offered for it. Try again; if it persists, a proxy or cache in front of VTEX (VTEX_BASE_URL) "
                    "is mixing up answers."
                ).format(order_id=order_id, other_order_id=_shown(data["orderId"])),
                order_id=order_id,
                status_code=response.status_code,
            )
        return data

    def get_order(self, order_id: str) -> Order:
        data = self.get_order_json(order_id)
        try:
            return parse_order(data)
        except ValidationError as exc:
            loc = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise BadResponse(
                _("VTEX sent order {order_id} with a malformed field `{field}`.").format(order_id=order_id, field=loc),
                order_id=order_id,
            ) from None

    def _get_with_retries(self, path: str, order_id: str) -> httpx.Response:
        return self._with_retries(
            lambda timeout: self._http.get(path, timeout=timeout),
            key=order_id,
            to_error=lambda response: _status_error(response, order_id, VIEW_PERMISSION),
            on_transport=lambda exc: _transport_error(exc, order_id),
        )

    def _with_retries(
        self,
        send: Callable[[httpx.Timeout], httpx.Response],
        *,
        key: str | None,
        to_error: Callable[[httpx.Response], VtexError],
        on_transport: Callable[[Exception], VtexError],
        passthrough: Collection[int] = (),
    ) -> httpx.Response:
        """Send, retrying 429 (honouring Retry-After), 502/503/504 and connection errors within the budget.
        Statuses in `passthrough` are returned to the caller instead of raised."""
        deadline = self.clock() + self.budget
        attempt = 0
        while True:
            attempt += 1
            self.breaker.before_call(key)
            self._take_slot()
            remaining = deadline - self.clock()
            try:
                response = send(httpx.Timeout(max(min(self.timeout, remaining), 0.1)))
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                self.breaker.record(False, key)
                error = on_transport(exc)
                retry_after = None
            else:
                # Anything but a 5xx shows VTEX is up (a 429 means busy, a 4xx is about this request).
                self.breaker.record(response.status_code < 500, key)
                if response.status_code < 400 or response.status_code in passthrough:
                    return response
                retry_after = _retry_after(response)
                error = to_error(response)
                if response.status_code != 429 and response.status_code not in RETRY_STATUSES:
                    raise error
            wait = min(self.backoff * 2 ** (attempt - 1), 4.0) * (0.5 + self.jitter() / 2)
            if retry_after is not None:
                wait = max(wait, retry_after)
            if isinstance(error, RateLimited) and self.limiter is not None:
                self.limiter.hold(wait)  # every caller sharing the limiter slows down, not only this one
            if attempt >= self.max_attempts or self.clock() + wait >= deadline or self.breaker.blocked():
                raise error
            self.sleep(wait)

    def _take_slot(self) -> None:
        if self.limiter is not None:
            self.limiter.acquire()

    # -- the invoice ---------------------------------------------------------------------------

    def notify_invoice(self, order_id: str, invoice: InvoiceRequest) -> InvoiceReceipt:
        """POST once. On a timeout or 5xx raise Unavailable with `maybe_delivered` set: re-read first."""
        order_id = validate_order_id(order_id)
        if not INVOICE_NUMBER.match(invoice.invoice_number):
            raise InvalidInvoice("number", _("Use only letters, digits and '-' in the invoice number."))
        self.breaker.before_call(order_id)
        self._take_slot()
        path = f"/api/oms/pvt/orders/{quote(order_id, safe='')}/invoice"
        try:
            response = self._http.post(path, content=json.dumps(invoice.to_json()).encode())
        except httpx.TimeoutException:
            self.breaker.record(False, order_id)
            raise Unavailable(
                _("VTEX did not answer the invoice for {order_id} in time; it may or may not have been stored.").format(
                    order_id=order_id
                ),
                order_id=order_id,
            ).with_delivery_unknown() from None
        except httpx.TransportError as exc:
            self.breaker.record(False, order_id)
            error = _transport_error(exc, order_id)
            if not isinstance(exc, httpx.ConnectError):
                error.with_delivery_unknown()
            raise error from None
        if response.status_code >= 500:
            self.breaker.record(False, order_id)
            raise _status_error(response, order_id, INVOICE_PERMISSION).with_delivery_unknown()
        self.breaker.record(True, order_id)
        if response.status_code >= 400:
            _raise_for_status(response, order_id, INVOICE_PERMISSION)
        data = self._json(response, order_id)
        receipt = data.get("receipt") if isinstance(data, dict) else None
        if not isinstance(receipt, str) or not receipt:
            raise BadResponse(
                _("VTEX accepted the invoice for {order_id} but sent no receipt.").format(order_id=order_id),
                order_id=order_id,
            ).with_delivery_unknown()
        return InvoiceReceipt(
            order_id=str(data.get("orderId") or order_id),
            receipt=receipt,
            date=str(data.get("date") or datetime.now(UTC).isoformat()),
        )

    # -- the radar's reads: List orders and Orders Feed v3 ---------------------------------------

    def list_orders(
        self,
        statuses: list[str],
        *,
        page: int = 1,
        per_page: int = 100,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
    ) -> OrderPage:
        """One page of List orders for these statuses, oldest first (`orderBy=creationDate,asc`).

        VTEX reads at most 30 pages of a query (`MAX_PAGES`); `OrderPage.pages` still says how many the
        whole query has, so a caller seeing more than 30 splits the query by creation date. The range is
        inclusive at both ends, to the millisecond; with only one end given the other is open (2000-01-01,
        or a day from now). Asking for page 31 or later is sent as asked: the store answers 400.
        """
        wanted = [s.strip() for s in statuses if s and s.strip()]
        if not wanted or any("," in s for s in wanted):
            raise ValueError("list_orders needs one or more status ids, without commas")
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"page starts at 1 and per_page is 1 to {MAX_PER_PAGE}")
        params = {"f_status": ",".join(wanted), "page": str(page), "per_page": str(per_page)}
        if created_from is not None or created_to is not None:
            params["f_creationDate"] = creation_range(created_from, created_to)
        params["orderBy"] = "creationDate,asc"
        subject = _("the order list")
        response = self._route_call("GET", LIST_PATH, subject, LIST_PERMISSION, params=params)
        data = _route_json(response, subject)
        if not isinstance(data, dict):
            raise BadResponse(
                _("VTEX answered List orders without a list. Check VTEX_BASE_URL points at the OMS API."),
                status_code=response.status_code,
            )
        rows = data.get("list")
        orders = [
            OrderSummary(
                order_id=oid.strip(), status=_text(row.get("status")), creation_date=parse_date(row.get("creationDate"))
            )
            for row in (rows if isinstance(rows, list) else [])
            if isinstance(row, dict) and isinstance(oid := row.get("orderId"), str) and oid.strip()
        ]
        raw_paging = data.get("paging")
        paging: dict[str, Any] = raw_paging if isinstance(raw_paging, dict) else {}
        total = _count(paging.get("total"), len(orders))
        size = _count(paging.get("perPage"), per_page) or per_page
        pages = _count(paging.get("pages"), math.ceil(total / size))
        return OrderPage(orders=orders, page=_count(paging.get("currentPage"), page) or page, pages=pages, total=total)

    def feed_config(self) -> dict[str, Any] | None:
        """This app key's Feed v3 configuration, or None when it has none (VTEX answers 404 then; an empty
        or `null` body is read the same way)."""
        subject = _("the orders feed configuration")
        response = self._route_call("GET", FEED_CONFIG_PATH, subject, FEED_PERMISSION, passthrough=(404,))
        if response.status_code == 404 or not response.content.strip():
            return None
        data = _route_json(response, subject)
        return data if isinstance(data, dict) and data else None

    def set_feed_config(self, statuses: list[str], *, visibility_timeout: int = 240, retention: int = 345600) -> None:
        """Create or replace this app key's feed filter: an event for each change to one of `statuses`.
        Items handed out stay invisible for `visibility_timeout` seconds unless committed; items never
        committed are dropped after `retention` seconds (VTEX's defaults: 240 s and 4 days)."""
        body = {
            "filter": {"type": "FromWorkflow", "status": list(statuses)},
            "queue": {"visibilityTimeoutInSeconds": visibility_timeout, "MessageRetentionPeriodInSeconds": retention},
        }
        broken = problems("feed_config_request", body)
        if broken or not statuses:
            raise ValueError(f"feed configuration refused before sending: {broken or ['no status given']}")
        self._route_call(
            "POST",
            FEED_CONFIG_PATH,
            _("the orders feed configuration"),
            FEED_PERMISSION,
            content=json.dumps(body).encode(),
        )

    def feed_items(self, maxlot: int = 10) -> list[FeedItem]:
        """Up to `maxlot` (1..10) feed items not handed out within their visibility timeout, oldest first.
        Each is hidden from the next calls for the feed's visibility timeout; commit it once processed,
        or it comes back with a new handle. Raises RequestRejected (status_code 404) without a feed config."""
        if not 1 <= maxlot <= MAX_LOT:
            raise ValueError(f"maxlot is 1 to {MAX_LOT}")
        subject = _("the orders feed")
        response = self._route_call(
            "GET",
            FEED_PATH,
            subject,
            FEED_PERMISSION,
            params={"maxlot": str(maxlot)},
            not_found=_("VTEX has no orders feed for this app key (404): set its configuration first."),
        )
        if not response.content.strip():
            return []
        data = _route_json(response, subject)
        if data is None:
            return []
        if not isinstance(data, list):
            raise BadResponse(
                _("VTEX answered the orders feed without a list of items."), status_code=response.status_code
            )
        items = []
        for raw in data:
            if not isinstance(raw, dict):
                continue
            row = {str(k).lower(): v for k, v in raw.items()}  # VTEX's clients read these keys case-insensitively
            handle = _text(row.get("handle"))
            if not handle:
                continue  # nothing to commit it with
            items.append(
                FeedItem(
                    event_id=_text(row.get("eventid")),
                    handle=handle,
                    domain=_text(row.get("domain")),
                    state=_text(row.get("state")),
                    last_state=_text(row.get("laststate")),
                    order_id=_text(row.get("orderid")),
                    current_change=parse_date(row.get("currentchange")),
                )
            )
        return items

    def commit_feed(self, handles: list[str]) -> None:
        """Remove these items from the feed for good (an unknown or stale handle is ignored by VTEX)."""
        if not handles:
            return
        body = {"handles": list(handles)}
        broken = problems("feed_commit_request", body)
        if broken:
            raise ValueError(f"feed commit refused before sending: {broken}")
        self._route_call(
            "POST", FEED_PATH, _("the orders feed commit"), FEED_PERMISSION, content=json.dumps(body).encode()
        )

    def _route_call(
        self,
        method: str,
        path: str,
        subject: str,
        permission: str,
        *,
        params: dict[str, str] | None = None,
        content: bytes | None = None,
        passthrough: Collection[int] = (),
        not_found: str | None = None,
    ) -> httpx.Response:
        """A List orders or feed request through the same retries, breaker and limiter as Get order. The feed's
        POSTs are safe to repeat (a commit or the same configuration twice changes nothing more)."""
        return self._with_retries(
            lambda timeout: self._http.request(method, path, params=params, content=content, timeout=timeout),
            key=None,
            to_error=lambda response: _route_error(response, subject, permission, not_found),
            on_transport=lambda exc: _route_transport_error(exc, subject),
            passthrough=passthrough,
        )

    @staticmethod
    def _json(response: httpx.Response, order_id: str) -> Any:
        return _route_json(response, order_id, order_id=order_id)


def vtex_time(moment: datetime) -> str:
    """The form VTEX's List orders filters take: UTC, milliseconds, `Z` (`2022-10-01T03:00:00.000Z`)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def creation_range(created_from: datetime | None, created_to: datetime | None) -> str:
    """`f_creationDate` as VTEX documents it: `creationDate:[FROM TO TO]`, both ends included."""
    low = created_from or EARLIEST
    high = created_to or datetime.now(UTC) + timedelta(days=1)
    return f"creationDate:[{vtex_time(low)} TO {vtex_time(high)}]"


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _count(value: Any, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int | float) and value >= 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return default


def _route_json(response: httpx.Response, subject: str, *, order_id: str | None = None) -> Any:
    content_type = response.headers.get("content-type", "")
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        message = (
            _(
                "VTEX answered {subject} with an HTML page instead of JSON (a login page from a proxy, a wrong "
                "VTEX_BASE_URL, or a cut-off response). Try again; if it persists, check the URL."
            )
            if "html" in content_type or response.text.lstrip()[:1] == "<"
            else _(
                "VTEX answered {subject} with a non-JSON body instead of JSON (a login page from a proxy, a wrong "
                "VTEX_BASE_URL, or a cut-off response). Try again; if it persists, check the URL."
            )
        )
        raise BadResponse(
            message.format(subject=subject),
            order_id=order_id,
            status_code=response.status_code,
        ) from None


def _route_transport_error(exc: Exception, subject: str) -> Unavailable:
    if isinstance(exc, httpx.TimeoutException):
        return Unavailable(
            _("VTEX did not answer in time for {subject}. status.vtex.com shows incidents.").format(subject=subject)
        )
    return Unavailable(
        _("Could not reach VTEX for {subject} ({error}).").format(subject=subject, error=type(exc).__name__)
    )


def _route_error(response: httpx.Response, subject: str, permission: str, not_found: str | None = None) -> VtexError:
    """The typed error for a List orders or feed answer: the same classes as for an order, no order id."""
    missing = RequestRejected(not_found + _said(response), status_code=404) if not_found else None
    return _classify(response, subject, permission, order_id=None, not_found=missing)


def _said(response: httpx.Response) -> str:
    said = _vtex_message(response)
    return " " + _('VTEX said: "{message}"').format(message=said) if said else ""


def _classify(
    response: httpx.Response, subject: str, permission: str, *, order_id: str | None, not_found: VtexError | None
) -> VtexError:
    """One reading of VTEX's status codes for every route; `subject` says what was asked about."""
    status = response.status_code
    if status == 401:
        return Unauthorized(
            _("VTEX refused our app key and token (401). Check VTEX_APP_KEY and VTEX_APP_TOKEN."),
            order_id=order_id,
            status_code=status,
        )
    if status == 403:
        return Forbidden(
            _(
                "The VTEX app key lacks the permission '{permission}' for {subject} (403). Ask a VTEX admin to add it "
                "to the key's role in License Manager."
            ).format(permission=permission, subject=subject),
            permission=permission,
            order_id=order_id,
            status_code=status,
        )
    if status == 404 and not_found is not None:
        return not_found
    if status == 429:
        retry = _retry_after(response)
        message = (
            ngettext(
                "VTEX is rate limiting requests (429) for {subject}. Wait about {n} second and ask again.",
                "VTEX is rate limiting requests (429) for {subject}. Wait about {n} seconds and ask again.",
                round(retry),
            )
            if retry
            else _("VTEX is rate limiting requests (429) for {subject}. Wait a minute and ask again.")
        )
        return RateLimited(
            message.format(subject=subject),
            order_id=order_id,
            status_code=status,
            retry_after=retry,
        )
    if status >= 500:
        return Unavailable(
            _(
                "VTEX answered {status} for {subject}: a problem on VTEX's side. Try again in a minute; "
                "status.vtex.com shows incidents."
            ).format(status=status, subject=subject)
            + _said(response),
            order_id=order_id,
            status_code=status,
        )
    return RequestRejected(
        _("VTEX rejected the request for {subject} ({status}).").format(subject=subject, status=status)
        + _said(response),
        order_id=order_id,
        status_code=status,
    )


def _same_order(asked: str, data: dict[str, Any]) -> bool:
    """Whether VTEX's answer is about the order asked for. A sequence (`seq501456`) legitimately answers
    with the order's own id, so it is checked against the `sequence` field when VTEX sends one."""
    if asked.startswith("seq"):
        sequence = data.get("sequence")
        return sequence is None or str(sequence).lstrip("0") == asked[3:].lstrip("0")
    return str(data["orderId"]).strip().lower() == asked.lower()


def _shown(text: str) -> str:
    """An id VTEX sent, safe to quote in a message: printable, no markup, short."""
    cleaned = "".join(ch for ch in text if ch.isprintable() and ch not in "<>&`*_~|")
    return cleaned[:40] + ("…" if len(cleaned) > 40 else "")


def _transport_error(exc: Exception, order_id: str) -> Unavailable:
    if isinstance(exc, httpx.TimeoutException):
        text = _(
            "VTEX did not answer in time for {order_id}. Try again in a minute; status.vtex.com shows incidents."
        ).format(order_id=order_id)
    else:
        text = _("Could not reach VTEX for {order_id} ({error}). Try again in a minute.").format(
            order_id=order_id, error=type(exc).__name__
        )
    return Unavailable(text, order_id=order_id)


def _vtex_message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ""
    if isinstance(data, dict):
        err = data.get("error")
        message = err.get("message") if isinstance(err, dict) else data.get("message") or err
        if isinstance(message, str):
            cleaned = "".join(ch for ch in message if ch.isprintable() and ch not in "<>&")[:200]
            return cleaned.replace("`", "'")
    return ""


def _status_error(response: httpx.Response, order_id: str, permission: str) -> VtexError:
    missing = OrderNotFound(
        _(
            "Order {order_id} was not found in VTEX (404). Check the id: orders older than two years cannot be "
            "read, and a marketplace's id differs from the seller's."
        ).format(order_id=order_id),
        order_id=order_id,
        status_code=404,
    )
    return _classify(response, order_id, permission, order_id=order_id, not_found=missing)


def _raise_for_status(response: httpx.Response, order_id: str, permission: str) -> None:
    raise _status_error(response, order_id, permission)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def vtex_client(settings: Any, sandbox: bool = False) -> VtexClient:
    """The client for these settings: VTEX itself, or the built-in sandbox store in memory."""
    if sandbox:
        from bot.sandbox import SANDBOX_ACCOUNT, SANDBOX_URL, sandbox_store

        return VtexClient(SANDBOX_URL, account=SANDBOX_ACCOUNT, transport=sandbox_store().transport())
    settings.check_vtex()
    return VtexClient.from_settings(settings)
