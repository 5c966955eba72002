"""The invoice notification VTEX expects, built from an order and checked before it is sent."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.order import Order, Package

# Letters, digits and '-' only: VTEX accepts '/', spaces and symbols, then the order never reaches
# Invoiced and tracking calls fail (several known issues), so we refuse them up front.
INVOICE_NUMBER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?$")
INVOICE_KEY = re.compile(r"^[A-Za-z0-9]{1,100}$")


class InvalidInvoice(ValueError):
    """The invoice would be refused or would break the order flow; `field` names the culprit."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class InvoiceItem:
    id: str
    price: int  # unit price in cents; VTEX multiplies by quantity
    quantity: int
    description: str | None = None


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
    cfop: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "issuanceDate": self.issuance_date.isoformat(),
            "invoiceNumber": self.invoice_number,
            "invoiceValue": self.invoice_value,
            "invoiceKey": self.invoice_key,
            "invoiceUrl": self.invoice_url,
            "courier": self.courier or "",
            "trackingNumber": self.tracking_number or "",
            "trackingUrl": self.tracking_url or "",
            "items": [
                {
                    k: v
                    for k, v in {
                        "id": i.id,
                        "price": i.price,
                        "quantity": i.quantity,
                        "description": i.description,
                    }.items()
                    if v is not None
                }
                for i in self.items
            ],
        }
        if self.embedded_invoice:
            body["embeddedInvoice"] = self.embedded_invoice
        if self.cfop:
            body["cfop"] = self.cfop
        return body


@dataclass(frozen=True)
class InvoiceReceipt:
    order_id: str
    receipt: str
    date: str | None = None


def check_invoice_number(number: str, order: Order) -> str:
    number = (number or "").strip()
    if not number:
        raise InvalidInvoice("number", "Enter the invoice number from your ERP.")
    if not INVOICE_NUMBER.match(number):
        raise InvalidInvoice("number", "Use only letters, digits and '-' (no spaces, '/' or other symbols).")
    if number.lower() in {n.lower() for n in order.invoice_numbers}:
        raise InvalidInvoice("number", f"Invoice {number} is already on this order; a new invoice needs a new number.")
    return number


def resend_request(package: Package, order: Order) -> InvoiceRequest:
    """The same Output invoice again: VTEX treats a known number as a re-notification."""
    if package.issuance_date is None:
        raise InvalidInvoice("date", f"Invoice {package.invoice_number} has no issuance date to resend.")
    return InvoiceRequest(
        invoice_number=package.invoice_number,
        invoice_value=package.invoice_value,
        issuance_date=package.issuance_date,
        items=[_package_item(order, p.item_index, p.quantity, p.price, p.description) for p in package.items],
        type="Output",
        invoice_key=package.invoice_key,
        invoice_url=package.invoice_url,
        courier=package.courier,
        tracking_number=package.tracking_number,
        tracking_url=package.tracking_url,
        embedded_invoice=package.embedded_invoice,
        cfop=package.cfop,
    )


def _package_item(order: Order, index: int, quantity: int, price: int, description: str | None) -> InvoiceItem:
    item = order.items[index] if 0 <= index < len(order.items) else None
    return InvoiceItem(id=item.id if item else str(index), price=price, quantity=quantity, description=description)


def uninvoiced_items(order: Order) -> list[InvoiceItem]:
    """Items (by SKU) not yet covered by Output invoices, at their unit selling price.

    VTEX recommends sending items with every invoice to avoid rounding errors.
    """
    invoiced: dict[int, int] = {}
    for package in order.output_invoices:
        for p in package.items:
            invoiced[p.item_index] = invoiced.get(p.item_index, 0) + p.quantity
    items = []
    for index, item in enumerate(order.items):
        left = item.quantity - invoiced.get(index, 0)
        if left > 0:
            items.append(InvoiceItem(id=item.id, price=item.unit_price, quantity=left))
    return items


def partial_request(
    order: Order,
    *,
    number: str,
    value: int,
    issuance_date: datetime,
    invoice_key: str | None = None,
    invoice_url: str | None = None,
) -> InvoiceRequest:
    """A new Output invoice of `value` cents, checked against the order as it is now."""
    number = check_invoice_number(number, order)
    missing = order.missing
    if value <= 0:
        raise InvalidInvoice("value", "The value must be greater than zero.")
    if value > missing:
        raise InvalidInvoice("value", f"The value cannot exceed the missing amount, {order.money(max(missing, 0))}.")
    if issuance_date.tzinfo is None:
        raise InvalidInvoice("date", "The issuance date needs a time zone.")
    key = (invoice_key or "").strip() or None
    if key and not INVOICE_KEY.match(key):
        raise InvalidInvoice("key", "The invoice key holds only letters and digits (up to 100).")
    url = (invoice_url or "").strip() or None
    if url and (not re.match(r"^https?://[^\s]+$", url) or len(url) > 2000):
        raise InvalidInvoice("url", "The invoice URL must start with http:// or https:// and have no spaces.")
    return InvoiceRequest(
        invoice_number=number,
        invoice_value=value,
        issuance_date=issuance_date,
        items=uninvoiced_items(order),
        invoice_key=key,
        invoice_url=url,
    )
