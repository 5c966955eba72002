"""One exception tree for everything VTEX can answer, in the style of httpx's.

    VtexError
    ├── InvalidOrderId        the id was refused before any request was made
    ├── OrderNotFound         404
    ├── VtexAuthError
    │   ├── Unauthorized      401: the app key pair is wrong or missing
    │   └── Forbidden         403: the key's role lacks an OMS permission
    ├── RateLimited           429 after the retry budget
    ├── Unavailable           5xx, timeouts, refused connections, our circuit breaker
    ├── BadResponse           a body that is not the JSON VTEX documents (HTML login pages, truncation)
    │   └── WrongOrder        an order other than the one asked for (a proxy or cache mixing answers up)
    └── RequestRejected       any other 4xx, such as a 400 on an invoice body

Each error carries the order id and a sentence a support agent can act on (`str(error)`), plus a
short `title` for card headers. Credentials never appear in any of them.
"""

from __future__ import annotations

from bot.i18n import N_


class VtexError(Exception):
    title = N_("VTEX error")
    # Set on errors of the invoice POST after which VTEX may have stored the invoice anyway.
    maybe_delivered = False

    def __init__(self, message: str, *, order_id: str | None = None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.order_id = order_id
        self.status_code = status_code

    def __str__(self) -> str:
        return self.message

    def with_delivery_unknown(self) -> VtexError:
        self.maybe_delivered = True
        return self


class InvalidOrderId(VtexError, ValueError):
    title = N_("That is not a VTEX order id")


class OrderNotFound(VtexError):
    title = N_("Order not found")


class VtexAuthError(VtexError):
    title = N_("VTEX refused our credentials")


class Unauthorized(VtexAuthError):
    title = N_("VTEX refused our credentials")


class Forbidden(VtexAuthError):
    title = N_("Missing VTEX permission")

    def __init__(self, message: str, *, permission: str, **kwargs: object):
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.permission = permission


class RateLimited(VtexError):
    title = N_("VTEX is rate limiting us")

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object):
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class Unavailable(VtexError):
    title = N_("VTEX is unavailable")

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object):
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class BadResponse(VtexError):
    title = N_("VTEX sent an unexpected answer")


class WrongOrder(BadResponse):
    title = N_("VTEX answered for another order")


class RequestRejected(VtexError):
    title = N_("VTEX rejected the request")
