"""VTEX Order Management client: one keep-alive httpx.Client, typed errors, bounded retries.

Reads are retried (429 honouring Retry-After, 502/503/504 and connection errors with exponential
backoff and jitter) inside a total time budget. The invoice POST is never retried here: after a
timeout or 5xx nobody knows whether VTEX stored the invoice, so the caller re-reads the order.
A circuit breaker stops hammering VTEX during an outage.
"""

from __future__ import annotations

import email.utils
import json
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr, ValidationError

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
from bot.invoices import INVOICE_NUMBER, InvalidInvoice, InvoiceReceipt, InvoiceRequest
from bot.order import Order, parse_order
from bot.order_ids import validate_order_id

RETRY_STATUSES = {502, 503, 504}
VIEW_PERMISSION = "OMS › View order"
INVOICE_PERMISSION = "OMS › Notify invoice"


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
                raise self._error(order_id, f"{remaining:.0f} s are left", remaining)
            if self.probe_since is not None and now - self.probe_since < self.probe_timeout:
                raise self._error(order_id, "that call is under way", 5.0)
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

    def _error(self, order_id: str | None, progress: str, retry_after: float) -> Unavailable:
        return Unavailable(
            f"VTEX failed for {self.opened_for} different orders in the last {self.window:.0f} seconds, so the bot "
            f"paused its calls to VTEX for {self.cooldown:.0f} s and then tries one ({progress}). "
            "status.vtex.com shows incidents.",
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
                f"VTEX answered for {order_id} without order data. Check VTEX_BASE_URL points at the OMS API.",
                order_id=order_id,
                status_code=response.status_code,
            )
        if not _same_order(order_id, data):
            raise WrongOrder(
                f"Asked about {order_id}, VTEX answered for another order ({_shown(data['orderId'])}), so nothing "
                "is shown or offered for it. Try again; if it persists, a proxy or cache in front of VTEX "
                "(VTEX_BASE_URL) is mixing up answers.",
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
                f"VTEX sent order {order_id} with a malformed field `{loc}`.", order_id=order_id
            ) from None

    def _get_with_retries(self, path: str, order_id: str) -> httpx.Response:
        deadline = self.clock() + self.budget
        attempt = 0
        while True:
            attempt += 1
            self.breaker.before_call(order_id)
            remaining = deadline - self.clock()
            try:
                response = self._http.get(path, timeout=httpx.Timeout(max(min(self.timeout, remaining), 0.1)))
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                self.breaker.record(False, order_id)
                error: VtexError = _transport_error(exc, order_id)
                retry_after = None
            else:
                # Anything but a 5xx shows VTEX is up (a 429 means busy, a 4xx is about this request).
                self.breaker.record(response.status_code < 500, order_id)
                if response.status_code < 400:
                    return response
                retry_after = _retry_after(response)
                if response.status_code != 429 and response.status_code not in RETRY_STATUSES:
                    _raise_for_status(response, order_id, VIEW_PERMISSION)
                error = _status_error(response, order_id, VIEW_PERMISSION)
            wait = min(self.backoff * 2 ** (attempt - 1), 4.0) * (0.5 + self.jitter() / 2)
            if retry_after is not None:
                wait = max(wait, retry_after)
            if attempt >= self.max_attempts or self.clock() + wait >= deadline or self.breaker.blocked():
                raise error
            self.sleep(wait)

    # -- the invoice ---------------------------------------------------------------------------

    def notify_invoice(self, order_id: str, invoice: InvoiceRequest) -> InvoiceReceipt:
        """POST once. On a timeout or 5xx raise Unavailable with `maybe_delivered` set: re-read first."""
        order_id = validate_order_id(order_id)
        if not INVOICE_NUMBER.match(invoice.invoice_number):
            raise InvalidInvoice("number", "Use only letters, digits and '-' in the invoice number.")
        self.breaker.before_call(order_id)
        path = f"/api/oms/pvt/orders/{quote(order_id, safe='')}/invoice"
        try:
            response = self._http.post(path, content=json.dumps(invoice.to_json()).encode())
        except httpx.TimeoutException:
            self.breaker.record(False, order_id)
            raise Unavailable(
                f"VTEX did not answer the invoice for {order_id} in time; it may or may not have been stored.",
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
                f"VTEX accepted the invoice for {order_id} but sent no receipt.", order_id=order_id
            ).with_delivery_unknown()
        return InvoiceReceipt(
            order_id=str(data.get("orderId") or order_id),
            receipt=receipt,
            date=str(data.get("date") or datetime.now(UTC).isoformat()),
        )

    @staticmethod
    def _json(response: httpx.Response, order_id: str) -> Any:
        content_type = response.headers.get("content-type", "")
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            what = "an HTML page" if "html" in content_type or response.text.lstrip()[:1] == "<" else "a non-JSON body"
            raise BadResponse(
                f"VTEX answered {order_id} with {what} instead of JSON (a login page from a proxy, a wrong "
                "VTEX_BASE_URL, or a cut-off response). Try again; if it persists, check the URL.",
                order_id=order_id,
                status_code=response.status_code,
            ) from None


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
        text = f"VTEX did not answer in time for {order_id}. Try again in a minute; status.vtex.com shows incidents."
    else:
        text = f"Could not reach VTEX for {order_id} ({type(exc).__name__}). Try again in a minute."
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
    status = response.status_code
    said = _vtex_message(response)
    detail = f' VTEX said: "{said}"' if said else ""
    if status == 401:
        return Unauthorized(
            "VTEX refused our app key and token (401). Check VTEX_APP_KEY and VTEX_APP_TOKEN.",
            order_id=order_id,
            status_code=status,
        )
    if status == 403:
        return Forbidden(
            f"The VTEX app key lacks the permission '{permission}' (403). Ask a VTEX admin to add it to the "
            "key's role in License Manager.",
            permission=permission,
            order_id=order_id,
            status_code=status,
        )
    if status == 404:
        return OrderNotFound(
            f"Order {order_id} was not found in VTEX (404). Check the id: orders older than two years cannot be "
            "read, and a marketplace's id differs from the seller's.",
            order_id=order_id,
            status_code=status,
        )
    if status == 429:
        retry = _retry_after(response)
        when = f" about {retry:.0f} seconds" if retry else " a minute"
        return RateLimited(
            f"VTEX is rate limiting requests (429). Wait{when} and ask again.",
            order_id=order_id,
            status_code=status,
            retry_after=retry,
        )
    if status >= 500:
        return Unavailable(
            f"VTEX answered {status} for {order_id}: a problem on VTEX's side. Try again in a minute; "
            f"status.vtex.com shows incidents.{detail}",
            order_id=order_id,
            status_code=status,
        )
    return RequestRejected(
        f"VTEX rejected the request for {order_id} ({status}).{detail}", order_id=order_id, status_code=status
    )


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
