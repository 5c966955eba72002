"""Everything Slack carries back to us, as typed models: button values, form references, form state.

A card stays in a channel for months, so what a button carries is versioned: version 2 uses readable
names (`{"v":2,"order":…,"kind":…}`); cards from before it (one-letter keys, no version) are still
read, and anything else is refused with a message, never misread. A modal carries only a short key
in `private_metadata`; its state lives in the database (bot/forms.py) as a `FormState`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import InvalidOrderId
from bot.invoices import INVOICE_NUMBER, InvoiceItem, OpenLine, PartialDraft
from bot.money import Currency
from bot.order_ids import validate_order_id

VERSION = 2
ActionKind = Literal["resend_invoice", "add_partial_invoice"]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def dumps(self) -> str:
        return json.dumps({"v": VERSION, **self.model_dump(exclude_none=True)}, separators=(",", ":"))


class ButtonValue(_Payload):
    order: str
    kind: ActionKind
    amount: int = Field(ge=0, le=10**15)  # cents the card offered
    number: str | None = None  # the invoice to resend

    @field_validator("order")
    @classmethod
    def _real_order_id(cls, value: str) -> str:
        return validate_order_id(value)

    @field_validator("number")
    @classmethod
    def _safe_number(cls, value: str | None) -> str | None:
        if value is not None and not INVOICE_NUMBER.match(value):
            raise ValueError("not an invoice number")
        return value


class FormRef(_Payload):
    form: str = Field(min_length=8, max_length=64)
    review: str | None = Field(default=None, max_length=64)  # the digest of the body a review screen showed


def read_button(raw: str | None, kind: ActionKind) -> ButtonValue | None:
    """The button's payload, or None when it was tampered with or cannot be read."""
    data = _json(raw)
    if data is None:
        return None
    if "v" not in data and "o" in data:  # cards posted before version 2
        data = {"v": VERSION, "order": data.get("o"), "amount": data.get("a"), "number": data.get("n"), "kind": kind}
    if data.pop("v", None) != VERSION:
        return None
    try:
        value = ButtonValue.model_validate({**data, "kind": data.get("kind", kind)})
    except (ValidationError, InvalidOrderId):
        return None
    return value if value.kind == kind else None


def read_form_ref(raw: str | None) -> FormRef | None:
    data = _json(raw)
    if data is None or data.pop("v", None) != VERSION:
        return None
    try:
        return FormRef.model_validate(data)
    except ValidationError:
        return None


def _json(raw: str | None) -> dict[str, Any] | None:
    try:
        data = json.loads(raw or "")
    except (ValueError, TypeError):
        return None
    return data if isinstance(data, dict) else None


# -- the partial-invoice form's state, kept server-side ----------------------------------------------


class ReplyTarget(BaseModel):
    """Where an action's outcome goes: the card's response_url, else chat.update on channel + ts."""

    response_url: str | None = None
    channel: str | None = None
    ts: str | None = None


class CurrencyState(BaseModel):
    symbol: str
    code: str = ""
    decimal_digits: int
    decimal_separator: str
    group_separator: str
    group_size: int = 3
    symbol_first: bool = True

    @classmethod
    def of(cls, currency: Currency) -> CurrencyState:
        return cls(**currency.__dict__)

    def currency(self) -> Currency:
        return Currency(**self.model_dump())


class LineState(BaseModel):
    index: int
    sku: str
    name: str
    price: int
    quantity: int

    @classmethod
    def of(cls, line: OpenLine) -> LineState:
        return cls(index=line.index, sku=line.sku, name=line.name, price=line.price, quantity=line.quantity)


class Reviewed(BaseModel):
    """What the operator reviewed: exactly what will be posted, and how it was chosen."""

    number: str
    value: int | None
    issued: datetime | None
    quantities: list[int]  # per line of FormState.lines
    include_other: bool
    key: str | None = None
    url: str | None = None
    posted_value: int  # the invoiceValue the review showed


class FormState(BaseModel):
    order_id: str
    full: bool  # the order has no invoice yet
    missing: int
    total: int
    currency: CurrencyState
    zone: str
    order_json: dict[str, Any]  # the order as read when the form opened: the rules run on it
    lines: list[LineState]
    other: int  # shipping and fees owed beyond the open items
    reply: ReplyTarget
    reviewed: Reviewed | None = None
    language: str = "en"  # the form's language: its errors, review and outcome speak it too

    def draft(self, reviewed: Reviewed) -> PartialDraft:
        items = tuple(
            InvoiceItem(line.sku, line.price, qty, line.index)
            for line, qty in zip(self.lines, reviewed.quantities, strict=True)
            if qty
        )
        return PartialDraft(
            number=reviewed.number,
            issuance_date=reviewed.issued,
            items=items,
            include_other=reviewed.include_other,
            value=reviewed.value,
            invoice_key=reviewed.key,
            invoice_url=reviewed.url,
        )
