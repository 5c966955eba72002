"""The invoice notifications the bot can post, and every rule they must pass first.

Nothing here is invented: the number, the date and the key come from the operator (who copies them
from the ERP's fiscal document); items, prices and amounts come from the order VTEX sent. Each body
validates against the request schema of VTEX's "Order invoice notification" (bot/contract.py) before
it can be posted.

Problems are keyed by the form field they belong to (`number`, `items`, `value`, `date`, `key`,
`url`), so the Slack modal can show each under its field and every other caller gets the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.contract import invoice_problems
from bot.i18n import _
from bot.order import Order, Package

# Letters, digits and '-' only: VTEX accepts '/', spaces and symbols, then the order never reaches
# Invoiced and tracking calls fail (several known issues), so we refuse them up front.
INVOICE_NUMBER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?$")
INVOICE_KEY = re.compile(r"^[A-Za-z0-9]{1,100}$")
NFE_KEY = re.compile(r"^\d{44}$")
INVOICE_URL = re.compile(r"^https?://[^\s<>|]+$")
MAX_URL = 2000

Problems = dict[str, str]


class InvalidInvoice(ValueError):
    """The invoice would be refused or would break the order flow; `field` names the culprit."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field

    @classmethod
    def first_of(cls, problems: Problems) -> InvalidInvoice:
        name, message = next(iter(problems.items()))
        return cls(name, message)


@dataclass(frozen=True)
class InvoiceItem:
    id: str  # the SKU id VTEX expects
    price: int  # unit price in cents; VTEX multiplies by quantity
    quantity: int
    index: int | None = None  # the order item it invoices; never sent

    @property
    def total(self) -> int:
        return self.price * self.quantity


@dataclass(frozen=True)
class InvoiceRequest:
    invoice_number: str
    invoice_value: int
    issuance_date: datetime
    items: list[InvoiceItem] = field(default_factory=list)
    type: str = "Output"
    invoice_key: str | None = None
    invoice_url: str | None = None
    courier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    embedded_invoice: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The body VTEX documents: `invoiceValue` a string of cents, items as id/price/quantity only."""
        body: dict[str, Any] = {
            "type": self.type,
            "issuanceDate": self.issuance_date.isoformat(),
            "invoiceNumber": self.invoice_number,
            "invoiceValue": str(self.invoice_value),
            "invoiceKey": self.invoice_key,
            "invoiceUrl": self.invoice_url,
            "courier": self.courier or "",
            "trackingNumber": self.tracking_number or "",
            "trackingUrl": self.tracking_url or "",
            "items": [{"id": i.id, "price": i.price, "quantity": i.quantity} for i in self.items],
        }
        if self.embedded_invoice:
            body["embeddedInvoice"] = self.embedded_invoice
        broken = invoice_problems(body)
        if broken:
            raise InvalidInvoice(
                "payload", _("The invoice does not match VTEX's published format: {problem}").format(problem=broken[0])
            )
        return body

    @property
    def items_total(self) -> int:
        return sum(i.total for i in self.items)


@dataclass(frozen=True)
class InvoiceReceipt:
    order_id: str
    receipt: str
    date: str | None = None


# -- what is still open on the order ---------------------------------------------------------------


@dataclass(frozen=True)
class OpenLine:
    """Units of one order item not yet on an Output invoice, at one of VTEX's unit prices."""

    index: int
    sku: str
    name: str
    price: int
    quantity: int

    @property
    def total(self) -> int:
        return self.price * self.quantity

    def item(self, quantity: int | None = None) -> InvoiceItem:
        return InvoiceItem(self.sku, self.price, self.quantity if quantity is None else quantity, self.index)


def open_lines(order: Order) -> list[OpenLine]:
    """Every unit not yet invoiced, priced as VTEX split it (priceDefinition) where it did.

    An invoice names items by SKU, and VTEX records them against one of the order's lines; when two lines
    share a SKU (a promotion, a gift) it may pick either. So invoiced units are taken off every line of
    that SKU: first the line VTEX named at the same price, then any line at that price, then the rest."""
    tiers = [
        _Tier(index, item.id, price, units)
        for index, item in enumerate(order.items)
        for price, units in item.unit_prices
    ]
    for package in order.output_invoices:
        for p in package.items:
            if 0 <= p.item_index < len(order.items):
                _consume(tiers, p.item_index, order.items[p.item_index].id, p.price, p.quantity)
    return [OpenLine(t.index, t.sku, order.items[t.index].name, t.price, t.units) for t in tiers if t.units > 0]


@dataclass
class _Tier:
    index: int
    sku: str
    price: int
    units: int


def _consume(tiers: list[_Tier], index: int, sku: str, price: int, units: int) -> None:
    same_sku = [t for t in tiers if t.sku == sku]
    for tier in sorted(same_sku, key=lambda t: (t.price != price, t.index != index)):
        taken = min(tier.units, units)
        tier.units -= taken
        units -= taken


def other_owed(order: Order) -> int:
    """What may be invoiced beyond the open items: shipping, fees, taxes still owed.

    When the items still open are worth more than what is missing (the invoices on the order already
    count more than their own items), the whole missing amount may go without items instead."""
    missing = max(order.missing, 0)
    goods = sum(line.total for line in open_lines(order))
    return missing - goods if goods <= missing else missing


# -- the checks --------------------------------------------------------------------------------------


def check_number(number: str, order: Order) -> str | None:
    number = (number or "").strip()
    if not number:
        return _("Enter the invoice number of the fiscal document your ERP issued.")
    if not INVOICE_NUMBER.match(number):
        return _("Use only letters, digits and '-' (no spaces, '/' or other symbols), up to 50.")
    if number.lower() in {n.lower() for n in order.invoice_numbers}:
        return _("Invoice {invoice_number} is already on this order; a new invoice needs its own number.").format(
            invoice_number=number
        )
    return None


def check_date(issued: datetime | None, now: datetime) -> str | None:
    if issued is None:
        return _("Enter the issuance date and time printed on the invoice.")
    if issued.tzinfo is None:
        return _("The issuance date needs a time zone.")
    if issued > now:
        return _("The issuance date cannot be in the future.")
    return None


def check_key(key: str | None, order: Order) -> str | None:
    if not key:
        return None
    if order.currency.code == "BRL":
        if not NFE_KEY.match(key):
            return _("An NF-e access key has exactly 44 digits.")
        if not nfe_check_digit_ok(key):
            return _("This NF-e access key's last digit does not match the others: check for a typo.")
        return None
    if not INVOICE_KEY.match(key):
        return _("The invoice key holds only letters and digits (up to 100).")
    return None


def nfe_check_digit_ok(key: str) -> bool:
    """The 44th digit of an NF-e key is a modulo-11 check over the first 43 (weights 2..9 from the right)."""
    total = sum(int(d) * (2 + i % 8) for i, d in enumerate(reversed(key[:43])))
    digit = 11 - total % 11
    return int(key[43]) == (0 if digit >= 10 else digit)


def check_url(url: str | None) -> str | None:
    if url and (not INVOICE_URL.match(url) or len(url) > MAX_URL):
        return _("Enter a full http:// or https:// address without spaces (up to 2000 characters).")
    return None


# -- the partial (or first, full) invoice -----------------------------------------------------------


@dataclass(frozen=True)
class PartialDraft:
    """What the operator chose on the form: items and quantities, the shipping still owed, the rest."""

    number: str
    issuance_date: datetime | None
    items: tuple[InvoiceItem, ...]
    include_other: bool
    value: int | None = None  # None: the value follows from the choice
    invoice_key: str | None = None
    invoice_url: str | None = None


def check_items(order: Order, chosen: tuple[InvoiceItem, ...]) -> str | None:
    """Each chosen quantity must still be open on the order, at the same unit price."""
    left = {(line.index, line.price): line.quantity for line in open_lines(order)}
    for item in chosen:
        key = (item.index if item.index is not None else -1, item.price)
        if item.quantity < 0:
            return _("Quantities cannot be negative.")
        if item.quantity > left.get(key, 0):
            return _("SKU {sku}: only {open} unit(s) at {price} are not yet invoiced; {chosen} chosen.").format(
                sku=item.id, open=left.get(key, 0), price=order.money(item.price), chosen=item.quantity
            )
        left[key] = left.get(key, 0) - item.quantity
    return None


def value_ceiling(order: Order, chosen: tuple[InvoiceItem, ...], include_other: bool) -> int:
    """The most this invoice may claim: the chosen goods plus, if chosen, what else is owed."""
    goods = sum(i.total for i in chosen)
    return min(goods + (other_owed(order) if include_other else 0), max(order.missing, 0))


def check_value(order: Order, value: int, chosen: tuple[InvoiceItem, ...], include_other: bool) -> str | None:
    goods = sum(i.total for i in chosen)
    missing = max(order.missing, 0)
    if value <= 0:
        return _("The value must be greater than zero: choose at least one item or the shipping still owed.")
    if value > missing:
        return _("The value cannot exceed what is missing, {missing}.").format(missing=order.money(missing))
    if goods > value:
        return _(
            "The items you chose add up to {goods}, more than the value {value}: remove an item or lower a quantity."
        ).format(goods=order.money(goods), value=order.money(value))
    ceiling = value_ceiling(order, chosen, include_other)
    if value > ceiling:
        return _("At most {ceiling} for the items and shipping you chose.").format(ceiling=order.money(ceiling))
    return None


def check_partial(order: Order, draft: PartialDraft, now: datetime) -> tuple[InvoiceRequest | None, Problems]:
    """The request for this draft against the order as it is now, or the problems, keyed by field."""
    chosen = tuple(i for i in draft.items if i.quantity != 0)
    problems: Problems = {}
    number = (draft.number or "").strip()
    checks = {
        "number": check_number(number, order),
        "items": check_items(order, chosen),
        "date": check_date(draft.issuance_date, now),
        "key": check_key(draft.invoice_key, order),
        "url": check_url(draft.invoice_url),
    }
    problems.update({k: v for k, v in checks.items() if v})
    value = draft.value if draft.value is not None else value_ceiling(order, chosen, draft.include_other)
    if "items" not in problems:
        value_problem = check_value(order, value, chosen, draft.include_other)
        if value_problem:
            problems["value"] = value_problem
    if problems:
        return None, problems
    assert draft.issuance_date is not None
    return (
        InvoiceRequest(
            invoice_number=number,
            invoice_value=value,
            issuance_date=draft.issuance_date,
            items=list(chosen),
            invoice_key=draft.invoice_key or None,
            invoice_url=draft.invoice_url or None,
        ),
        {},
    )


def partial_request(order: Order, draft: PartialDraft, now: datetime) -> InvoiceRequest:
    request, problems = check_partial(order, draft, now)
    if request is None:
        raise InvalidInvoice.first_of(problems)
    return request


def whole_draft(order: Order, *, number: str, issuance_date: datetime | None) -> PartialDraft:
    """Every open unit plus everything else owed (or, when the open units are worth more than what is
    missing, the missing amount without items): the form's starting point."""
    lines = open_lines(order)
    fits = sum(line.total for line in lines) <= max(order.missing, 0)
    return PartialDraft(
        number=number,
        issuance_date=issuance_date,
        items=tuple(line.item() if fits else line.item(0) for line in lines),
        include_other=True,
    )


# -- resending an invoice VTEX already has ------------------------------------------------------------


def resend_request(package: Package, order: Order) -> InvoiceRequest:
    """The same Output invoice again: VTEX treats a known number as a re-notification."""
    if package.issuance_date is None:
        raise InvalidInvoice(
            "date",
            _("Invoice {invoice_number} has no issuance date to resend.").format(invoice_number=package.invoice_number),
        )
    if package.invoice_value <= 0:
        raise InvalidInvoice(
            "value", _("Invoice {invoice_number} has no value to resend.").format(invoice_number=package.invoice_number)
        )
    items = []
    for p in package.items:
        if not 0 <= p.item_index < len(order.items):
            raise InvalidInvoice(
                "items",
                _("Invoice {invoice_number} lists an item the order does not have (index {index}).").format(
                    invoice_number=package.invoice_number, index=p.item_index
                ),
            )
        items.append(InvoiceItem(order.items[p.item_index].id, p.price, p.quantity, p.item_index))
    return InvoiceRequest(
        invoice_number=package.invoice_number,
        invoice_value=package.invoice_value,
        issuance_date=package.issuance_date,
        items=items,
        type="Output",
        invoice_key=package.invoice_key,
        invoice_url=package.invoice_url,
        courier=package.courier,
        tracking_number=package.tracking_number,
        tracking_url=package.tracking_url,
        embedded_invoice=package.embedded_invoice,
    )
